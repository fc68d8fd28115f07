/**
 * The outcome of one `authplane doctor` check: `ok`, `warn` (works, but look at it) or `fail` (will not
 * work). `fix` says what to do; neither field ever contains a secret.
 *
 * @example
 * ```ts
 * const check: DoctorCheck = { name: 'jwks', status: 'fail', message: 'no key', fix: 'publish a key' };
 * ```
 */
export interface DoctorCheck {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
  readonly fix?: string;
}

/**
 * What every check module gets: the merged configuration, the environment, and a fetch with a deadline.
 *
 * @example
 * ```ts
 * const checks = await checkIssuer(context);
 * ```
 */
export interface DoctorContext {
  readonly config: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** fetch with the doctor's deadline on every call. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Epoch milliseconds (test seam). */
  now(): number;
}

/** Shorthands for the three outcomes. */
export const ok = (name: string, message: string): DoctorCheck => ({ name, status: 'ok', message });
export const warn = (name: string, message: string, fix: string): DoctorCheck => ({
  name,
  status: 'warn',
  message,
  fix,
});
export const fail = (name: string, message: string, fix: string): DoctorCheck => ({
  name,
  status: 'fail',
  message,
  fix,
});

/** A short, secret-free description of a caught error. */
export function why(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  const code =
    typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.code === 'string' ? e.code : null;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return code ?? (typeof e?.name === 'string' ? e.name : 'error');
}
