import { withDeadline } from '../core/deadline';
import { ConfigError } from '../core/errors';
import { AuthRejection } from '../core/failure';
import type { Principal } from '../core/principal';
import type { IdentityLinkStore } from '../stores/contracts';
import { StoreError } from '../stores/errors';

/**
 * What a first-sight hook learns about an unlinked identity: the provider and the verified principal
 * (its claims are verified; its `subject` is still the provider's).
 *
 * @example
 * ```ts
 * const hook: FirstSightHook = async ({ principal }) => directory.subjectByEmail(principal.claims.email);
 * ```
 */
export interface FirstSight {
  readonly provider: string;
  readonly principal: Principal;
}

/**
 * Resolves an identity seen for the first time to an internal subject, or null to leave it unlinked.
 * The answer is recorded as a link, so the hook runs once per identity.
 *
 * @example
 * ```ts
 * const onFirstSight: FirstSightHook = byVerifiedEmail((email) => users.idByEmail(email));
 * ```
 */
export type FirstSightHook = (seen: FirstSight) => Promise<string | null> | string | null;

/**
 * What an org first-sight hook learns about an org id with no org link: the provider, that provider's
 * org id, and the verified principal that carried it.
 *
 * @example
 * ```ts
 * const hook: OrgFirstSightHook = async ({ provider, externalOrgId }) => tenants.idByLegacyTeam(externalOrgId);
 * ```
 */
export interface OrgFirstSight {
  readonly provider: string;
  readonly externalOrgId: string;
  readonly principal: Principal;
}

/**
 * Resolves an org id seen for the first time to an internal org id, or null to keep the provider's.
 * The answer is recorded as an org link, so the hook runs once per org.
 *
 * @example
 * ```ts
 * const onFirstSightOrg: OrgFirstSightHook = ({ externalOrgId }) => directory.orgByLegacyTeam(externalOrgId);
 * ```
 */
export type OrgFirstSightHook = (seen: OrgFirstSight) => Promise<string | null> | string | null;

/**
 * Identity linking options of the migration plane.
 *
 * @example
 * ```ts
 * const links: LinkOptions = { store: sqlite.links, onFirstSight: byVerifiedEmail(lookup), cacheTtlSec: 60 };
 * ```
 */
export interface LinkOptions {
  /** Where links live. Default: an in-memory store (`createMemoryIdentityLinkStore`). */
  readonly store?: IdentityLinkStore;
  /** Called for an identity with no link; its answer is stored. */
  readonly onFirstSight?: FirstSightHook;
  /** Called for an org id with no org link; its answer is stored as an org link. */
  readonly onFirstSightOrg?: OrgFirstSightHook;
  /**
   * Refuse identities with no link (after the first-sight hook) as `subject_inactive`. Default false:
   * an unlinked identity gets the subject `<provider>:<providerSubject>` (`legacy:12`, `oidc:12`), so
   * unlinked subjects of two providers never collide with each other.
   */
  readonly require?: boolean;
  /** Deadline of each first-sight hook call, in ms; a late answer is `provider_unavailable`. Default 2000. */
  readonly hookTimeoutMs?: number;
  /**
   * Seconds a resolved link (or the absence of one) is kept in memory. Default 60; 0 reads the store on
   * every request. A link removed from the store can be honoured for this long.
   */
  readonly cacheTtlSec?: number;
  /** Entries kept in memory. Default 10 000. */
  readonly cacheSize?: number;
}

/**
 * Maps provider identities to internal ones.
 *
 * @example
 * ```ts
 * const linked = await linker.link(principal); // subject and orgId now internal
 * ```
 */
