import { readFileSync } from 'node:fs';
import { loadConfig } from '../../config/env';
import { checkIssuer } from './issuer';
import { checkChannels, checkSessionFiles, checkStore, checkVendor } from './local';
import { type DoctorCheck, type DoctorContext, fail, ok } from './types';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A JSON file of plane options; environment variables win over it, as for the plane. */
  readonly configFile?: string;
  /** Deadline of each network call. Default 5 000 ms. */
  readonly timeoutMs?: number;
  /** Test seam: this machine's clock, epoch milliseconds. */
  readonly now?: () => number;
}

/**
 * Runs every check and returns them in order. Never throws for a bad configuration: that is a failed check.
 *
 * @example
 * ```ts
 * const checks = await runDoctor({ env: process.env });
 * const exitCode = checks.some((c) => c.status === 'fail') ? 1 : 0;
 * ```
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let config: Record<string, unknown> = {};
  try {
    const file = options.configFile
      ? (JSON.parse(readFileSync(options.configFile, 'utf8')) as Record<string, unknown>)
      : {};
    config = { ...file, ...(loadConfig(options.env) as Record<string, unknown>) };
    checks.push(ok('config', `provider ${String(config.provider ?? 'oidc')}`));
  } catch (err) {
    checks.push(fail('config', (err as Error).message, 'fix the named variable or field'));
    return checks;
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ctx: DoctorContext = {
    config,
    env: options.env,
    fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' }),
    now: options.now ?? Date.now,
  };
  checks.push(...(await checkIssuer(ctx)));
  const store = await checkStore(ctx);
  if (store) checks.push(store);
  checks.push(...(await checkChannels(ctx)));
  checks.push(...(await checkVendor(ctx)));
  checks.push(checkSessionFiles(ctx));
  return checks;
}
