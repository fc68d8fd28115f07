import { DEFAULT_HOOK_TIMEOUT_MS, withDeadline } from '../core/deadline';
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
   * The internal `subject` and `orgId` (the provider's when unlinked). Synchronous when both answers are
   * cached (the hot path), a promise otherwise.
   */
  link(principal: Principal): Linked | Promise<Linked>;
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

  const resolveSubject = async (principal: Principal): Promise<string> => {
    const key = `${principal.provider}\u0000${principal.providerSubject}`;
    const hit = recall(subjects, key);
    if (hit) return hit.value ?? principal.providerSubject;
    let subject = await unavailableOnError(() =>
      store.resolve(principal.provider, principal.providerSubject),
    );
    if (subject === null && onFirstSight) {
      // A hook that never answers must not hold the request: same deadline as every other hook.
      const found = await unavailableOnError(() =>
        withDeadline('onFirstSight', DEFAULT_HOOK_TIMEOUT_MS, () =>
          onFirstSight({ provider: principal.provider, principal }),
        ),
      );
      if (typeof found === 'string' && found !== '') {
        subject = await recordLink(store, principal, found);
      }
    }
    remember(subjects, key, subject);
    return subject ?? principal.providerSubject;
  };

  const resolveOrg = async (principal: Principal): Promise<string | null> => {
    const external = principal.orgId;
    if (external === null) return null;
    const key = `${principal.provider}\u0000${external}`;
    const hit = recall(orgs, key);
    if (hit) return hit.value ?? external;
    const org = await unavailableOnError(() => store.resolveOrg(principal.provider, external));
    remember(orgs, key, org);
    return org ?? external;
  };

  return {
    link(principal) {
      const subjectHit = recall(subjects, `${principal.provider}\u0000${principal.providerSubject}`);
      const external = principal.orgId;
      const orgHit = external === null ? null : recall(orgs, `${principal.provider}\u0000${external}`);
      if (subjectHit && orgHit !== undefined) {
        return {
          subject: subjectHit.value ?? principal.providerSubject,
          orgId: orgHit === null ? null : (orgHit.value ?? external),
        };
      }
      return Promise.all([resolveSubject(principal), resolveOrg(principal)]).then(([subject, orgId]) => ({
        subject,
        orgId,
      }));
    },
    clear() {
      subjects.clear();
      orgs.clear();
    },
  };
}

// Two first sights of one identity at once link it twice: idempotent for the same subject; for a
// different one the link that won is the answer.
async function recordLink(store: IdentityLinkStore, principal: Principal, subject: string): Promise<string> {
  try {
    return (
      await store.link({ provider: principal.provider, providerSubject: principal.providerSubject, subject })
    ).subject;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'store_conflict') {
      const winner = await unavailableOnError(() =>
        store.resolve(principal.provider, principal.providerSubject),
      );
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
