/**
 * The closed set of reason codes. Tests, metrics and dashboards key on these strings, so they are
 * a contract: add new ones, never rename.
 *
 * @example
 * ```ts
 * import { REASONS } from 'authplane';
 * REASONS.token_expired; // { status: 401, error: 'invalid_token' }
 * ```
 */
export const REASONS = {
  credentials_missing: { status: 401, error: null },
  credentials_ambiguous: { status: 400, error: 'invalid_request' },
  credentials_malformed: { status: 401, error: 'invalid_token' },
  signature_invalid: { status: 401, error: 'invalid_token' },
  algorithm_not_allowed: { status: 401, error: 'invalid_token' },
  key_unknown: { status: 401, error: 'invalid_token' },
  token_expired: { status: 401, error: 'invalid_token' },
  token_not_yet_valid: { status: 401, error: 'invalid_token' },
  issuer_mismatch: { status: 401, error: 'invalid_token' },
  audience_mismatch: { status: 401, error: 'invalid_token' },
  token_type_mismatch: { status: 401, error: 'invalid_token' },
  header_rejected: { status: 401, error: 'invalid_token' },
  claims_invalid: { status: 401, error: 'invalid_token' },
  token_revoked: { status: 401, error: 'invalid_token' },
  api_key_invalid: { status: 401, error: 'invalid_token' },
  api_key_revoked: { status: 401, error: 'invalid_token' },
  api_key_expired: { status: 401, error: 'invalid_token' },
  scope_insufficient: { status: 403, error: 'insufficient_scope' },
  role_insufficient: { status: 403, error: 'insufficient_scope' },
  org_mismatch: { status: 403, error: 'insufficient_scope' },
  org_membership_missing: { status: 403, error: 'insufficient_scope' },
  provider_disabled: { status: 401, error: 'invalid_token' },
  provider_unavailable: { status: 503, error: null },
  token_inactive: { status: 401, error: 'invalid_token' },
  subject_inactive: { status: 401, error: 'invalid_token' },
  dpop_proof_invalid: { status: 401, error: 'invalid_dpop_proof' },
  dpop_replayed: { status: 401, error: 'invalid_dpop_proof' },
  dpop_nonce_required: { status: 401, error: 'use_dpop_nonce' },
  authentication_insufficient: { status: 401, error: 'insufficient_user_authentication' },
} as const satisfies Record<string, { status: 400 | 401 | 403 | 503; error: Rfc6750Error | null }>;

/**
 * The error codes a challenge may carry: RFC 6750 §3.1, RFC 9449 §7.1 (`invalid_dpop_proof`,
 * `use_dpop_nonce`) and RFC 9470 §3 (`insufficient_user_authentication`).
 */
export type Rfc6750Error =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'insufficient_user_authentication';

/**
 * A stable reason code.
 *
 * @example
 * ```ts
 * const reason: Reason = 'scope_insufficient';
 * ```
 */
export type Reason = keyof typeof REASONS;

/**
 * Every reason code, in table order.
 *
 * @example
 * ```ts
 * REASON_CODES.includes('token_revoked'); // true
 * ```
 */
export const REASON_CODES = Object.freeze(Object.keys(REASONS) as Reason[]);

/**
 * Whether a string is one of the reason codes.
 *
 * @example
 * ```ts
 * isReason('token_expired'); // true
 * ```
 */
export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}
