import { AuthplaneError } from './errors';
import type { Principal } from './principal';
import { REASONS, type Reason, type Rfc6750Error } from './reasons';

/**
 * Why a credential or request was refused, safe to show and to log: the message never contains
 * the credential.
 *
 * @example
 * ```ts
 * if (!result.ok) console.warn(result.failure.reason, result.failure.traceId);
 * ```
 */
export interface AuthFailure {
  readonly reason: Reason;
  readonly status: 400 | 401 | 403 | 503;
  /** RFC 6750 error code, or null (missing credentials, outages). */
  readonly error: Rfc6750Error | null;
  readonly message: string;
  readonly traceId: string;
  /** The adapter that decided, or null when no adapter was reached (e.g. no credential). */
  readonly provider: string | null;
  /** The `WWW-Authenticate` value, or null for a 503. */
  readonly challenge: string | null;
  /** For `scope_insufficient`: the scopes the resource needs (RFC 6750 `scope` attribute). */
  readonly scope?: readonly string[];
  /** For `provider_unavailable`: seconds a client should wait before retrying. */
  readonly retryAfterSec?: number;
}

/**
 * The outcome of every `authenticate`/`verify`: a principal or a reason-coded failure. Never thrown.
 * A success carries the decision's trace id too, so `authorize` can continue the same trace.
 *
 * @example
 * ```ts
 * const result: AuthResult = await plane.verify(token);
 * if (!result.ok) return toResponse(result.failure);
 * ```
 */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal; readonly traceId: string }
  | { readonly ok: false; readonly failure: AuthFailure };

/**
 * Thrown inside verification pipelines to stop at the first failed check; the plane turns it into an
 * `AuthFailure`. Adapters throw it; applications only ever see the failure value.
 *
 * @example
 * ```ts
 * if (claims.exp <= now) throw new AuthRejection('token_expired', 'The token has expired');
 * ```
 */
export class AuthRejection extends AuthplaneError {
  readonly reason: Reason;
  readonly retryAfterSec: number | undefined;
  readonly scope: readonly string[] | undefined;
  /**
   * For `token_inactive`: the `jti`/session of the token when the adapter knows them, so the plane
   * can answer `token_revoked` when it revoked that token itself.
   */
  readonly revocation: { readonly jti: string | null; readonly sessionId: string | null } | undefined;
  constructor(
    reason: Reason,
    message: string = DEFAULT_MESSAGES[reason],
    options: {
      cause?: unknown;
      retryAfterSec?: number;
      scope?: readonly string[];
      revocation?: { readonly jti: string | null; readonly sessionId: string | null };
    } = {},
  ) {
    super(reason, message, { cause: options.cause });
    this.reason = reason;
    this.retryAfterSec = options.retryAfterSec;
    this.scope = options.scope;
    this.revocation = options.revocation;
  }
}

/** Safe, credential-free default messages. */
export const DEFAULT_MESSAGES: Readonly<Record<Reason, string>> = Object.freeze({
  credentials_missing: 'No credentials were presented',
  credentials_ambiguous: 'More than one credential was presented',
  credentials_malformed: 'The credential is malformed',
  signature_invalid: 'The token signature is invalid',
  algorithm_not_allowed: 'The token algorithm is not allowed',
  key_unknown: 'The token was signed with an unknown key',
  token_expired: 'The token has expired',
  token_not_yet_valid: 'The token is not yet valid',
  issuer_mismatch: 'The token was issued by an unexpected issuer',
  audience_mismatch: 'The token is not intended for this audience',
  token_type_mismatch: 'The token is not an access token of the expected type',
  header_rejected: 'The token header contains a rejected parameter',
  claims_invalid: 'The token claims are invalid',
  token_revoked: 'The token has been revoked',
  api_key_invalid: 'The API key is invalid',
  api_key_revoked: 'The API key has been revoked',
  api_key_expired: 'The API key has expired',
  scope_insufficient: 'The credential lacks a required scope',
  role_insufficient: 'The principal lacks a required role',
  org_mismatch: 'The credential belongs to another organization',
  org_membership_missing: 'The principal is not a member of this organization',
  provider_disabled: 'The identity provider that issued this credential is not enabled',
  provider_unavailable: 'The identity provider is temporarily unavailable',
  token_inactive: 'The token is not active',
  subject_inactive: 'The account is inactive',
  dpop_proof_invalid: 'The DPoP proof is invalid',
  dpop_replayed: 'The DPoP proof has already been used',
  dpop_nonce_required: 'The DPoP proof must carry the server nonce',
  authentication_insufficient: 'A stronger or more recent authentication is required',
});