export interface Linker {
  /**
   * The internal `subject` and `orgId`. Unlinked: the subject is `<provider>:<providerSubject>` (or
   * `subject_inactive` with `require`), the org the provider's. Synchronous when both answers are
   * cached (the hot path), a promise otherwise. `as` names the identity to look up when it is not the
   * principal's own (a legacy API key is linked by its owner: `{ provider: 'legacy', providerSubject: '12' }`).
   */
  link(principal: Principal, as?: LinkIdentity): Linked | Promise<Linked>;
  /** The internal org of a provider's org id (the org links, then the org first-sight hook). */
  linkOrg(principal: Principal, provider: string, externalOrgId: string): Promise<string>;
  /** Drops cached answers (after an import). */
  clear(): void;
}

/**
 * A first-sight hook that links by the verified `email` claim: only when `email_verified` is `true`,
 * because an unverified email lets anyone claim anyone's account.
 *
 * @example
 * ```ts
 * createIdentityPlane({ provider: 'migration', …, links: { onFirstSight: byVerifiedEmail((e) => db.userIdByEmail(e)) } });
 * ```
 */
export function byVerifiedEmail(
  lookup: (email: string) => Promise<string | null> | string | null,
): FirstSightHook {
  return ({ principal }) => {
    const { email, email_verified: verified } = principal.claims;
    if (typeof email !== 'string' || email === '' || verified !== true) return null;
    return lookup(email.toLowerCase());
  };
}

/**
 * Which provider identity to link.
 *
 * @example
 * ```ts
 * const as: LinkIdentity = { provider: 'legacy', providerSubject: '12' };
 * ```
 */
export interface LinkIdentity {
  readonly provider: string;
  readonly providerSubject: string;
}

/**
 * The subject of an identity without a link: namespaced by its provider, so that the legacy user `12`
 * (`legacy:12`) and the target subject `12` (`oidc:12`) are never one subject.
 *
 * @example
 * ```ts
 * unlinkedSubject('legacy', '12'); // 'legacy:12'
 * ```
 */
export function unlinkedSubject(provider: string, providerSubject: string): string {
  return `${provider}:${providerSubject}`;
}

/**
 * A principal's internal identity.
 *
 * @example
 * ```ts
 * const { subject, orgId }: Linked = await linker.link(principal);
 * ```
 */
export interface Linked {
  readonly subject: string;
  readonly orgId: string | null;
}

interface Cached {
  readonly value: string | null;
  readonly until: number;
}

/**
 * Builds a linker over a store, with a bounded TTL cache in front (a link lookup per request would
 * otherwise cost a store round trip). A store failure fails closed (`provider_unavailable`): guessing
 * a subject would hand one user another's data.
 *
 * @example
 * ```ts
 * const linker = createLinker({ store }, Date.now);
 * ```
 */
