// Redis (ioredis, an optional peer): the shared revocation list (one key per jti or session, expiring
// with the token) and a pub/sub invalidation channel. Clients created here fail fast: no offline queue
// and one retry per command, so an outage becomes `provider_unavailable` within about a second instead
// of requests piling up behind a reconnect. Needs Redis >= 7 (PEXPIRE … GT).
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import type { MigrationControlStore } from '../migration/control/types';
import type {
  InvalidationChannel,
  InvalidationEvent,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from './contracts';
import { toStoreError, unavailable } from './errors';
import { parseEvent } from './events';
import { createRedisMigrationControlStore } from './migration-control/redis';
import { loadPeer } from './peer';

/** Connection settings shared by the Redis factories. */
export interface RedisConnectionOptions {
  /** `redis://host:port/db`; the connection is owned and closed by `close()`. */
  readonly url?: string;
  /** Or an existing client, left open by `close()`. Its own retry and queue settings apply. */
  readonly client?: RedisClient;
  /** Extra ioredis options for an owned client. */
  readonly redisOptions?: RedisOptions;
  /** Receives connection errors; without it they are ignored (ioredis would print them). */
  readonly onError?: (error: unknown) => void;
}

const FAIL_FAST: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 1_000,
  retryStrategy: (times: number) => Math.min(times * 100, 2_000),
};

async function connectRedis(options: RedisConnectionOptions, extra: RedisOptions = {}): Promise<RedisClient> {
  if (typeof options.url !== 'string') throw new TypeError('Redis: pass a url or a client');
  const mod = await loadPeer('ioredis', 'Redis stores', () => import('ioredis'));
  const Redis = mod.Redis ?? (mod as unknown as { default: typeof mod.Redis }).default;
  const client = new Redis(options.url, { ...FAIL_FAST, ...options.redisOptions, ...extra });
  client.on('error', (err: unknown) => options.onError?.(err));
  return client;
}

/** Options of {@link createRedisRevocationStore}. */
export interface RedisRevocationStoreOptions extends RedisConnectionOptions {
  /** Prefix of the revocation keys. Default `authplane:rev:`. */
  readonly keyPrefix?: string;
  /** Seconds an entry added without `until` is kept. Default one day. */
  readonly retentionSec?: number;
  /** Test seam: epoch milliseconds (entries expire by Redis's own clock, relative to this). */
  readonly clock?: () => number;
}

/**
 * A shared {@link RevocationStore} in Redis: each revoked jti or session is a key whose TTL is the token's
 * remaining lifetime, so the list cleans itself. Put {@link createCachedRevocationStore} in front to
 * answer hot lookups from memory.
 *
 * @example
 * ```ts
 * const revocation = await createRedisRevocationStore({ url: process.env.REDIS_URL });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, revocation });
 * ```
 */
