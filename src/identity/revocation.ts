import { ConfigError } from '../core/errors';

/**
 * One revocation entry: a single token by `jti`, or every token of a session.
 *
 * @example
 * ```ts
 * const key: RevocationKey = { sessionId: 'sess_1' };
 * ```
 */
export type RevocationKey = { readonly jti: string } | { readonly sessionId: string };

/**
 * What the plane asks the store about each verified principal.
 *
 * @example
 * ```ts
 * await store.isRevoked({ jti: 'abc', sessionId: null });
 * ```
 */
export interface RevocationLookup {
  readonly jti?: string | null;
  readonly sessionId?: string | null;
}

/**
 * Where revocations live. Asynchronous so that a shared store (Redis, Postgres) can implement it and
 * every instance behind a load balancer refuses the same tokens.
 *
 * @example
 * ```ts
 * const store: RevocationStore = createMemoryRevocationStore();
 * await store.add({ jti: 'abc' }, new Date(Date.now() + 3600_000));
 * await store.isRevoked({ jti: 'abc' }); // true
 * ```
 */
export interface RevocationStore {
  /** Records a revocation until `until` (the token's own expiry); the store's retention when omitted. */
  add(target: RevocationKey, until?: Date): Promise<void>;
  /** True when the jti or the session has been revoked and the entry has not expired. */
  isRevoked(lookup: RevocationLookup): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Optional synchronous hint: true only when the store certainly holds nothing, so the plane can
   * skip the asynchronous lookup on its hot path. Shared stores usually leave it out.
   */
  isEmpty?(): boolean;
}

/**
 * Options of {@link createMemoryRevocationStore}.
 *
 * @example
 * ```ts
 * createMemoryRevocationStore({ retentionSec: 3600, maxEntries: 10_000, clock: () => fakeNow });
 * ```
 */
export interface MemoryRevocationStoreOptions {
  /** Seconds an entry added without `until` is kept. Default one day. */
  readonly retentionSec?: number;
  /** Upper bound on entries; when full, expired entries go first, then the oldest. Default 100 000. */
  readonly maxEntries?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * A bounded in-process revocation store: the default of every plane. Entries expire at their `until`
 * (or after `retentionSec`). When `maxEntries` is reached, expired entries are dropped first and then
 * the oldest insertion: the bound wins over completeness, so size it above the number of live
 * revocations you expect, or use a shared store.
 *
 * @example
 * ```ts
 * const revocation = createMemoryRevocationStore({ retentionSec: 3600, maxEntries: 10_000 });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, revocation });
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): RevocationStore {
  const retentionSec = options.retentionSec ?? 86_400;
  const maxEntries = options.maxEntries ?? 100_000;
  const clock = options.clock ?? Date.now;
  if (typeof retentionSec !== 'number' || !Number.isFinite(retentionSec) || retentionSec <= 0) {
    throw new ConfigError('retentionSec', 'must be a positive number of seconds');
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
    throw new ConfigError('maxEntries', 'must be a positive integer');
  }
  if (typeof clock !== 'function') throw new ConfigError('clock', 'must be a function');

  // One insertion-ordered map: the first key is the oldest, so eviction by age is O(1).
  // Keys are prefixed so a jti and a session id with the same value never collide.
  const entries = new Map<string, number>();
  // Earliest expiry that may still be in the map: a full store sweeps only when something can have expired.
  let earliestExpiry = Number.POSITIVE_INFINITY;

  const sweepExpired = (now: number): void => {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, expiresAt] of entries) {
      if (expiresAt <= now) entries.delete(key);
      else if (expiresAt < earliest) earliest = expiresAt;
    }
    earliestExpiry = earliest;
  };

  const put = (key: string, expiresAt: number, now: number): void => {
    const existing = entries.get(key);
    if (existing !== undefined) {
      entries.delete(key);
      expiresAt = Math.max(existing, expiresAt);
    } else if (entries.size >= maxEntries) {
      if (earliestExpiry <= now) sweepExpired(now);
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    }
    entries.set(key, expiresAt);
    if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
  };

  const live = (key: string, now: number): boolean => {
    const expiresAt = entries.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt <= now) {
      entries.delete(key);
      return false;
    }
    return true;
  };

  return Object.freeze({
    async add(target: RevocationKey, until?: Date): Promise<void> {
      const now = clock();
      const untilMs = until instanceof Date ? until.getTime() : Number.NaN;
      const expiresAt = Number.isFinite(untilMs) ? untilMs : now + retentionSec * 1000;
      if (expiresAt <= now) return; // already expired: the token is refused by its own exp
      if ('jti' in target && typeof target.jti === 'string') put(`j:${target.jti}`, expiresAt, now);
      if ('sessionId' in target && typeof target.sessionId === 'string')
        put(`s:${target.sessionId}`, expiresAt, now);
    },
    async isRevoked(lookup: RevocationLookup): Promise<boolean> {
      if (entries.size === 0) return false;
      const now = clock();
      return (
        (typeof lookup.jti === 'string' && live(`j:${lookup.jti}`, now)) ||
        (typeof lookup.sessionId === 'string' && live(`s:${lookup.sessionId}`, now))
      );
    },
    async close(): Promise<void> {
      entries.clear();
      earliestExpiry = Number.POSITIVE_INFINITY;
    },
    isEmpty(): boolean {
      return entries.size === 0;
    },
  });
}
