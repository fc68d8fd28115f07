import { type AuthFailure, createFailure } from '../core/failure';
import type { Principal } from '../core/principal';
import type { Reason } from '../core/reasons';
import { tenantGateOf } from '../core/tenant-gate';
import { newTraceId } from '../core/trace';
import { type AuthenticationRequirements, authenticationGap, validateAuthentication } from './step-up';

/**
 * What a resource needs from a verified principal. Every listed condition must hold. Empty `scopes`
 * or `roles` lists need nothing; an empty `anyScopes`/`anyRoles` list can never be satisfied and is
 * refused as a programmer error.
 *
 * @example
 * ```ts
 * const needs: Requirements = { scopes: ['sync:write'], anyRoles: ['admin', 'owner'], orgId: 'org_1' };
 * ```
 */
export interface Requirements extends AuthenticationRequirements {
  /** Every one of these scopes. */
  readonly scopes?: readonly string[];
  /** At least one of these scopes. */
  readonly anyScopes?: readonly string[];
  /** Every one of these roles. */
  readonly roles?: readonly string[];
  /** At least one of these roles. */
  readonly anyRoles?: readonly string[];
  /**
   * Every one of these permissions. Checked against `principal.scopes` (which unites OAuth scopes and
   * provider permissions); for another org reached through a membership hook (`createAuthorizer`),
   * against the permissions the hook returned for that org.
   */
  readonly permissions?: readonly string[];
  /** At least one of these permissions. */
  readonly anyPermissions?: readonly string[];
  /** The principal's org must be exactly this one (a principal without an org never matches). `undefined` checks nothing. */
  readonly orgId?: string;
  /** Trace id of the failure: pass the one of the authentication decision to keep one trace. Generated otherwise. */
  readonly traceId?: string;
  /** `realm` attribute of the challenge. */
  readonly realm?: string;
}

/**
 * The outcome of {@link authorize}.
 *
 * @example
 * ```ts
 * const check: AuthorizeResult = authorize(principal, { scopes: ['read'] });
 * if (!check.ok) return toResponse(check.failure);
 * ```
 */
export type AuthorizeResult = { readonly ok: true } | { readonly ok: false; readonly failure: AuthFailure };

const ALLOWED: AuthorizeResult = Object.freeze({ ok: true });

/**
 * Checks a verified principal against a resource's requirements. Pure and synchronous: no I/O, the same
 * answer for the same input (step-up reads the clock). Checks run in this order and the first unmet one decides:
 * `acr`/`maxAgeSec` against the `acr` and `auth_time` claims (`authentication_insufficient`, 401, RFC 9470
 * challenge with `acr_values` and `max_age`), `orgId` (`org_mismatch`), `scopes`/`anyScopes` (`scope_insufficient`, with `failure.scope` listing the
 * required scopes for the RFC 6750 `scope=` attribute), `permissions`/`anyPermissions` (also
 * `scope_insufficient`), `roles`/`anyRoles` (`role_insufficient`).
 *
 * A principal from a migration plane is also bound to the mode of `orgId`'s tenant: a credential of a
 * side that tenant's mode forbids is `provider_disabled` (checked right after `orgId`).
 *
 * Org *membership* (`org_membership_missing`, answered by a directory hook) is asynchronous by nature:
 * `createAuthorizer({ isMember })` layers it on top of this function, so that `authorize` itself stays
 * pure. Malformed requirements (not an object, a non-array list, an empty
 * `any*` list) throw a `TypeError`: they are programmer errors, not request failures.
 *
 * @example
 * ```ts
 * const traceId = newTraceId(); // the same one given to plane.authenticate(request, { traceId })
 * const check = authorize(result.principal, { scopes: ['sync:write'], orgId: 'org_1', traceId });
 * if (!check.ok) return toResponse(check.failure); // 403, WWW-Authenticate: Bearer error="insufficient_scope", scope="sync:write"
 * ```
 */