export async function createRedisRevocationStore(
  options: RedisRevocationStoreOptions,
): Promise<RevocationStore> {
  const owned = !options.client;
  const client = options.client ?? (await connectRedis(options));
  if (owned) {
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw toStoreError(err, 'connecting to Redis');
    }
  }
  const prefix = options.keyPrefix ?? 'authplane:rev:';
  const retentionMs = (options.retentionSec ?? 86_400) * 1000;
  const clock = options.clock ?? Date.now;
  let closed = false;
  return Object.freeze({
    async add(target: RevocationKey, until?: Date): Promise<void> {
      const now = clock();
      const untilMs =
        until instanceof Date && Number.isFinite(until.getTime()) ? until.getTime() : now + retentionMs;
      const ttl = Math.ceil(untilMs - now);
      if (ttl <= 0) return;
      const keys: string[] = [];
      if ('jti' in target) keys.push(`${prefix}j:${target.jti}`);
      if ('sessionId' in target) keys.push(`${prefix}s:${target.sessionId}`);
      try {
        const tx = client.multi();
        // NX then GT: create with this TTL, or only ever extend an existing entry's TTL.
        for (const key of keys) tx.set(key, '1', 'PX', ttl, 'NX').pexpire(key, ttl, 'GT');
        const results = await tx.exec();
        const failed = results?.find(([err]) => err);
        if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
      } catch (err) {
        throw toStoreError(err, 'revocation insert');
      }
    },
    async isRevoked(lookup: RevocationLookup): Promise<boolean> {
      const keys: string[] = [];
      if (typeof lookup.jti === 'string') keys.push(`${prefix}j:${lookup.jti}`);
      if (typeof lookup.sessionId === 'string') keys.push(`${prefix}s:${lookup.sessionId}`);
      if (keys.length === 0) return false;
      try {
        return (await client.exists(...keys)) > 0;
      } catch (err) {
        throw unavailable(err, 'revocation store');
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  });
}

/** Options of {@link createRedisInvalidationChannel}. */
export interface RedisChannelOptions extends RedisConnectionOptions {
  /** Pub/sub channel name. Default `authplane:invalidation`. */
  readonly channel?: string;
  /** Wait for the first subscription before returning (and throw when it fails). Default true. */
  readonly waitForConnection?: boolean;
}

/**
 * An {@link InvalidationChannel} over Redis pub/sub. A dedicated subscriber connection resubscribes after
 * every reconnect and then emits `reset` (messages published meanwhile are lost); `healthy` is true only
 * while the subscription is live.
 *
 * @example
 * ```ts
 * const channel = await createRedisInvalidationChannel({ url: process.env.REDIS_URL });
 * const revocation = createCachedRevocationStore({ store: await createRedisRevocationStore({ url }), channel });
 * ```
 */
export async function createRedisInvalidationChannel(
  options: RedisChannelOptions,
): Promise<InvalidationChannel> {
  const name = options.channel ?? 'authplane:invalidation';
  const owned = !options.client;
  const publisher = options.client ?? (await connectRedis(options));
  // A subscribed connection can run no other command: the subscriber is always a separate connection.
  const subscriber = options.client
    ? options.client.duplicate({ ...FAIL_FAST, autoResubscribe: false })
    : await connectRedis(options, { autoResubscribe: false });
  if (options.client) subscriber.on('error', (err: unknown) => options.onError?.(err));
  const listeners = new Set<(event: InvalidationEvent) => void>();
  let healthy = false;
  let closed = false;

  const emit = (event: InvalidationEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        options.onError?.(err);
      }
    }
  };

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== name) return;
    const event = parseEvent(message);
    if (event) emit(event);
  });
  subscriber.on('close', () => {
    healthy = false;
  });
  let firstSubscribed: () => void = () => {};
  const firstSubscription = new Promise<void>((resolve) => {
    firstSubscribed = resolve;
  });
  // Every (re)connection: subscribe, then declare the channel healthy and drop what caches hold.
  subscriber.on('ready', () => {
    subscriber.subscribe(name).then(
      () => {
        if (closed) return;
        healthy = true;
        firstSubscribed();
        emit({ type: 'reset' });
      },
      (err: unknown) => options.onError?.(err),
    );
  });

  const connectAll = async (): Promise<void> => {
    if (owned) await publisher.connect();
    await subscriber.connect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis SUBSCRIBE timed out')), 2_000);
    });
    try {
      await Promise.race([firstSubscription, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  if (options.waitForConnection === false) {
    connectAll().catch((err: unknown) => options.onError?.(err));
  } else {
    try {
      await connectAll();
    } catch (err) {
      closed = true;
      subscriber.disconnect();
      if (owned) publisher.disconnect();
      throw toStoreError(err, 'subscribing to Redis');
    }
  }

  return Object.freeze({
    get healthy() {
      return healthy && !closed;
    },
    async publish(event: InvalidationEvent): Promise<void> {
      try {
        await publisher.publish(name, JSON.stringify(event));
      } catch (err) {
        throw toStoreError(err, 'publishing an invalidation');
      }
    },
    subscribe(listener: (event: InvalidationEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      healthy = false;
      listeners.clear();
      subscriber.disconnect();
      if (owned) await publisher.quit().catch(() => publisher.disconnect());
    },
  });
}

/** Options of {@link openRedisStores}. */
export interface RedisStoresOptions extends RedisConnectionOptions {
  /** Prefix of every key. Default `authplane:` (revocations under `authplane:rev:`). */
  readonly keyPrefix?: string;
  /** Pub/sub channel of invalidations and control changes. Default `authplane:invalidation`. */
  readonly channel?: string;
}

/**
 * The Redis stores over one connection: the revocation list, the invalidation channel (its own
 * subscriber connection) and the migration control store, whose changes are published on that channel.
 *
 * @example
 * ```ts
 * const redis = await openRedisStores({ url: process.env.REDIS_URL });
 * const plane = await createMigrationPlane({ ...config, control: { store: redis.migrationControl, channel: redis.channel } });
 * ```
 */
export interface RedisStores {
  readonly revocation: RevocationStore;
  readonly channel: InvalidationChannel;
  readonly migrationControl: MigrationControlStore;
  readonly client: RedisClient;
  close(): Promise<void>;
}

/**
 * Opens the Redis stores (needs the optional peer `ioredis`).
 *
 * @throws StoreError `store_unavailable` when Redis cannot be reached.
 * @example
 * ```ts
 * const { migrationControl, channel, close } = await openRedisStores({ url: 'redis://127.0.0.1:6379' });
 * ```
 */
export async function openRedisStores(options: RedisStoresOptions): Promise<RedisStores> {
  const prefix = options.keyPrefix ?? 'authplane:';
  const channelName = options.channel ?? 'authplane:invalidation';
  const owned = !options.client;
  const client = options.client ?? (await connectRedis(options));
  if (owned) {
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw toStoreError(err, 'connecting to Redis');
    }
  }
  let channel: InvalidationChannel;
  try {
    channel = await createRedisInvalidationChannel({ ...options, client, channel: channelName });
  } catch (err) {
    if (owned) client.disconnect();
    throw err;
  }
  const revocation = await createRedisRevocationStore({ ...options, client, keyPrefix: `${prefix}rev:` });
  const migrationControl = createRedisMigrationControlStore({
    client,
    keyPrefix: prefix,
    channel: channelName,
  });
  let closed = false;
  return Object.freeze({
    revocation,
    channel,
    migrationControl,
    client,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await channel.close();
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  });
}
