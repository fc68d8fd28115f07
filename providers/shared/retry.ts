// Bounded retries and a bounded cache shared by the vendor adapters (auth0, clerk). No vendor SDK here.

/**
 * Options of {@link withRetries}.
 *
 * @example
 * ```ts
 * const options: RetryOptions = { maxRetries: 1, deadline: Date.now() + 5000, retryable: (e) => isOutage(e) };
 * ```
 */
export interface RetryOptions {
  /** Retries after the first attempt (0 = one attempt). */
  readonly maxRetries: number;
  /** Epoch ms after which no retry starts (the caller's overall timeout). */
  readonly deadline: number;
  /** Whether an error is worth another attempt (outages: 429, 5xx, network); others are thrown at once. */
  readonly retryable: (err: unknown) => boolean;
  /** Server-requested delay in ms (Retry-After), if the error carries one. */
  readonly retryAfterMs?: (err: unknown) => number | undefined;
  readonly signal?: AbortSignal;
}

/** First backoff; doubled per retry, jittered. Short on purpose: callers wait on the request path. */
const BASE_DELAY_MS = 100;

/**
 * Runs `attempt` and retries it on retryable errors, at most `maxRetries` times, never starting an
 * attempt (or a wait) that would end after `deadline`. Replaces the vendor SDKs' own retries (auth0:
 * 2 retries from 1 s; clerk: 5 over ~3 s), which would outlast any sensible request timeout. The wait
 * timer is unref'd and cleared on abort, so it never keeps a process alive.
 *
 * @example
 * ```ts
 * const orgs = await withRetries(() => client.users.organizations.list(id), { maxRetries: 1, deadline, retryable });
 * ```
 */
export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (retry >= options.maxRetries || !options.retryable(err) || options.signal?.aborted) throw err;
      const jittered = BASE_DELAY_MS * 2 ** retry * (1 + Math.random() * 0.2);
      const delay = Math.max(jittered, options.retryAfterMs?.(err) ?? 0);
      // A wait that would end past the deadline is pointless: the caller has given up by then.
      if (Date.now() + delay >= options.deadline) throw err;
      await sleep(delay, options.signal);
    }
  }
}

/**
 * Resolves after `ms`, or rejects when `signal` aborts. The timer is unref'd.
 *
 * @example
 * ```ts
 * await sleep(100, AbortSignal.timeout(50)); // rejects
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
