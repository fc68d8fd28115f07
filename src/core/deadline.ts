/**
 * The deadline every application hook gets by default (membership directories, legacy key tables,
 * first-sight link lookups, the authorizer's `isMember`): 2 seconds.
 *
 * @example
 * ```ts
 * createApiKeys({ store, prefix: 'ap_live', isMember, hookTimeoutMs: DEFAULT_HOOK_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_HOOK_TIMEOUT_MS = 2000;

/**
 * The error a hook that missed its deadline rejects with. Callers turn it (like any hook failure)
 * into `provider_unavailable`, never an accept and never a wait without end.
 *
 * @example
 * ```ts
 * if (err instanceof HookTimeoutError) metrics.hookTimeouts.add(1);
 * ```
 */
export class HookTimeoutError extends Error {
  constructor(
    readonly hook: string,
    readonly timeoutMs: number,
  ) {
    super(`${hook} did not answer within ${timeoutMs} ms`);
    this.name = 'HookTimeoutError';
  }
}

/**
 * Runs an application hook with a deadline: the returned promise settles within `timeoutMs` whatever
 * the hook does (a synchronous throw, a rejection, or a promise that never settles). The hook gets an
 * `AbortSignal` that aborts at the deadline so it can stop its own work; the timer never keeps the
 * process alive.
 *
 * @throws HookTimeoutError at the deadline; the hook's own error otherwise.
 * @example
 * ```ts
 * const member = await withDeadline('isMember', 2000, (signal) => directory.has(user, org, { signal }));
 * ```
 */
export async function withDeadline<T>(
  hook: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => T | Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new HookTimeoutError(hook, timeoutMs);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([Promise.resolve().then(() => run(controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a hook deadline option: a positive safe integer of milliseconds, at most 60 s.
 *
 * @example
 * ```ts
 * isHookTimeout(2000); // true
 * ```
 */
export function isHookTimeout(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= 60_000;
}
