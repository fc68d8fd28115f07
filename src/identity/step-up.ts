import type { Principal } from '../core/principal';

/**
 * What a resource needs from the user's authentication event (RFC 9470): an `acr` among `acr`, and an
 * `auth_time` no older than `maxAgeSec`.
 *
 * @example
 * ```ts
 * const needs: AuthenticationRequirements = { acr: ['urn:example:mfa'], maxAgeSec: 300 };
 * ```
 */
export interface AuthenticationRequirements {
  /** Acceptable `acr` claim values; the token's `acr` must be one of them. */
  readonly acr?: readonly string[];
  /** Largest acceptable age of the authentication (`now - auth_time`), in seconds. */
  readonly maxAgeSec?: number;
}

/**
 * Why an authentication is insufficient, with what the RFC 9470 challenge must ask for.
 *
 * @internal
 * @example
 * ```ts
 * const gap = authenticationGap(principal, { acr: ['mfa'] }, Date.now());
 * ```
 */
export interface AuthenticationGap {
  readonly message: string;
  readonly acrValues?: readonly string[];
  readonly maxAgeSec?: number;
}

/**
 * Validates step-up requirements (programmer errors throw a `TypeError`).
 *
 * @internal
 * @example
 * ```ts
 * validateAuthentication({ acr: ['mfa'], maxAgeSec: 300 }, 'authorize');
 * ```
 */
export function validateAuthentication(requirements: AuthenticationRequirements, name: string): void {
  const { acr, maxAgeSec } = requirements;
  if (acr !== undefined) {
    if (!Array.isArray(acr) || acr.length === 0 || acr.some((v) => typeof v !== 'string' || v.length === 0)) {
      throw new TypeError(`${name}: acr must be a non-empty array of non-empty strings`);
    }
  }
  if (maxAgeSec !== undefined) {
    if (typeof maxAgeSec !== 'number' || !Number.isFinite(maxAgeSec) || maxAgeSec < 0) {
      throw new TypeError(`${name}: maxAgeSec must be a non-negative number`);
    }
  }
}

/**
 * Checks the principal's `acr` and `auth_time` claims against the requirements; null when they are
 * met. A missing or malformed claim never meets a requirement. Tokens without the claims (service
 * tokens, API keys) therefore fail any step-up requirement.
 *
 * @internal
 * @example
 * ```ts
 * authenticationGap(principal, { maxAgeSec: 300 }, Date.now()); // { message, maxAgeSec: 300 } or null
 * ```
 */
export function authenticationGap(
  principal: Principal,
  requirements: AuthenticationRequirements,
  nowMs: number,
): AuthenticationGap | null {
  const { acr, maxAgeSec } = requirements;
  if (acr === undefined && maxAgeSec === undefined) return null;
  const claims = principal.claims ?? {};
  // The challenge repeats every requirement, so one round of step-up satisfies them all.
  const ask = { ...(acr ? { acrValues: acr } : {}), ...(maxAgeSec !== undefined ? { maxAgeSec } : {}) };
  if (acr !== undefined) {
    const held = claims.acr;
    if (typeof held !== 'string' || !acr.includes(held)) {
      return { message: 'A stronger authentication is required', ...ask };
    }
  }
  if (maxAgeSec !== undefined) {
    const authTime = claims.auth_time;
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
      return { message: 'The time of authentication is unknown; a fresh authentication is required', ...ask };
    }
    if (nowMs / 1000 - authTime > maxAgeSec) {
      return { message: 'A more recent authentication is required', ...ask };
    }
  }
  return null;
}
