/**
 * Options of {@link createTtlCache}.
 *
 * @example
 * ```ts
 * const options: TtlCacheOptions = { ttlSec: 60, maxEntries: 10_000 };
 * ```
 */
export interface TtlCacheOptions {
  /** Seconds an answer is reused; 0 disables caching (single-flight still applies). */
  readonly ttlSec: number;
  /** Upper bound on entries; the oldest goes first. */
  readonly maxEntries: number;
  readonly clock?: () => number;
}

/**
 * A bounded, TTL, single-flight cache of asynchronous lookups (vendor directory answers).
 *
 * @example
 * ```ts
 * const orgs = await cache.get(`orgs:${userId}`, () => fetchOrgs(userId));
 * ```
 */
export interface TtlCache<T> {
  /** The cached value, or the result of `load` (one call in flight per key; failures are not cached). */
  get(key: string, load: () => Promise<T>): Promise<T>;
  /** Forgets one key, every key starting with `prefix`, or everything. */
  forget(prefix?: string): void;
  readonly size: number;
}

/**
 * Creates a bounded TTL cache: insertion-ordered `Map` (O(1) eviction of the oldest), one load in
 * flight per key however many callers wait, errors never cached (an outage must not stick).
 *
 * @example
 * ```ts
 * const cache = createTtlCache<string[]>({ ttlSec: 60, maxEntries: 10_000 });
 * ```
 */
export function createTtlCache<T>(options: TtlCacheOptions): TtlCache<T> {
  const ttlMs = options.ttlSec * 1000;
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, { value: T; until: number }>();
  const inflight = new Map<string, Promise<T>>();
  return {
    get size() {
      return entries.size;
    },
    get(key, load) {
      const hit = entries.get(key);
      if (hit) {
        if (hit.until > clock()) return Promise.resolve(hit.value);
        entries.delete(key);
      }
      let pending = inflight.get(key);
      if (!pending) {
        pending = load()
          .then((value) => {
            if (ttlMs > 0) {
              while (entries.size >= options.maxEntries) {
                const oldest = entries.keys().next();
                if (oldest.done) break;
                entries.delete(oldest.value);
              }
              entries.set(key, { value, until: clock() + ttlMs });
            }
            return value;
          })
          .finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    },
    forget(prefix) {
      if (prefix === undefined) return entries.clear();
      for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
