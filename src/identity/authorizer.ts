import { DEFAULT_HOOK_TIMEOUT_MS, withDeadline } from '../core/deadline';
import { ConfigError } from '../core/errors';
import { type AuthFailure, createFailure } from '../core/failure';
import type { Principal } from '../core/principal';
import type { Reason } from '../core/reasons';
import { tenantGateOf } from '../core/tenant-gate';
import { newTraceId } from '../core/trace';
import { recordAuthzDecision, type TelemetryOptions } from '../telemetry/metrics';
import { authorize, type Requirements } from './authorize';

/**
 * What a membership hook answers for (principal, org): `false`/`null`/`undefined` (not a member),
 * `true` (a member with no roles or permissions in that org), or the member's roles and permissions in
 * that org, which then decide `roles`/`permissions` requirements there.
 *
 * @example
 * ```ts
 * const answer: MembershipAnswer = { roles: ['admin'], permissions: ['reports:read'] };
 * ```
 */
export type MembershipAnswer =
  | boolean
  | null
  | undefined
  | { readonly roles?: readonly string[]; readonly permissions?: readonly string[] };

/**
 * What every hook receives besides the principal: the decision's trace id and a signal that aborts at
 * the hook timeout.
 *
 * @example
 * ```ts
 * const isMember: MembershipHook = (p, orgId, { signal }) => directory.isMember(p.subject, orgId, { signal });
 * ```
 */
export interface HookContext {
  readonly traceId: string;
  readonly signal: AbortSignal;
}

/**
 * `(principal, orgId, ctx)`: answers whether a user belongs to an org other than the one in their token
 * (users in several orgs), with `{ roles }` for that org or null. Throwing, rejecting or timing out is an
 * outage: the request gets `provider_unavailable`, never an accept. Not the API keys' hook:
 * `createApiKeys({ isMember })` takes `(ownerId, orgId)` (two strings) and re-checks a key owner's
 * membership of the key's own org at every verify.
 *
 * @example
 * ```ts
 * const isMember: MembershipHook = async (principal, orgId) => db.memberships.find(principal.subject, orgId);
 * ```
 */
export type MembershipHook = (
  principal: Principal,
  orgId: string,
  context: HookContext,
) => MembershipAnswer | Promise<MembershipAnswer>;

/**
 * What a visibility hook is asked about: the org and the workspace or resource inside it.
 *
 * @example
 * ```ts
 * const target: AccessTarget = { orgId: 'org_1', workspaceId: 'ws_9' };
 * ```
 */
export interface AccessTarget {
  readonly orgId: string | null;
  readonly workspaceId?: string;
  readonly resource?: string;
}

/**
 * The extension point for visibility below the org (workspaces, projects, single resources): authplane
 * decides identity, org and roles; this hook decides what the application models below them. `false`
 * refuses with `org_membership_missing`; a throw is `provider_unavailable`. Not cached.
 *
 * @example
 * ```ts
 * const canAccess: VisibilityHook = async (p, { workspaceId }) => workspaces.visibleTo(p.subject).has(workspaceId);
 * ```
 */
export type VisibilityHook = (
  principal: Principal,
  target: AccessTarget,
  context: HookContext,
) => boolean | Promise<boolean>;

/**
 * Options of {@link createAuthorizer}.
 *
 * @example
 * ```ts
 * createAuthorizer({ isMember, cacheTtlSec: 30, cacheMaxEntries: 10_000, timeoutMs: 2000 });
 * ```
 */