export function authorize(principal: Principal, requirements: Requirements = {}): AuthorizeResult {
  if (!principal || typeof principal !== 'object')
    throw new TypeError('authorize: principal must be a Principal');
  if (!requirements || typeof requirements !== 'object')
    throw new TypeError('authorize: requirements must be an object');
  const scopes = list(requirements, 'scopes');
  const anyScopes = list(requirements, 'anyScopes');
  const roles = list(requirements, 'roles');
  const anyRoles = list(requirements, 'anyRoles');
  const permissions = list(requirements, 'permissions');
  const anyPermissions = list(requirements, 'anyPermissions');
  const { orgId } = requirements;
  if (orgId !== undefined && typeof orgId !== 'string')
    throw new TypeError('authorize: orgId must be a string');

  validateAuthentication(requirements, 'authorize');

  const deny = (
    reason: Reason,
    message: string,
    scope?: readonly string[],
    decidedBy?: string,
    stepUp?: { acrValues?: readonly string[]; maxAgeSec?: number },
  ): AuthorizeResult =>
    Object.freeze({
      ok: false as const,
      failure: createFailure({
        reason,
        message,
        scope,
        traceId:
          typeof requirements.traceId === 'string' && requirements.traceId
            ? requirements.traceId
            : newTraceId(),
        provider: decidedBy ?? (typeof principal.provider === 'string' ? principal.provider : null),
        realm: requirements.realm,
        // RFC 9449 §7.1: a DPoP-bound token is answered in the DPoP scheme.
        ...(dpopBound(principal) ? { scheme: 'DPoP' as const } : {}),
        ...stepUp,
      }),
    });

  // RFC 9470 step-up first: it is a 401 the client can fix by authenticating again.
  const gap = authenticationGap(principal, requirements, Date.now());
  if (gap) return deny('authentication_insufficient', gap.message, undefined, undefined, gap);

  if (orgId !== undefined && principal.orgId !== orgId) {
    return deny(
      'org_mismatch',
      principal.orgId
        ? 'The credential belongs to another organization'
        : 'The credential belongs to no organization',
    );
  }
  if (orgId !== undefined) {
    // Tenant binding (migration plane): the mode of the org acted on is checked again. Only a
    // synchronous answer is usable here; an asynchronous one (a flag service) was already given for
    // this same org when the credential was verified, since orgId === principal.orgId at this point.
    const refusal = tenantGateOf(principal)?.admitNow(orgId);
    if (refusal) {
      return deny('provider_disabled', refusal.message, undefined, refusal.provider);
    }
  }

  // Lists are short: includes() beats building a Set per request, with the same SameValueZero match.
  const held: readonly string[] = Array.isArray(principal.scopes) ? principal.scopes : [];
  if (scopes && !scopes.every((s) => held.includes(s))) {
    return deny('scope_insufficient', 'The credential lacks a required scope', scopes);
  }
  if (anyScopes && !anyScopes.some((s) => held.includes(s))) {
    return deny('scope_insufficient', 'The credential needs one of the listed scopes', anyScopes);
  }
  if (permissions && !permissions.every((p) => held.includes(p))) {
    return deny('scope_insufficient', 'The principal lacks a required permission', permissions);
  }
  if (anyPermissions && !anyPermissions.some((p) => held.includes(p))) {
    return deny('scope_insufficient', 'The principal needs one of the listed permissions', anyPermissions);
  }

  const has: readonly string[] = Array.isArray(principal.roles) ? principal.roles : [];
  if (roles && !roles.every((r) => has.includes(r))) {
    return deny('role_insufficient', 'The principal lacks a required role');
  }
  if (anyRoles && !anyRoles.some((r) => has.includes(r))) {
    return deny('role_insufficient', 'The principal needs one of the listed roles');
  }
  return ALLOWED;
}

function dpopBound(principal: Principal): boolean {
  const cnf = principal.claims?.cnf;
  return !!cnf && typeof cnf === 'object' && typeof (cnf as { jkt?: unknown }).jkt === 'string';
}

function list(
  requirements: Requirements,
  field: 'scopes' | 'anyScopes' | 'roles' | 'anyRoles' | 'permissions' | 'anyPermissions',
): readonly string[] | undefined {
  const value = requirements[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError(`authorize: ${field} must be an array of strings`);
  }
  if (value.length === 0 && field.startsWith('any')) {
    throw new TypeError(`authorize: ${field} must not be empty (it could never be satisfied)`);
  }
  return value;
}
