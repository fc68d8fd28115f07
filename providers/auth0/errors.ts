import type { ManagementError } from 'auth0';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { JwksFetchError } from '../../src/jwt/jwks-fetch';
import { TRANSPORT_ERROR_HEADER } from './http';
import { auth0 } from './sdk';

/**
 * The one place where every lower-level error of the Auth0 adapter and its helpers becomes a reason.
 * An `AuthRejection` passes through. Everything else means Auth0 could not give an answer, so it is
 * `provider_unavailable` (503; the client keeps its credential and retries):
 *
 * | source | message |
 * |---|---|
 * | JWKS fetch (`JwksFetchError`): timeout, network, HTTP status, oversized or invalid body | per kind |
 * | `ManagementError` 408 / `ManagementTimeoutError` / transport timeout | did not answer in time |
 * | transport failure (refused, reset) | unreachable |
 * | 429 | rate-limited (`retryAfterSec` from `Retry-After`) |
 * | 5xx | server error |
 * | 401 / 403 | refused the client credentials (a configuration problem: fail closed) |
 * | other 4xx | rejected the request |
 * | a response of the wrong shape | unusable response |
 *
 * The original error is kept as `cause`; messages are fixed strings, never a token or a secret.
 *
 * @example
 * ```ts
 * try { await client.users.organizations.list(userId); } catch (err) { throw toAuth0Rejection(err); }
 * ```
 */
export function toAuth0Rejection(err: unknown): AuthRejection {
  if (err instanceof AuthRejection) return err;
  const unavailable = (message: string, retryAfterSec?: number) =>
    new AuthRejection('provider_unavailable', message, {
      cause: err,
      ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
    });
  if (err instanceof JwksFetchError) {
    switch (err.kind) {
      case 'timeout':
        return unavailable('Auth0 did not answer in time');
      case 'aborted':
        return unavailable('The verification was aborted');
      case 'network':
        return unavailable('Auth0 is unreachable');
      default:
        return unavailable('Auth0 returned an unusable key set');
    }
  }
  if (err instanceof auth0.ManagementTimeoutError) return unavailable('Auth0 did not answer in time');
  if (err instanceof auth0.ManagementError) {
    const transport = transportKind(err);
    if (transport === 'timeout') return unavailable('Auth0 did not answer in time');
    if (transport === 'aborted') return unavailable('The request to Auth0 was aborted');
    if (transport === 'network') return unavailable('Auth0 is unreachable');
    const status = err.statusCode;
    if (status === 408) return unavailable('Auth0 did not answer in time');
    if (status === 429) return unavailable('Auth0 rate-limited the request', retryAfterSec(err));
    if (status !== undefined && status >= 500) return unavailable('Auth0 answered with a server error');
    if (status === 401 || status === 403) return unavailable('Auth0 refused the client credentials');
    if (status !== undefined) return unavailable('Auth0 rejected the request');
    return unavailable('Auth0 returned an unusable response');
  }
  if (err instanceof ConfigError) return unavailable('The Auth0 configuration is invalid');
  if (err instanceof TypeError) return unavailable('Auth0 returned an unusable response');
  return unavailable('Auth0 is temporarily unavailable');
}

/**
 * Whether an Auth0 error is an outage worth retrying: 408, 429, 5xx and transport failures (the
 * synthetic 503). A 4xx is a definite answer.
 *
 * @example
 * ```ts
 * await withRetries(call, { maxRetries: 1, deadline, retryable: isRetryableAuth0Error });
 * ```
 */
export function isRetryableAuth0Error(err: unknown): boolean {
  if (err instanceof auth0.ManagementTimeoutError) return true;
  if (!(err instanceof auth0.ManagementError)) return false;
  const status = err.statusCode;
  // An aborted request (shutdown, caller gave up) is not retried.
  if (transportKind(err) === 'aborted') return false;
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * The `Retry-After` of a 429, in milliseconds, if Auth0 sent one.
 *
 * @example
 * ```ts
 * retryAfterMs(err); // 1000
 * ```
 */
export function retryAfterMs(err: unknown): number | undefined {
  const sec = err instanceof auth0.ManagementError ? retryAfterSec(err) : undefined;
  return sec === undefined ? undefined : sec * 1000;
}

function retryAfterSec(err: ManagementError): number | undefined {
  const raw = header(err, 'retry-after');
  if (raw === undefined) return undefined;
  const sec = Number.parseInt(raw, 10);
  return Number.isFinite(sec) && sec >= 0 ? Math.min(sec, 60) : undefined;
}

function transportKind(err: ManagementError): string | undefined {
  if (err.statusCode !== 503) return undefined;
  const marked = header(err, TRANSPORT_ERROR_HEADER);
  if (marked !== undefined) return marked;
  // The token endpoint (TokenProvider) keeps no raw response, only the parsed body of our marker.
  const message = (err.body as { message?: unknown } | undefined)?.message;
  return err.rawResponse === undefined && typeof message === 'string' && TRANSPORT_KINDS.has(message)
    ? message
    : undefined;
}

const TRANSPORT_KINDS: ReadonlySet<string> = new Set(['timeout', 'network', 'aborted']);

function header(err: ManagementError, name: string): string | undefined {
  const headers = err.rawResponse?.headers as Headers | undefined;
  const value = typeof headers?.get === 'function' ? headers.get(name) : undefined;
  return value ?? undefined;
}