export interface AuthorizerOptions {
  /**
   * Membership lookup `(principal, orgId, ctx)` for users acting on an org other than their token's.
   * Without it, that is `org_mismatch`. (The API keys' `isMember` is a different hook: `(ownerId, orgId)`.)
   */
  readonly isMember?: MembershipHook;
  /** Workspace- or resource-level visibility, asked when requirements name a `workspaceId` or `resource`. */
  readonly canAccess?: VisibilityHook;
  /** Seconds a membership answer (positive or negative) is reused; `0` disables the cache. Default 30. */
  readonly cacheTtlSec?: number;
  /** Upper bound on cached answers; the oldest goes first. Default 10 000. */
  readonly cacheMaxEntries?: number;
  /** Timeout of each hook call, in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** Meter provider for `authplane.authz.decisions` (global by default). */
  readonly telemetry?: TelemetryOptions;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * What {@link Authorizer.check} is asked: the pure requirements plus the workspace or resource for the
 * visibility hook and an abort signal.
 *
 * @example
 * ```ts
 * const needs: OrgRequirements = { orgId: req.params.orgId, roles: ['admin'], workspaceId: 'ws_9', traceId };
 * ```
 */
export interface OrgRequirements extends Requirements {
  readonly workspaceId?: string;
  readonly resource?: string;
  readonly signal?: AbortSignal;
}

/**
 * The outcome of {@link Authorizer.check}. On success, the org the request acts on, the principal's
 * roles and permissions there, and how membership was established (`token`: the token's own org,
 * `membership`: the hook, `none`: no org was asked for).
 *
 * @example
 * ```ts
 * const decision = await authorizer.check(principal, { orgId });
 * if (decision.ok) console.log(decision.roles);
 * ```
 */
export type AuthorizationDecision =
  | {
      readonly ok: true;
      readonly orgId: string | null;
      readonly roles: readonly string[];
      readonly permissions: readonly string[];
      readonly via: 'token' | 'membership' | 'none';
    }
  | { readonly ok: false; readonly failure: AuthFailure };

/**
 * The asynchronous, membership-aware authorization check.
 *
 * @example
 * ```ts
 * const authorizer = createAuthorizer({ isMember });
 * const decision = await authorizer.check(result.principal, { orgId: 'org_2', roles: ['admin'], traceId: result.traceId });
 * ```
 */
export interface Authorizer {
  check(principal: Principal, requirements?: OrgRequirements): Promise<AuthorizationDecision>;
  /** Forgets cached membership answers (all, or one subject's, e.g. after a membership change). */
  forget(subject?: string): void;
}

interface CachedMembership {
  readonly member: Membership | null;
  readonly expiresAt: number;
}

interface Membership {
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * Creates the tenant-aware authorizer: `authorize` plus org membership and visibility hooks.
 *
 * The org a request acts on (`requirements.orgId`, from a route parameter or a header) is checked
 * against the principal:
 * - it is the token's own org: the token's roles and scopes decide;
 * - it is another org and the principal is a *user* with an `isMember` hook: the hook's answer decides
 *   (`org_membership_missing` when not a member) and its roles/permissions apply in that org (scopes,
 *   which the client delegated, still come from the token);
 * - otherwise (services, API keys, no hook): `org_mismatch`.
 *
 * Before any of that, a principal from a migration plane is bound to the acting org's mode: a
 * credential of a side that tenant's mode forbids is `provider_disabled` (401), even when the
 * credential carried no org or another one.
 *
 * Membership answers are cached per (provider, subject, org) for `cacheTtlSec`, in a bounded map, with
 * one hook call in flight per key however many requests wait. A hook failure or timeout is
 * `provider_unavailable` (503, never cached, never an accept). Every decision adds to
 * `authplane.authz.decisions`. Audit events are the caller's (the HTTP adapters emit `authz.denied`
 * through `plane.audit`).
 *
 * @throws ConfigError for a bad option.
 * @example
 * ```ts
 * const authorizer = createAuthorizer({
 *   isMember: async (p, orgId) => directory.membership(p.subject, orgId), // { roles } or null
 *   cacheTtlSec: 30,
 * });
 * const decision = await authorizer.check(principal, { orgId: params.orgId, roles: ['admin'], traceId });
 * if (!decision.ok) return toResponse(decision.failure); // 403 org_membership_missing / role_insufficient
 * ```
 */
export function createAuthorizer(options: AuthorizerOptions = {}): Authorizer {
  const { isMember, canAccess, telemetry } = options;
  const ttlMs = (options.cacheTtlSec ?? 30) * 1000;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const clock = options.clock ?? Date.now;
  if (isMember !== undefined && typeof isMember !== 'function')
    throw new ConfigError('isMember', 'must be a function');
  if (canAccess !== undefined && typeof canAccess !== 'function')
    throw new ConfigError('canAccess', 'must be a function');
  if (!Number.isFinite(ttlMs) || ttlMs < 0)
    throw new ConfigError('cacheTtlSec', 'must be a non-negative number');
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0)
    throw new ConfigError('cacheMaxEntries', 'must be a positive integer');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new ConfigError('timeoutMs', 'must be a positive integer');

  // Insertion-ordered: the first key is the oldest, so eviction is O(1).
  const cache = new Map<string, CachedMembership>();
  const inflight = new Map<string, Promise<Membership | null>>();

