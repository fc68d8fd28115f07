import { isClerkAPIResponseError, TokenVerificationError } from '@clerk/backend/errors';
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
 * The one place where every lower-level error of the Clerk adapter and its helpers becomes a reason.
 *
 * - `AuthRejection`: as is.
 * - `TokenVerificationError`: by {@link CLERK_TOKEN_REASONS} (an unknown reason fails closed as
 *   `claims_invalid`).
 * - `ClerkAPIResponseError` (Backend API): 429 -> `provider_unavailable` with `Retry-After`; 5xx, 401/403
 *   (our secret key refused), other statuses and a missing status (network error, non-JSON or malformed
 *   body, which the SDK reports as `unexpected_error`) -> `provider_unavailable`. A 404 has a meaning per
 *   endpoint (unknown API key, unknown M2M token, unknown user) and is decided by the caller first.
 * - `JwksFetchError` and anything else (timeouts, TypeErrors): `provider_unavailable`.
 *
 * Messages are fixed strings: never the token, the secret key or the SDK's message.
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
  if (err instanceof TokenVerificationError) {
    const reason = CLERK_TOKEN_REASONS[err.reason] ?? 'claims_invalid';
    if (reason === 'provider_unavailable') return unavailable('The Clerk signing keys are unavailable');
    return new AuthRejection(reason, MESSAGES[reason], { cause: err });
  }
  if (isClerkAPIResponseError(err)) {
    const status = err.status;
    if (status === 429) {
      const after =
        typeof err.retryAfter === 'number' ? Math.min(Math.max(err.retryAfter, 0), 60) : undefined;
      return unavailable('Clerk rate-limited the request', after);
    }
    if (typeof status === 'number' && status >= 500) return unavailable('Clerk answered with a server error');
    if (status === 401 || status === 403) return unavailable('Clerk refused the secret key');
    if (typeof status === 'number' && status > 0) return unavailable('Clerk rejected the request');
    return unavailable('Clerk is unreachable or returned an unusable response');
  }
  if (err instanceof JwksFetchError) {
    if (err.kind === 'timeout') return unavailable('Clerk did not answer in time');
    if (err.kind === 'network') return unavailable('Clerk is unreachable');
    return unavailable('The Clerk signing keys are unavailable');
  }
  return unavailable('Clerk is temporarily unavailable');
}

/**
 * Whether a Clerk error is an outage worth retrying: 429, 5xx, and failures without a status
 * (network, unusable body). 4xx answers are definite.
 *
 * @example
 * ```ts
 * await withRetries(call, { maxRetries: 1, deadline, retryable: isRetryableClerkError });
 * ```
 */
export function isRetryableClerkError(err: unknown): boolean {
  if (!isClerkAPIResponseError(err)) return false;
  const status = err.status;
  return typeof status !== 'number' || status === 0 || status === 429 || status >= 500;
}

/**
 * The HTTP status of a Clerk Backend API error, if any.
 *
 * @example
 * ```ts
 * if (clerkStatus(err) === 404) throw new AuthRejection('api_key_invalid');
 * ```
 */
export function clerkStatus(err: unknown): number | undefined {
  return isClerkAPIResponseError(err) && typeof err.status === 'number' ? err.status : undefined;
}