/** Options for {@link createFailure}. */
export interface FailureInit {
  reason: Reason;
  traceId: string;
  provider?: string | null;
  message?: string;
  scope?: readonly string[];
  retryAfterSec?: number;
  /** `realm` of the challenge; omitted when not set. */
  realm?: string;
}

/**
 * Builds a frozen `AuthFailure` with its status and RFC 6750 challenge.
 *
 * @example
 * ```ts
 * const failure = createFailure({ reason: 'scope_insufficient', traceId, scope: ['sync:write'] });
 * failure.challenge; // 'Bearer error="insufficient_scope", error_description="…", scope="sync:write"'
 * ```
 */
export function createFailure(init: FailureInit): AuthFailure {
  const { status, error } = REASONS[init.reason];
  const message = init.message ?? DEFAULT_MESSAGES[init.reason];
  const failure: AuthFailure = {
    reason: init.reason,
    status,
    error,
    message,
    traceId: init.traceId,
    provider: init.provider ?? null,
    challenge:
      status === 503 ? null : bearerChallenge({ error, message, scope: init.scope, realm: init.realm }),
    ...(init.scope ? { scope: Object.freeze([...init.scope]) } : {}),
    ...(status === 503 ? { retryAfterSec: init.retryAfterSec ?? 5 } : {}),
  };
  return Object.freeze(failure);
}

/**
 * Turns any error thrown inside a verification pipeline into a failure. An `AuthRejection` keeps
 * its reason; anything else is an unexpected fault and fails closed as `provider_unavailable`
 * (503: the client keeps its credential and retries), never as an accept.
 *
 * @example
 * ```ts
 * try { … } catch (err) { return { ok: false, failure: failureFromError(err, { traceId, provider: 'oidc' }) }; }
 * ```
 */
export function failureFromError(
  err: unknown,
  context: { traceId: string; provider: string | null; realm?: string },
): AuthFailure {
  if (err instanceof AuthRejection) {
    return createFailure({
      reason: err.reason,
      message: err.message,
      traceId: context.traceId,
      provider: context.provider,
      realm: context.realm,
      scope: err.scope,
      retryAfterSec: err.retryAfterSec,
    });
  }
  return createFailure({
    reason: 'provider_unavailable',
    traceId: context.traceId,
    provider: context.provider,
    realm: context.realm,
  });
}

/**
 * The RFC 6750 §3 `WWW-Authenticate` value. `error_description` is restricted to the characters
 * the RFC allows (%x20-21 / %x23-5B / %x5D-7E), so a message can never break the header.
 *
 * @example
 * ```ts
 * bearerChallenge({ error: 'invalid_token', message: 'The token has expired' });
 * // 'Bearer error="invalid_token", error_description="The token has expired"'
 * ```
 */
export function bearerChallenge(options: {
  error: Rfc6750Error | null;
  message?: string;
  scope?: readonly string[] | undefined;
  realm?: string | undefined;
}): string {
  const params: string[] = [];
  if (options.realm) params.push(`realm="${quotable(options.realm)}"`);
  if (options.error) {
    params.push(`error="${options.error}"`);
    if (options.message) params.push(`error_description="${quotable(options.message)}"`);
  }
  if (options.scope && options.scope.length > 0) params.push(`scope="${quotable(options.scope.join(' '))}"`);
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}

function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}
