import type { AuthFailure } from './failure';

/**
 * The status, headers and body of a failure, for adapters that write responses themselves
 * (node:http, Express, Fastify).
 *
 * @example
 * ```ts
 * const { status, headers, body } = toHttp(result.failure);
 * res.writeHead(status, headers).end(body);
 * ```
 */
export interface HttpFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The response header that carries the decision's trace id. */
export const TRACE_ID_HEADER = 'x-trace-id';

/**
 * Renders a failure as HTTP: RFC 6750 `WWW-Authenticate`, `Retry-After` on 503, `Cache-Control: no-store`,
 * the trace id header, and the JSON body `{ error, reason, trace_id }`.
 *
 * @example
 * ```ts
 * const http = toHttp(failure); // { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"…' }, body }
 * ```
 */
export function toHttp(failure: AuthFailure): HttpFailure {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    [TRACE_ID_HEADER]: failure.traceId,
  };
  if (failure.challenge) headers['www-authenticate'] = failure.challenge;
  if (failure.status === 503) headers['retry-after'] = String(failure.retryAfterSec ?? 5);
  // RFC 9449 §8: the nonce a client must put in its next DPoP proof.
  if (failure.dpopNonce) headers['dpop-nonce'] = failure.dpopNonce;
  const body = JSON.stringify({
    error: bodyError(failure),
    reason: failure.reason,
    trace_id: failure.traceId,
  });
  return { status: failure.status, headers, body };
}

/**
 * A Web `Response` for a failure: the return value of a fetch-style handler (Hono, Next.js route
 * handlers, Bun, Deno, workers).
 *
 * @example
 * ```ts
 * const result = await plane.authenticate(request);
 * if (!result.ok) return toResponse(result.failure);
 * ```
 */
export function toResponse(failure: AuthFailure): Response {
  const { status, headers, body } = toHttp(failure);
  return new Response(body, { status, headers });
}

function bodyError(failure: AuthFailure): string {
  if (failure.error) return failure.error;
  return failure.status === 503 ? 'temporarily_unavailable' : 'unauthorized';
}