  const lookup = (principal: Principal, orgId: string, traceId: string, signal?: AbortSignal) => {
    const hook = isMember as MembershipHook;
    const key = `${principal.provider}\u0000${principal.subject}\u0000${orgId}`;
    const cached = cache.get(key);
    if (cached) {
      if (cached.expiresAt > clock()) return Promise.resolve(cached.member);
      cache.delete(key);
    }
    let pending = inflight.get(key);
    if (!pending) {
      pending = withDeadline('isMember', timeoutMs, (hookSignal) =>
        hook(principal, orgId, { traceId, signal: hookSignal }),
      )
        .then(normalizeMembership)
        .then((member) => {
          if (ttlMs > 0) {
            while (cache.size >= maxEntries) {
              const oldest = cache.keys().next();
              if (oldest.done) break;
              cache.delete(oldest.value);
            }
            cache.set(key, { member, expiresAt: clock() + ttlMs });
          }
          return member;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    // One caller aborting stops waiting; the shared lookup continues for the others.
    return signal ? raceSignal(pending, signal) : pending;
  };

  return Object.freeze({
    async check(principal: Principal, requirements: OrgRequirements = {}): Promise<AuthorizationDecision> {
      const decision = await decide(principal, requirements);
      recordAuthzDecision(
        { provider: principal.provider, reason: decision.ok ? null : decision.failure.reason },
        telemetry,
      );
      return decision;
    },
    forget(subject?: string): void {
      if (subject === undefined) {
        cache.clear();
        return;
      }
      for (const key of cache.keys()) if (key.split('\u0000')[1] === subject) cache.delete(key);
    },
  });

  async function decide(principal: Principal, requirements: OrgRequirements): Promise<AuthorizationDecision> {
    const traceId = requirements.traceId || newTraceId();
    // Guards pass the decision's trace id: no copy then (object spread is slow on Node 20's V8).
    const base = requirements.traceId ? requirements : { ...requirements, traceId };
    const { orgId } = requirements;
    let granted: AuthorizationDecision;

    // Tenant binding: wherever the org a request acts on becomes known (requireOrg in every framework
    // adapter, a direct check), the mode of THAT tenant decides whether a credential of this side is
    // accepted, whatever org (or none) the credential itself carried.
    const gate = orgId === undefined ? undefined : tenantGateOf(principal);
    if (gate) {
      const pendingRefusal = gate.admit(orgId as string);
      const refusal = pendingRefusal instanceof Promise ? await pendingRefusal : pendingRefusal;
      if (refusal) return refuse(principal, base, 'provider_disabled', refusal.message, refusal.provider);
    }

    if (orgId === undefined || orgId === principal.orgId || !isMember || principal.kind !== 'user') {
      // The token's own org (or none asked, or no way to be a member elsewhere): pure check, which
      // answers org_mismatch for a foreign org.
      const check = authorize(principal, base);
      if (!check.ok) return check;
      granted = Object.freeze({
        ok: true as const,
        orgId: orgId ?? principal.orgId,
        roles: principal.roles,
        permissions: principal.scopes,
        via: orgId === undefined ? ('none' as const) : ('token' as const),
      });
    } else {
      // Scopes are what the client was delegated: the token decides them, before any directory call.
      const delegated = authorize(principal, {
        scopes: base.scopes,
        anyScopes: base.anyScopes,
        // Step-up (RFC 9470) is about the token's authentication event, whatever org is acted on.
        acr: base.acr,
        maxAgeSec: base.maxAgeSec,
        traceId,
        realm: base.realm,
      });
      if (!delegated.ok) return delegated;
      let member: Membership | null;
      try {
        member = await lookup(principal, orgId, traceId, requirements.signal);
      } catch {
        return refuse(principal, base, 'provider_unavailable', 'The membership directory is unavailable');
      }
      if (!member) {
        return refuse(principal, base, 'org_membership_missing');
      }
      const inOrg: Principal = { ...principal, orgId, roles: member.roles, scopes: member.permissions };
      const check = authorize(inOrg, {
        permissions: base.permissions,
        anyPermissions: base.anyPermissions,
        roles: base.roles,
        anyRoles: base.anyRoles,
        traceId,
        realm: base.realm,
      });
      if (!check.ok) return check;
      granted = Object.freeze({
        ok: true as const,
        orgId,
        roles: member.roles,
        permissions: member.permissions,
        via: 'membership' as const,
      });
    }

    const { workspaceId, resource } = requirements;
    if (canAccess && (workspaceId !== undefined || resource !== undefined)) {
      const target: AccessTarget = Object.freeze({
        orgId: granted.ok ? granted.orgId : null,
        ...(workspaceId !== undefined ? { workspaceId } : {}),
        ...(resource !== undefined ? { resource } : {}),
      });
      let visible: boolean;
      try {
        const pending = withDeadline('canAccess', timeoutMs, (signal) =>
          canAccess(principal, target, { traceId, signal }),
        );
        visible = (await (requirements.signal ? raceSignal(pending, requirements.signal) : pending)) === true;
      } catch {
        return refuse(principal, base, 'provider_unavailable', 'The access directory is unavailable');
      }
      if (!visible)
        return refuse(
          principal,
          base,
          'org_membership_missing',
          'The principal may not access this workspace',
        );
    }
    return granted;
  }
}

function refuse(
  principal: Principal,
  requirements: Requirements,
  reason: Reason,
  message?: string,
  decidedBy?: string,
): AuthorizationDecision {
  return Object.freeze({
    ok: false as const,
    failure: createFailure({
      reason,
      message,
      traceId: requirements.traceId || newTraceId(),
      provider: decidedBy ?? principal.provider,
      realm: requirements.realm,
    }),
  });
}

function normalizeMembership(answer: MembershipAnswer): Membership | null {
  if (answer === true) return { roles: EMPTY, permissions: EMPTY };
  if (answer === false || answer === null || answer === undefined) return null;
  if (typeof answer !== 'object') throw new TypeError('isMember returned an unexpected value');
  return Object.freeze({ roles: strings(answer.roles), permissions: strings(answer.permissions) });
}

function strings(value: unknown): readonly string[] {
  if (value === undefined) return EMPTY;
  // A malformed answer is a broken directory, not a refusal: it fails closed as an outage.
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError('isMember returned malformed roles or permissions');
  }
  return Object.freeze([...value]);
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
