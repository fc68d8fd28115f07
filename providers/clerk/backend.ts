import { trimTrailing } from '../../src/core/trim';
import { withRetries } from '../shared/retry';
import { ClerkHttpError, isRetryableClerkError, toClerkRejection } from './errors';

/**
 * The `Clerk-API-Version` that `@clerk/backend` 3.25 sends (its `SUPPORTED_BAPI_VERSION`, not exported):
 * it selects the response shapes the adapter parses. Keep it in step with the SDK when upgrading it
 * (a test compares our requests with the SDK's).
 */
export const CLERK_API_VERSION = '2026-05-12';

/** The `User-Agent` that `@clerk/backend` 3.25 sends (its `USER_AGENT`, not exported). */
export const CLERK_USER_AGENT = '@clerk/backend@3.25.0';

/** Bound on a Backend API response body (a page of 100 memberships is well under 1 MiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The headers `@clerk/backend` puts on every Backend API request: the Bearer key (the secret key, or
 * the machine secret key for M2M tokens), `Clerk-API-Version`, `User-Agent` and
 * `Content-Type: application/json` (on GET requests too).
 *
 * @example
 * ```ts
 * await fetch(`${apiUrl}/v1/jwks`, { headers: clerkHeaders(secretKey) });
 * ```
 */
export function clerkHeaders(bearer: string): Record<string, string> {
  return {
    authorization: `Bearer ${bearer}`,
    'clerk-api-version': CLERK_API_VERSION,
    'content-type': 'application/json',
    'user-agent': CLERK_USER_AGENT,
  };
}

/**
 * Options of {@link createClerkApi}.
 *
 * @example
 * ```ts
 * const options: ClerkApiOptions = { apiUrl: 'https://api.clerk.com', timeoutMs: 5000, maxRetries: 1 };
 * ```
 */
export interface ClerkApiOptions {
  /** Without a trailing slash. */
  readonly apiUrl: string;
  /** Every request goes through it. Default: the global `fetch`, looked up at each call. */
  readonly fetch?: typeof fetch;
  /** Bound on one call, every retry included (unless the request brings its own `deadline`). */
  readonly timeoutMs: number;
  /** Retries on 429, 5xx, network errors and unusable bodies. */
  readonly maxRetries: number;
}

/**
 * One Backend API call.
 *
 * @example
 * ```ts
 * const request: ClerkApiRequest = { method: 'POST', path: '/api_keys/verify', body: { secret }, bearer: secretKey };
 * ```
 */
export interface ClerkApiRequest {
  readonly method: 'GET' | 'POST';
  /** The path under `apiUrl`, with its version prefix if any: `/api_keys/verify`, `/v1/users/…`. */
  readonly path: string;
  /** Query parameters; `undefined` and `0` are left out, as the SDK does. */
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** JSON body (POST). */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The Bearer key. Never logged, never in a message. */
  readonly bearer: string;
  /** The caller's signal (the HTTP request being served): aborts the request. */
  readonly signal?: AbortSignal;
  /** Epoch ms by which the call, every retry included, ends. Default: now + `timeoutMs`. */
  readonly deadline?: number;
  /**
   * Decides HTTP statuses that are answers rather than outages (404: unknown key, token or user):
   * returns the value to resolve with, throws an `AuthRejection`, or returns `undefined` to let
   * `toClerkRejection` map the status.
   */
  readonly onStatus?: (status: number) => unknown;
}

/**
 * A Backend API client: {@link ClerkApi.call} sends one request through `fetch`.
 *
 * @example
 * ```ts
 * const api = createClerkApi({ apiUrl, fetch, timeoutMs: 5000, maxRetries: 1 });
 * ```
 */
export interface ClerkApi {
  /**
   * Sends the request and resolves with its parsed JSON body (or the `onStatus` answer). Every
   * failure is an `AuthRejection` from `toClerkRejection`.
   */
  call(request: ClerkApiRequest): Promise<unknown>;
}

