import type { Principal } from './principal';

/**
 * What a plane that binds credentials to tenants (the migration plane) attaches to each principal it
 * accepts: the check of the tenant a request ACTS ON. A principal verified for one org (or for none)
 * can act on another through a membership hook or a route parameter; the tenant's mode must bind there
 * too, not only for the org the credential carried.
 *
 * `admit(orgId)` answers null when that tenant accepts the credential, or the refusal (a
 * `provider_disabled` message and the side's provider name). Synchronous when the tenant's mode is
 * known synchronously (static modes, a cached flag), a promise otherwise. It never throws.
 *
 * @example
 * ```ts
 * const gate = tenantGateOf(principal);
 * const refusal = gate ? await gate.admit('org_acme') : null; // { provider: 'legacy', message: '…' }
 * ```
 */
export interface TenantGate {
  admit(orgId: string): TenantRefusal | null | Promise<TenantRefusal | null>;
  /** `admit` when the mode is known synchronously; undefined when only a flag service could tell. */
  admitNow(orgId: string): TenantRefusal | null | undefined;
}

/**
 * Why a tenant refuses a credential: always `provider_disabled`, decided by `provider` (the adapter of
 * the side the credential came from).
 *
 * @example
 * ```ts
 * const refusal: TenantRefusal = { provider: 'legacy', message: 'This tenant no longer accepts …' };
 * ```
 */
export interface TenantRefusal {
  readonly provider: string;
  readonly message: string;
}

// Keyed by the principal and by its claims object: layers that copy a principal (`{ ...principal }`,
// `freezePrincipal`) keep the same claims object, so the gate survives the copy. A WeakMap adds no
// visible property to a frozen principal.
const gates = new WeakMap<object, TenantGate>();

/**
 * Attaches a tenant gate to a principal (called by the plane that verified it).
 *
 * @internal
 * @example
 * ```ts
 * bindTenantGate(principal, { admit: check, admitNow: check }); // check(orgId): TenantRefusal | null
 * ```
 */
export function bindTenantGate(principal: Principal, gate: TenantGate): void {
  gates.set(principal, gate);
  const claims = principal.claims as unknown;
  if (claims !== null && typeof claims === 'object') gates.set(claims, gate);
}

/**
 * The tenant gate of a principal, or undefined when no tenant-binding plane verified it.
 *
 * @example
 * ```ts
 * const refusal = await tenantGateOf(principal)?.admit(orgId);
 * ```
 */
export function tenantGateOf(principal: Principal): TenantGate | undefined {
  const gate = gates.get(principal);
  if (gate) return gate;
  const claims = principal.claims as unknown;
  return claims !== null && typeof claims === 'object' ? gates.get(claims) : undefined;
}
