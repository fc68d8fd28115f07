/** Header on the synthetic response that stands for a transport failure (see {@link createSdkFetch}). */
export const TRANSPORT_ERROR_HEADER = 'x-authplane-transport-error';

/**
 * Why a request never got an HTTP answer.
 *
 * @example
 * ```ts
 * const kind: TransportErrorKind = 'timeout';
 * ```
 */
export type TransportErrorKind = 'timeout' | 'network' | 'aborted';

/**
 * Builds the `fetch` handed to the auth0 SDK (`ManagementClient`, `TokenProvider`):
 *
 * - every request goes through `options.fetch` (the caller's seam: proxies, the loopback fake in tests);
 * - every request gets our timeout (`AbortSignal.timeout`, whose timer is unref'd) besides the SDK's own;
 * - a transport failure (timeout, refused connection, reset) resolves as a synthetic
 *   `503` carrying {@link TRANSPORT_ERROR_HEADER} instead of rejecting. Why: when `fetch` rejects, the
 *   SDK's `makeRequest` skips `clearTimeout` and leaves its request timer armed for `timeoutInSeconds`,
 *   which keeps a process alive. With a resolved response it clears the timer, and the 503 surfaces as a
 *   `ManagementError` that our error mapper reads back as the transport failure it was.
 *
 * @example
 * ```ts
 * const client = new ManagementClient({ domain, clientId, clientSecret, fetch: createSdkFetch({ timeoutMs: 5000 }) });
 * ```
 */
export function createSdkFetch(options: {
  fetch?: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal;
}): typeof fetch {
  const doFetch = options.fetch ?? globalThis.fetch;
  return async (input, init) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signals = [timeout];
    if (init?.signal) signals.push(init.signal);
    if (options.signal) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    try {
      return await doFetch(input, { ...init, signal });
    } catch {
      const kind: TransportErrorKind = timeout.aborted ? 'timeout' : signal.aborted ? 'aborted' : 'network';
      return new Response(JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: kind }), {
        status: 503,
        headers: { 'content-type': 'application/json', [TRANSPORT_ERROR_HEADER]: kind },
      });
    }
  };
}