/**
 * Calls the Clerk Backend API directly, through `options.fetch`, with the request `@clerk/backend`
 * would send (same URL, query, JSON body and headers, see {@link clerkHeaders}).
 *
 * Why not the SDK: `@clerk/backend` 3 has no `fetch` option (its `runtime.fetch` is
 * `fetch.bind(globalThis)` captured at import), so its requests can be neither routed by the caller's
 * `fetch` nor aborted. Here every attempt runs under one `AbortSignal` that fires at the deadline or
 * when the caller's signal aborts, so the request itself is cancelled (its connection closed), not
 * just abandoned. Retries are bounded by `maxRetries` and the deadline (`withRetries`), honouring a
 * `Retry-After` that fits. Redirects are not followed, so the key never leaves `apiUrl`; bodies are
 * bounded. The timer is unref'd and cleared when the call settles.
 *
 * Failures are {@link ClerkHttpError}s (status with Clerk's first error `code` and `Retry-After`,
 * network, timeout, aborted, malformed), mapped by `toClerkRejection` after `onStatus`.
 *
 * @example
 * ```ts
 * const api = createClerkApi({ apiUrl: 'https://api.clerk.com', timeoutMs: 5000, maxRetries: 1 });
 * const key = await api.call({ method: 'POST', path: '/api_keys/verify', body: { secret }, bearer: secretKey });
 * ```
 */
export function createClerkApi(options: ClerkApiOptions): ClerkApi {
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const send = async (request: ClerkApiRequest, signal: AbortSignal): Promise<unknown> => {
    const url = new URL(`${options.apiUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined && value !== 0 && value !== '') url.searchParams.append(name, String(value));
    }
    let response: Response;
    try {
      response = await doFetch(url.href, {
        method: request.method,
        headers: clerkHeaders(request.bearer),
        ...(request.body ? { body: JSON.stringify(request.body) } : {}),
        redirect: 'manual',
        signal,
      });
    } catch (cause) {
      throw abortReason(signal) ?? new ClerkHttpError('network', 'Clerk is unreachable', { cause });
    }
    let text: string | null;
    try {
      text = await readBounded(response, MAX_BODY_BYTES);
    } catch (cause) {
      throw abortReason(signal) ?? new ClerkHttpError('network', 'The Clerk response broke off', { cause });
    }
    const body = text === null ? undefined : parseJson(response, text);
    if (!response.ok) {
      throw new ClerkHttpError('status', `Clerk answered HTTP ${response.status}`, {
        status: response.status,
        code: firstErrorCode(body),
        retryAfterSec: retryAfterOf(response.headers),
      });
    }
    if (body === undefined) throw new ClerkHttpError('malformed', 'Clerk returned an unusable response');
    return body;
  };

  return Object.freeze({
    async call(request: ClerkApiRequest): Promise<unknown> {
      const deadline = request.deadline ?? Date.now() + options.timeoutMs;
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new ClerkHttpError('timeout', 'Clerk did not answer in time')),
        Math.max(0, deadline - Date.now()),
      );
      timer.unref?.();
      const onAbort = () => controller.abort(new ClerkHttpError('aborted', 'The Clerk request was aborted'));
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await withRetries(() => send(request, controller.signal), {
          maxRetries: options.maxRetries,
          deadline,
          retryable: isRetryableClerkError,
          retryAfterMs: (err) =>
            err instanceof ClerkHttpError && err.retryAfterSec !== undefined
              ? err.retryAfterSec * 1000
              : undefined,
          signal: controller.signal,
        });
      } catch (err) {
        if (request.onStatus && err instanceof ClerkHttpError && err.status !== undefined) {
          const answer = request.onStatus(err.status);
          if (answer !== undefined) return answer;
        }
        throw toClerkRejection(err);
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
      }
    },
  });
}

/** The timeout/abort error behind an aborted signal, if it is the reason a request failed. */
function abortReason(signal: AbortSignal): ClerkHttpError | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof ClerkHttpError
    ? signal.reason
    : new ClerkHttpError('aborted', 'The Clerk request was aborted');
}

/** The body as text, or null when it exceeds `maxBytes` (unusable). */
async function readBounded(response: Response, maxBytes: number): Promise<string | null> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body.cancel().catch(() => {});
    return null;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON body, or undefined when it is not JSON (wrong media type or unparseable). */
function parseJson(response: Response, text: string): unknown {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `errors[0].code` of a Clerk error body (`{ errors: [{ code, message, long_message }] }`). */
function firstErrorCode(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  const code = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** `Retry-After` in whole seconds, as the SDK reads it (an HTTP date is ignored). */
function retryAfterOf(headers: Headers): number | undefined {
  const value = Number.parseInt(headers.get('retry-after') ?? '', 10);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * A base URL without its trailing slashes, in one linear pass (a `/\/+$/` regex backtracks).
 *
 * @example
 * ```ts
 * trimTrailingSlashes('http://127.0.0.1:4000//'); // 'http://127.0.0.1:4000'
 * ```
 */
export function trimTrailingSlashes(url: string): string {
  return trimTrailing(url, '/');
}