export function createLinker(
  store: IdentityLinkStore,
  options: Omit<LinkOptions, 'store'> = {},
  clock: () => number = Date.now,
): Linker {
  const ttlMs = Math.max(0, (options.cacheTtlSec ?? 60) * 1000);
  const max = Math.max(1, options.cacheSize ?? 10_000);
  const subjects = new Map<string, Cached>();
  const orgs = new Map<string, Cached>();
  const onFirstSight = options.onFirstSight;
  const onFirstSightOrg = options.onFirstSightOrg;
  const requireLink = options.require === true;
  const hookTimeoutMs = options.hookTimeoutMs ?? 2000;
  if (!Number.isSafeInteger(hookTimeoutMs) || hookTimeoutMs <= 0) {
    throw new ConfigError('links.hookTimeoutMs', 'must be a positive integer');
  }
  const unlinked = (identity: LinkIdentity): string => {
    if (requireLink) throw new AuthRejection('subject_inactive', 'This identity is not linked to an account');
    return unlinkedSubject(identity.provider, identity.providerSubject);
  };

  const remember = (map: Map<string, Cached>, key: string, value: string | null) => {
    if (ttlMs === 0) return;
    if (map.size >= max) {
      // Oldest first: Map iteration order is insertion order.
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, { value, until: clock() + ttlMs });
  };
  const recall = (map: Map<string, Cached>, key: string): Cached | undefined => {
    const hit = map.get(key);
    if (hit && hit.until > clock()) return hit;
    if (hit) map.delete(key);
    return undefined;
  };

  const resolveSubject = async (principal: Principal, identity: LinkIdentity): Promise<string> => {
    const key = `${identity.provider}\u0000${identity.providerSubject}`;
    const hit = recall(subjects, key);
    if (hit) return hit.value ?? unlinked(identity);
    let subject = await unavailableOnError(() => store.resolve(identity.provider, identity.providerSubject));
    if (subject === null && onFirstSight) {
      const found = await unavailableOnError(() =>
        withDeadline('onFirstSight', hookTimeoutMs, () =>
          onFirstSight({ provider: identity.provider, principal }),
        ),
      );
      if (typeof found === 'string' && found !== '') {
        subject = await recordLink(store, identity, found);
      }
    }
    remember(subjects, key, subject);
    return subject ?? unlinked(identity);
  };

  const resolveOrg = async (principal: Principal, provider: string, external: string): Promise<string> => {
    const key = `${provider}\u0000${external}`;
    const hit = recall(orgs, key);
    if (hit) return hit.value ?? external;
    let org = await unavailableOnError(() => store.resolveOrg(provider, external));
    if (org === null && onFirstSightOrg) {
      const found = await unavailableOnError(() =>
        withDeadline('onFirstSightOrg', hookTimeoutMs, () =>
          onFirstSightOrg({ provider, externalOrgId: external, principal }),
        ),
      );
      if (typeof found === 'string' && found !== '') {
        org = await recordOrgLink(store, provider, external, found);
      }
    }
    remember(orgs, key, org);
    return org ?? external;
  };

  return {
    link(principal, as) {
      const identity: LinkIdentity = as ?? principal;
      const subjectHit = recall(subjects, `${identity.provider}\u0000${identity.providerSubject}`);
      const external = principal.orgId;
      const orgHit = external === null ? null : recall(orgs, `${identity.provider}\u0000${external}`);
      if (subjectHit && orgHit !== undefined) {
        return {
          subject: subjectHit.value ?? unlinked(identity),
          orgId: orgHit === null ? null : (orgHit.value ?? external),
        };
      }
      return Promise.all([
        resolveSubject(principal, identity),
        external === null ? null : resolveOrg(principal, identity.provider, external),
      ]).then(([subject, orgId]) => ({ subject, orgId }));
    },
    linkOrg: resolveOrg,
    clear() {
      subjects.clear();
      orgs.clear();
    },
  };
}

// Two first sights of one identity at once link it twice: idempotent for the same subject; for a
// different one the link that won is the answer.
async function recordLink(
  store: IdentityLinkStore,
  identity: LinkIdentity,
  subject: string,
): Promise<string> {
  try {
    return (
      await store.link({ provider: identity.provider, providerSubject: identity.providerSubject, subject })
    ).subject;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'store_conflict') {
      const winner = await unavailableOnError(() =>
        store.resolve(identity.provider, identity.providerSubject),
      );
      if (winner !== null) return winner;
    }
    throw new AuthRejection('provider_unavailable', 'The identity link store is unavailable', { cause: err });
  }
}

// The same for org links: a concurrent first sight of one org keeps the link that won.
async function recordOrgLink(
  store: IdentityLinkStore,
  provider: string,
  externalOrgId: string,
  orgId: string,
): Promise<string> {
  try {
    return (await store.linkOrg({ provider, externalOrgId, orgId })).orgId;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'store_conflict') {
      const winner = await unavailableOnError(() => store.resolveOrg(provider, externalOrgId));
      if (winner !== null) return winner;
    }
    throw new AuthRejection('provider_unavailable', 'The identity link store is unavailable', { cause: err });
  }
}

async function unavailableOnError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AuthRejection) throw err;
    throw new AuthRejection('provider_unavailable', 'The identity link store is unavailable', { cause: err });
  }
}
