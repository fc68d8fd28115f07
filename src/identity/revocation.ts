import { ConfigError } from '../core/errors';
import { StoreError } from '../stores/errors';

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
  /**
   * Upper bound on live entries. Expired entries make room; a live one never does: when every entry is
   * still live, `add` rejects with `StoreError('store_full')`. Default 100 000.
   */
  readonly maxEntries?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * A bounded in-process revocation store: the default of every plane. Entries expire at their `until`
 * (or after `retentionSec`), and only then leave the store: dropping a live entry to make room would
 * un-revoke a stolen token. When `maxEntries` live entries are held, `add` rejects with
 * `StoreError('store_full')` (the plane counts it in `authplane.revocation.failures`), so size it above
 * the number of live revocations you expect, or use a shared store.
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

  // Revoked-until per key. Keys are prefixed so a jti and a session id with the same value never collide.
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

  // Makes room for `count` new keys by dropping expired entries only; refuses when that is not enough.
  const reserve = (count: number, now: number): void => {
    if (count === 0 || entries.size + count <= maxEntries) return;
    if (earliestExpiry <= now) sweepExpired(now);
    if (entries.size + count > maxEntries) {
      throw new StoreError(
        'store_full',
        `The memory revocation store holds ${maxEntries} live revocations (maxEntries): the revocation was not recorded`,
      );
    }
  };

  const put = (key: string, expiresAt: number): void => {
    const existing = entries.get(key);
    entries.set(key, existing !== undefined ? Math.max(existing, expiresAt) : expiresAt);
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
      const keys: string[] = [];
      if ('jti' in target && typeof target.jti === 'string') keys.push(`j:${target.jti}`);
      if ('sessionId' in target && typeof target.sessionId === 'string') keys.push(`s:${target.sessionId}`);
      // All or nothing: room for every new key is checked before anything is written.
      reserve(keys.filter((k) => !live(k, now)).length, now);
      for (const key of keys) put(key, expiresAt);
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
