import { AuthplaneError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import type { Reason } from '../../src/core/reasons';
import { JwksFetchError } from '../../src/jwt/jwks-fetch';

/**
 * `TokenVerificationError.reason` (session-token checks of `@clerk/backend`) -> our reason. Reasons of
 * the SDK's key loading (`jwk-*`, `secret-key-invalid`) mean the keys could not be had: outages.
 * `token-invalid-authorized-parties` (the `azp` is not one of `authorizedParties`) is
 * `audience_mismatch`: the token was issued for another relying party. `token-invalid` reaches the SDK
 * only after our strict parse, so it is its type/category check: `token_type_mismatch`.
 * `token-verification-failed` covers `sub`, `aud` and key-import failures: `claims_invalid`.
 *
 * @example
 * ```ts
 * CLERK_TOKEN_REASONS['token-expired']; // 'token_expired'
 * ```
 */
export const CLERK_TOKEN_REASONS: Readonly<Record<string, Reason>> = Object.freeze({
  'token-expired': 'token_expired',
  'token-not-active-yet': 'token_not_yet_valid',
  'token-iat-in-the-future': 'token_not_yet_valid',
  'token-invalid-signature': 'signature_invalid',
  'token-invalid-algorithm': 'algorithm_not_allowed',
  'token-invalid-authorized-parties': 'audience_mismatch',
  'token-invalid-issuer': 'issuer_mismatch',
  'token-invalid': 'token_type_mismatch',
  'token-verification-failed': 'claims_invalid',
  'jwk-kid-mismatch': 'key_unknown',
  'jwk-local-missing': 'provider_unavailable',
  'jwk-remote-failed-to-load': 'provider_unavailable',
  'jwk-remote-invalid': 'provider_unavailable',
  'jwk-remote-missing': 'provider_unavailable',
  'jwk-failed-to-resolve': 'provider_unavailable',
  'secret-key-invalid': 'provider_unavailable',
});

/** Fixed, credential-free messages (the SDK's own messages quote claims and URLs). */
const MESSAGES: Partial<Record<Reason, string>> = {
  audience_mismatch: 'The token was issued for another authorized party',
  claims_invalid: 'The token claims are invalid',
};

/**
 * A failed Clerk Backend API call (`createClerkApi`): the HTTP status with Clerk's first error `code`
 * (`{ errors: [{ code, message, long_message }] }`) and `Retry-After`, or a request that never got a
 * usable answer. Messages are fixed: never the key, the token or Clerk's own message.
 *
 * @example
 * ```ts
 * if (err instanceof ClerkHttpError && err.status === 404) return null;
 * ```
 */
export class ClerkHttpError extends AuthplaneError {
  /**
   * `status`: Clerk answered with a non-2xx status; `network`: no answer (refused, reset, cut off);
   * `timeout`: our deadline passed and the request was aborted; `aborted`: the caller's signal
   * aborted it; `malformed`: a 2xx whose body is not JSON, not `application/json`, or too large.
   */
  readonly kind: 'status' | 'network' | 'timeout' | 'aborted' | 'malformed';
  readonly status: number | undefined;
  readonly clerkCode: string | undefined;
  /** Seconds, from `Retry-After`. */
  readonly retryAfterSec: number | undefined;
  constructor(
    kind: ClerkHttpError['kind'],
    message: string,
    options: { status?: number; code?: string; retryAfterSec?: number; cause?: unknown } = {},
  ) {
    super('clerk_api_failed', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.clerkCode = options.code;
    this.retryAfterSec = options.retryAfterSec;
  }
}

/**
 * The one place where every lower-level error of the Clerk adapter and its helpers becomes a reason.
 *
 * - `AuthRejection`: as is.
 * - `TokenVerificationError` (the SDK's `verifyToken`): by {@link CLERK_TOKEN_REASONS} (an unknown
 *   reason fails closed as `claims_invalid`).
 * - {@link ClerkHttpError} (Backend API calls): 429 -> `provider_unavailable` with `Retry-After`
 *   (capped at 60 s); 5xx, 401/403 (our key refused), 422 and other statuses, network errors, timeouts,
 *   aborts and unusable bodies (not JSON, wrong shape, too large) -> `provider_unavailable`. Statuses
 *   that are answers (404: unknown API key, M2M token or user; 400 on the verify endpoints) are decided
 *   by the caller first (`onStatus`).
 * - `JwksFetchError` and anything else (TypeErrors): `provider_unavailable`.
 *
 * Messages are fixed strings: never the token, the secret key or Clerk's message.
 *
 * @example
 * ```ts
 * try { await verifyToken(token, options); } catch (err) { throw toClerkRejection(err); }
 * ```
 */
export function toClerkRejection(err: unknown): AuthRejection {
  if (err instanceof AuthRejection) return err;
  const unavailable = (message: string, retryAfterSec?: number) =>
    new AuthRejection('provider_unavailable', message, {
      cause: err,
      ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
    });
  if (isTokenVerificationError(err)) {
    const reason = CLERK_TOKEN_REASONS[err.reason] ?? 'claims_invalid';
    if (reason === 'provider_unavailable') return unavailable('The Clerk signing keys are unavailable');
    return new AuthRejection(reason, MESSAGES[reason], { cause: err });
  }
  if (err instanceof ClerkHttpError) {
    switch (err.kind) {
      case 'timeout':
        return unavailable('Clerk did not answer in time');
      case 'aborted':
        return unavailable('The Clerk request was aborted');
      case 'network':
        return unavailable('Clerk is unreachable');
      case 'malformed':
        return unavailable('Clerk returned an unusable response');
    }
    const status = err.status ?? 0;
    if (status === 429) {
      const after =
        err.retryAfterSec === undefined ? undefined : Math.min(Math.max(err.retryAfterSec, 0), 60);
      return unavailable('Clerk rate-limited the request', after);
    }
    if (status >= 500) return unavailable('Clerk answered with a server error');
    if (status === 401 || status === 403) return unavailable('Clerk refused the secret key');
    return unavailable('Clerk rejected the request');
  }
  if (err instanceof JwksFetchError) {
    if (err.kind === 'timeout') return unavailable('Clerk did not answer in time');
    if (err.kind === 'network') return unavailable('Clerk is unreachable');
    return unavailable('The Clerk signing keys are unavailable');
  }
  return unavailable('Clerk is temporarily unavailable');
}

/**
 * Whether a failed Backend API call is an outage worth retrying: 429, 5xx, network errors and unusable
 * bodies. Other statuses are definite answers; timeouts and aborts end the call.
 *
 * @example
 * ```ts
 * await withRetries(call, { maxRetries: 1, deadline, retryable: isRetryableClerkError });
 * ```
 */
export function isRetryableClerkError(err: unknown): boolean {
  if (!(err instanceof ClerkHttpError)) return false;
  if (err.kind === 'network' || err.kind === 'malformed') return true;
  const status = err.status ?? 0;
  return err.kind === 'status' && (status === 429 || status >= 500);
}

/**
 * The SDK's `TokenVerificationError`, recognised by shape so this adapter needs no `@clerk/backend`
 * at run time (an application that calls the SDK itself can still map its errors here).
 */
function isTokenVerificationError(err: unknown): err is Error & { reason: string } {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return err instanceof Error && typeof reason === 'string' && Object.hasOwn(CLERK_TOKEN_REASONS, reason);
}
