// Local caches in front of shared stores, kept honest by an invalidation channel.
//
// How long a stale answer can live is bounded twice:
// - while the channel is healthy, an entry lives at most `ttlMs` (a missed message cannot last longer);
// - while it is down, stalled (its heartbeat unanswered for about a second) or absent, at most
//   `degradedTtlMs` (default 1 s), so a revocation made on another instance is refused here within about
//   two seconds (one of silence, one of entry life) even when the channel delivers nothing;
// - when the channel (re)connects it emits `reset` and every entry is dropped (messages may have been lost).
// A fetch that was in flight while an invalidation arrived is returned but not cached, so a revocation
// can never be overwritten by an answer read just before it.
import type {
  ApiKeyFilter,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyUpdate,
  ApiKeyUsage,
  InvalidationChannel,
  InvalidationEvent,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from './contracts';
import { unavailable } from './errors';
import { copyApiKey } from './records';

/** Options shared by the cached stores. */
export interface CacheOptions {
  /** Where invalidations are published and heard. Without one, entries live `degradedTtlMs`. */
  readonly channel?: InvalidationChannel;
  /** Longest life of an entry while the channel is healthy. Default 30 000 ms. */
  readonly ttlMs?: number;
  /** Longest life of an entry while the channel is down or absent. Default 1 000 ms. */
  readonly degradedTtlMs?: number;
  /** Upper bound on cached entries; the oldest go first. Default 10 000. */
  readonly maxEntries?: number;
  /** Called when publishing an invalidation fails (the write itself succeeded). */
  readonly onError?: (error: unknown) => void;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

interface Entry<T> {
  readonly value: T;
  readonly at: number;
}

/** A bounded map with age-based freshness that follows the channel's health. */
class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Bumped by every invalidation: an in-flight fetch that started before it is not cached. */
  epoch = 0;
  private readonly ttlMs: number;
  private readonly degradedTtlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly channel: InvalidationChannel | undefined;

  constructor(options: CacheOptions) {
    this.ttlMs = positive(options.ttlMs ?? 30_000, 'ttlMs');
    this.degradedTtlMs = positive(options.degradedTtlMs ?? 1_000, 'degradedTtlMs');
    this.maxEntries = positive(options.maxEntries ?? 10_000, 'maxEntries');
    this.clock = options.clock ?? Date.now;
    this.channel = options.channel;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Entry<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const maxAge = this.channel?.healthy ? this.ttlMs : this.degradedTtlMs;
    if (this.clock() - entry.at >= maxAge) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: T, epoch: number = this.epoch): void {
    if (epoch !== this.epoch) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, at: this.clock() });
  }

  delete(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }

  clear(): void {
    this.epoch++;
    this.entries.clear();
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number`);
  }
  return value;
}

/**
 * An {@link ApiKeyStore} with an invalidation-driven cache in front of it: what makes PostgreSQL-backed
 * API key verification run at memory speed. Revoking through any instance's cached store (or through a
 * PostgreSQL store that notifies) drops the entry everywhere. `close()` closes the inner store, not the
 * channel (which several caches may share).
 *
 * @example
 * ```ts
 * const pg = await createPostgresStores({ connectionString: process.env.DATABASE_URL });
 * const channel = await createRedisInvalidationChannel({ url: process.env.REDIS_URL });
 * const keys = createApiKeys({ store: createCachedApiKeyStore({ store: pg.apiKeys, channel }), prefix: 'ap_live' });
 * ```
 */
export function createCachedApiKeyStore(
  options: CacheOptions & { readonly store: ApiKeyStore },
): ApiKeyStore & { readonly size: number; invalidate(id: string): void } {
  const { store, channel, onError } = options;
  const cache = new TtlCache<ApiKeyRecord | null>(options);
  const inflight = new Map<string, Promise<ApiKeyRecord | null>>();

  const unsubscribe = channel?.subscribe((event: InvalidationEvent) => {
    if (event.type === 'reset') cache.clear();
    else if (event.type === 'api_key') cache.delete(event.id);
  });

  const publish = async (id: string): Promise<void> => {
    try {
      await channel?.publish({ type: 'api_key', id });
    } catch (err) {
      onError?.(err);
    }
  };

  const fetch = (id: string): Promise<ApiKeyRecord | null> => {
    const pending = inflight.get(id);
    if (pending) return pending; // single flight: a burst of requests with one key reads the store once
    const epoch = cache.epoch;
    const promise = store.findById(id).then(
      (record) => {
        inflight.delete(id);
        cache.set(id, record, epoch);
        return record;
      },
      (err: unknown) => {
        inflight.delete(id);
        throw err;
      },
    );
    inflight.set(id, promise);
    return promise;
  };

  return {
    get size() {
      return cache.size;
    },
    invalidate(id: string): void {
      cache.delete(id);
    },
    async insert(record: ApiKeyRecord): Promise<void> {
      await store.insert(record);
      cache.delete(record.id); // a negative entry for this id (a guessed id) must not hide the new key
    },
    async findById(id: string): Promise<ApiKeyRecord | null> {
      const hit = cache.get(id);
      const record = hit ? hit.value : await fetch(id);
      return record ? copyApiKey(record) : null;
    },
    list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
      return store.list(filter);
    },
    async update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null> {
      cache.delete(id);
      const record = await store.update(id, change);
      cache.delete(id);
      await publish(id);
      return record;
    },
    touch(usages: readonly ApiKeyUsage[]): Promise<void> {
      return store.touch(usages);
    },
    async close(): Promise<void> {
      unsubscribe?.();
      cache.clear();
      await store.close();
    },
  };
}

/**
 * A {@link RevocationStore} with a local cache: `isRevoked` answers from memory for known jtis and
 * sessions, and a revocation on any instance reaches every other through the channel. `close()` closes
 * the inner store, not the channel.
 *
 * @example
 * ```ts
 * const redis = await createRedisRevocationStore({ url: process.env.REDIS_URL });
 * const revocation = createCachedRevocationStore({ store: redis, channel });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, revocation });
 * ```
 */
export function createCachedRevocationStore(
  options: CacheOptions & { readonly store: RevocationStore },
): RevocationStore & { readonly size: number } {
  const { store, channel, onError } = options;
  const clock = options.clock ?? Date.now;
  // The cached value is "revoked until" in epoch ms: 0 for not revoked, Infinity when the store said
  // revoked without saying until when (a lapsed entry's token is past its own exp anyway).
  const cache = new TtlCache<number>(options);

  const remember = (event: { jti?: string; sessionId?: string; until?: number }): void => {
    // A revocation is final until it lapses: remember the positive answer at once.
    const until = event.until ?? Number.POSITIVE_INFINITY;
    if (until <= clock()) return;
    for (const key of [
      typeof event.jti === 'string' ? `j:${event.jti}` : null,
      typeof event.sessionId === 'string' ? `s:${event.sessionId}` : null,
    ]) {
      if (key === null) continue;
      cache.delete(key);
      cache.set(key, until);
    }
  };

  const unsubscribe = channel?.subscribe((event: InvalidationEvent) => {
    if (event.type === 'reset') cache.clear();
    else if (event.type === 'revocation') remember(event);
  });

  const check = async (key: string, lookup: RevocationLookup): Promise<boolean> => {
    const hit = cache.get(key);
    // A lapsed positive entry is a miss, not a "no": the store may hold a later until from another add.
    if (hit && (hit.value === 0 || hit.value > clock())) return hit.value !== 0;
    const epoch = cache.epoch;
    const revoked = await store.isRevoked(lookup);
    // A positive answer is always safe to keep; a negative one only if no revocation arrived meanwhile.
    cache.set(key, revoked ? Number.POSITIVE_INFINITY : 0, revoked ? cache.epoch : epoch);
    return revoked;
  };

  return {
    get size() {
      return cache.size;
    },
    async add(target: RevocationKey, until?: Date): Promise<void> {
      await store.add(target, until);
      const untilMs = until instanceof Date && Number.isFinite(until.getTime()) ? until.getTime() : undefined;
      const event = {
        type: 'revocation' as const,
        ...('jti' in target ? { jti: target.jti } : {}),
        ...('sessionId' in target ? { sessionId: target.sessionId } : {}),
        ...(untilMs !== undefined ? { until: untilMs } : {}),
      };
      remember(event);
      try {
        await channel?.publish(event);
      } catch (err) {
        onError?.(err);
      }
    },
    async isRevoked(lookup: RevocationLookup): Promise<boolean> {
      try {
        const checks: Promise<boolean>[] = [];
        if (typeof lookup.jti === 'string') checks.push(check(`j:${lookup.jti}`, { jti: lookup.jti }));
        if (typeof lookup.sessionId === 'string') {
          checks.push(check(`s:${lookup.sessionId}`, { sessionId: lookup.sessionId }));
        }
        return (await Promise.all(checks)).some(Boolean);
      } catch (err) {
        throw unavailable(err, 'revocation store');
      }
    },
    async close(): Promise<void> {
      unsubscribe?.();
      cache.clear();
      await store.close();
    },
  };
}
