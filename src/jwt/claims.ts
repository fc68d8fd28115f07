import { AuthRejection } from '../core/failure';
import type { JwtClaims } from './types';

/**
 * What the claims check enforces. Issuer and audience have no defaults: an unchecked audience is a
 * vulnerability.
 *
 * @example
 * ```ts
 * const policy = createClaimsPolicy({ issuer: 'https://id.example', audience: ['api'], clockToleranceSec: 5 });
 * ```
 */
export interface ClaimsPolicy {
  /** Exact `iss`, or null when the issuer deliberately issues no `iss` (legacy tokens): then not checked. */
  readonly issuer: string | null;
  /** Accepted `aud` values, or null when the tokens carry no audience (legacy tokens): then not checked. */
  readonly audiences: ReadonlySet<string> | null;
  readonly clockToleranceSec: number;
  /** Whether `sub` must be a non-empty string (true unless the subject lives in another claim). */
  readonly requireSubject: boolean;
}

/**
 * Builds a frozen claims policy. `issuer` and `audience` are required; `null` switches the check off
 * explicitly (never by omission), for legacy issuers whose tokens carry no `iss`/`aud`.
 *
 * @example
 * ```ts
 * createClaimsPolicy({ issuer, audience: 'https://api.example', clockToleranceSec: 5 });
 * createClaimsPolicy({ issuer: null, audience: null, clockToleranceSec: 5, requireSubject: false }); // legacy
 * ```
 */
export function createClaimsPolicy(options: {
  issuer: string | null;
  audience: string | readonly string[] | null;
  clockToleranceSec: number;
  requireSubject?: boolean;
}): ClaimsPolicy {
  const audience = options.audience;
  const audiences = audience === null ? null : new Set(typeof audience === 'string' ? [audience] : audience);
  return Object.freeze({
    issuer: options.issuer,
    audiences,
    clockToleranceSec: options.clockToleranceSec,
    requireSubject: options.requireSubject ?? true,
  });
}

/**
 * Checks the registered claims of a signature-verified token (RFC 7519 §4.1, RFC 9068 §2.2).
 *
 * - `iss` exactly equal to the issuer, else `issuer_mismatch` (a null issuer: `iss`, when present, must be a string);
 * - `aud` (string or array) intersecting the audiences, else `audience_mismatch` (null audiences: `aud`,
 *   when present, must be a string or an array of strings);
 * - `exp` required and numeric; past (beyond the tolerance): `token_expired`;
 * - `nbf`/`iat` in the future beyond the tolerance: `token_not_yet_valid`;
 * - `sub` a non-empty string (when `requireSubject`; else a non-empty string when present); `jti`, `sid`, `client_id` strings when present;
 * - any required claim missing or of the wrong type: `claims_invalid`.
 *
 * @example
 * ```ts
 * checkClaims(jws.claims, policy, Date.now() / 1000);
 * ```
 */
export function checkClaims(claims: JwtClaims, policy: ClaimsPolicy, nowSec: number): void {
  const iss = claims.iss;
  if (policy.issuer !== null) {
    if (typeof iss !== 'string') throw invalid('The token has no issuer');
    if (iss !== policy.issuer) throw new AuthRejection('issuer_mismatch');
  } else if (iss !== undefined && typeof iss !== 'string') {
    throw invalid('The token issuer is not a string');
  }

  const aud = claims.aud;
  const audiences = policy.audiences;
  if (audiences === null) {
    if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud)) {
      throw invalid('The token audience is not a string');
    }
  } else if (typeof aud === 'string') {
    if (!audiences.has(aud)) throw new AuthRejection('audience_mismatch');
  } else if (Array.isArray(aud) && aud.length > 0) {
    let match = false;
    for (const value of aud) {
      if (typeof value !== 'string') throw invalid('The token audience is not a string');
      if (audiences.has(value)) match = true;
    }
    if (!match) throw new AuthRejection('audience_mismatch');
  } else {
    throw invalid('The token has no audience');
  }

  const tolerance = policy.clockToleranceSec;
  const exp = claims.exp;
  if (!isNumericDate(exp)) throw invalid('The token has no valid expiry');
  if (exp <= nowSec - tolerance) throw new AuthRejection('token_expired');
  const nbf = claims.nbf;
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) throw invalid('The token nbf claim is not a number');
    if (nbf > nowSec + tolerance) throw new AuthRejection('token_not_yet_valid');
  }
  const iat = claims.iat;
  if (iat !== undefined) {
    if (!isNumericDate(iat)) throw invalid('The token iat claim is not a number');
    if (iat > nowSec + tolerance)
      throw new AuthRejection('token_not_yet_valid', 'The token was issued in the future');
  }

  const sub = claims.sub;
  if (policy.requireSubject || sub !== undefined) {
    if (typeof sub !== 'string' || sub.length === 0) throw invalid('The token has no subject');
  }
  if (claims.jti !== undefined && typeof claims.jti !== 'string')
    throw invalid('The token jti is not a string');
  if (claims.sid !== undefined && typeof claims.sid !== 'string')
    throw invalid('The token sid is not a string');
  if (claims.client_id !== undefined && typeof claims.client_id !== 'string') {
    throw invalid('The token client_id is not a string');
  }
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function invalid(message: string): AuthRejection {
  return new AuthRejection('claims_invalid', message);
}
