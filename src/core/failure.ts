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
  /** For `dpop_nonce_required` (and any failure of a plane with DPoP nonces): the `DPoP-Nonce` to send. */
  readonly dpopNonce?: string;
  /** For `authentication_insufficient`: the acceptable `acr` values (RFC 9470 `acr_values`). */
  readonly acrValues?: readonly string[];
  /** For `authentication_insufficient`: the largest acceptable authentication age (RFC 9470 `max_age`). */
  readonly maxAgeSec?: number;
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
  /** The `DPoP-Nonce` the client must use (`dpop_nonce_required`). */
  readonly dpopNonce: string | undefined;
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
      dpopNonce?: string;
      revocation?: { readonly jti: string | null; readonly sessionId: string | null };
    } = {},
  ) {
    super(reason, message, { cause: options.cause });
    this.reason = reason;
    this.retryAfterSec = options.retryAfterSec;
    this.scope = options.scope;
    this.dpopNonce = options.dpopNonce;
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
  /**
   * Scheme of the error challenge. Default: `DPoP` for the `dpop_*` reasons, else `Bearer`. A request
   * that presented its token with the DPoP scheme is answered in that scheme (RFC 9449 §7.1).
   */
  scheme?: 'Bearer' | 'DPoP';
  /**
   * The DPoP proof algorithms the resource accepts: set when DPoP is on, so that every challenge
   * advertises `DPoP algs="…"` (a second challenge beside a Bearer one).
   */
  dpopAlgs?: readonly string[];
  /** Sent as the `DPoP-Nonce` response header. */
  dpopNonce?: string;
  /** RFC 9470 `acr_values` of an `insufficient_user_authentication` challenge. */
  acrValues?: readonly string[];
  /** RFC 9470 `max_age` of an `insufficient_user_authentication` challenge. */
  maxAgeSec?: number;
  /** RFC 9728 `resource_metadata` of the challenge (the protected resource metadata URL); omitted when not set. */
  resourceMetadata?: string;
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
    challenge: status === 503 ? null : challengeOf(init, error, message),
    ...(init.scope ? { scope: Object.freeze([...init.scope]) } : {}),
    ...(status === 503 ? { retryAfterSec: init.retryAfterSec ?? 5 } : {}),
    ...(init.dpopNonce ? { dpopNonce: init.dpopNonce } : {}),
    ...(init.acrValues ? { acrValues: Object.freeze([...init.acrValues]) } : {}),
    ...(init.maxAgeSec !== undefined ? { maxAgeSec: init.maxAgeSec } : {}),
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
  context: {
    traceId: string;
    provider: string | null;
    realm?: string;
    scheme?: 'Bearer' | 'DPoP';
    dpopAlgs?: readonly string[];
    resourceMetadata?: string;
  },
): AuthFailure {
  if (err instanceof AuthRejection) {
    return createFailure({
      reason: err.reason,
      message: err.message,
      traceId: context.traceId,
      provider: context.provider,
      realm: context.realm,
      resourceMetadata: context.resourceMetadata,
      scope: err.scope,
      retryAfterSec: err.retryAfterSec,
      scheme: context.scheme,
      dpopAlgs: context.dpopAlgs,
      dpopNonce: err.dpopNonce,
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
 * The same failure with RFC 9728 `resource_metadata="…"` added to its challenge, for failures built
 * without it (guards, `authorize`). A 503 (no challenge) and a challenge that already names a
 * `resource_metadata` are returned unchanged. Every scheme of a multi-scheme challenge
 * (`Bearer …, DPoP …`) keeps its own parameters; the URL is appended to the first one's.
 *
 * @example
 * ```ts
 * const failure = withResourceMetadata(check.failure, 'https://api.example/.well-known/oauth-protected-resource');
 * failure.challenge; // 'Bearer error="insufficient_scope", …, resource_metadata="https://api.example/…"'
 * ```
 */
export function withResourceMetadata(failure: AuthFailure, url: string | undefined): AuthFailure {
  const challenge = failure.challenge;
  if (!url || !challenge || challenge.includes('resource_metadata=')) return failure;
  const param = `resource_metadata="${quotable(url)}"`;
  return Object.freeze({ ...failure, challenge: appendParam(challenge, param) });
}

// Appends an auth-param to the first challenge of a WWW-Authenticate value: `Bearer` becomes
// `Bearer p`, `Bearer a="1", DPoP b="2"` becomes `Bearer a="1", p, DPoP b="2"`. One linear scan: a new
// challenge starts after a comma (outside quotes) with a token followed by a space or the end, where a
// parameter's token is followed by `=`.
function appendParam(challenge: string, param: string): string {
  let end = challenge.length;
  let quoted = false;
  for (let i = 0; i < challenge.length; i++) {
    const c = challenge[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i++;
    else if (c === ',' && !quoted) {
      let j = i + 1;
      while (challenge[j] === ' ') j++;
      const token = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(challenge.slice(j, j + 64));
      const after = token ? challenge[j + token[0].length] : '=';
      if (after === ' ' || after === undefined) {
        end = i;
        break;
      }
    }
  }
  const first = challenge.slice(0, end);
  const joined = first.includes(' ') ? `${first}, ${param}` : `${first} ${param}`;
  return joined + challenge.slice(end);
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
  /** RFC 9728: where the protected resource metadata is published. */
  resourceMetadata?: string | undefined;
}): string {
  const params: string[] = [];
  if (options.realm) params.push(`realm="${quotable(options.realm)}"`);
  if (options.error) {
    params.push(`error="${options.error}"`);
    if (options.message) params.push(`error_description="${quotable(options.message)}"`);
  }
  if (options.scope && options.scope.length > 0) params.push(`scope="${quotable(options.scope.join(' '))}"`);
  if (options.resourceMetadata) params.push(`resource_metadata="${quotable(options.resourceMetadata)}"`);
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}

const DPOP_REASONS: ReadonlySet<Reason> = new Set([
  'dpop_proof_invalid',
  'dpop_replayed',
  'dpop_nonce_required',
]);

// The whole WWW-Authenticate value of a failure: the error challenge in its scheme, plus a bare
// `DPoP algs=…` challenge when the error is in the Bearer scheme and the resource also accepts DPoP.
function challengeOf(init: FailureInit, error: Rfc6750Error | null, message: string): string {
  const scheme = init.scheme ?? (DPOP_REASONS.has(init.reason) ? 'DPoP' : 'Bearer');
  const algs = init.dpopAlgs && init.dpopAlgs.length > 0 ? init.dpopAlgs : undefined;
  const extra: string[] = [];
  if (init.acrValues && init.acrValues.length > 0)
    extra.push(`acr_values="${quotable(init.acrValues.join(' '))}"`);
  if (init.maxAgeSec !== undefined) extra.push(`max_age=${Math.max(0, Math.floor(init.maxAgeSec))}`);
  const options = {
    error,
    message,
    scope: init.scope,
    realm: init.realm,
    resourceMetadata: init.resourceMetadata,
  };
  if (scheme === 'DPoP') {
    if (algs) extra.push(`algs="${quotable(algs.join(' '))}"`);
    return withParams(bearerChallenge(options).replace(/^Bearer/, 'DPoP'), extra);
  }
  const bearer = withParams(bearerChallenge(options), extra);
  return algs ? `${bearer}, DPoP algs="${quotable(algs.join(' '))}"` : bearer;
}

function withParams(challenge: string, params: readonly string[]): string {
  if (params.length === 0) return challenge;
  return challenge.includes(' ') ? `${challenge}, ${params.join(', ')}` : `${challenge} ${params.join(', ')}`;
}

function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}
