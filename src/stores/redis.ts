// Redis (ioredis, an optional peer): the shared revocation list (one key per jti or session, expiring
// with the token) and a pub/sub invalidation channel. Clients created here fail fast: no offline queue
// and one retry per command, so an outage becomes `provider_unavailable` within about a second instead
// of requests piling up behind a reconnect. Needs Redis >= 7 (PEXPIRE … GT).
import type { Redis as IoRedis, RedisOptions } from 'ioredis';
import { ConfigError } from '../core/errors';
import type { MigrationControlStore } from '../migration/control/types';
import type {
  InvalidationChannel,
  InvalidationEvent,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from './contracts';
import type { RedisClient, RedisClientOptions } from './driver-types';
import { toStoreError, unavailable } from './errors';
import { parseEvent } from './events';
import { type LivenessOptions, livenessSettings, startHeartbeat } from './liveness';
import { createRedisMigrationControlStore } from './migration-control/redis';
import { loadPeer } from './peer';

/** Connection settings shared by the Redis factories. */
export interface RedisConnectionOptions {
  /** `redis://host:port/db`; the connection is owned and closed by `close()`. */
  readonly url?: string;
  /** Or an existing client, left open by `close()`. Its own retry and queue settings apply. */
  readonly client?: RedisClient;
  /** Extra ioredis options for an owned client. */
  readonly redisOptions?: RedisClientOptions;
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

async function connectRedis(options: RedisConnectionOptions, extra: RedisOptions = {}): Promise<IoRedis> {
  if (typeof options.url !== 'string') throw new TypeError('Redis: pass a url or a client');
  const mod = await loadPeer('ioredis', 'Redis stores', () => import('ioredis'));
  const Redis = mod.Redis ?? (mod as unknown as { default: typeof mod.Redis }).default;
  const client = new Redis(options.url, { ...FAIL_FAST, ...options.redisOptions, ...extra });
  client.on('error', (err: unknown) => options.onError?.(err));
  return client;
}

// The caller's client (left open by `close()`), or a new one owned here and already connected: a
// connection that fails is closed again and reported as `store_unavailable`.
async function clientOf(options: RedisConnectionOptions): Promise<{ client: IoRedis; owned: boolean }> {
  if (options.client) return { client: options.client as IoRedis, owned: false };
  const client = await connectRedis(options);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw toStoreError(err, 'connecting to Redis');
  }
  return { client, owned: true };
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
 * remaining lifetime, so the list cleans itself. The server must not evict (`maxmemory-policy
 * noeviction`, checked at open: a `ConfigError` otherwise); when it is full, `add` rejects with
 * `StoreError('store_full')` and nothing already stored is lost. Put {@link createCachedRevocationStore} in front to
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
  const { client, owned } = await clientOf(options);
  try {
    await refuseEviction(client, options.onError);
  } catch (err) {
    if (owned) client.disconnect();
    throw err;
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

/**
 * A Redis that evicts keys under memory pressure (any `maxmemory-policy` but `noeviction`; the
 * `volatile-*` ones pick exactly the keys with a TTL, which every revocation has) would silently
 * un-revoke tokens. Refused at open. With `noeviction`, a full Redis refuses the write instead, and
 * `add` rejects with `store_full`. A server that hides INFO is reported to `onError` and accepted.
 */
async function refuseEviction(
  client: IoRedis,
  onError: ((error: unknown) => void) | undefined,
): Promise<void> {
  let info: string;
  try {
    info = await client.info('memory');
  } catch (err) {
    onError?.(err);
    return;
  }
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy !== undefined && policy !== 'noeviction') {
    throw new ConfigError(
      'redis',
      `maxmemory-policy is ${policy}: Redis may evict revocations before the tokens they refuse expire. ` +
        'Set maxmemory-policy noeviction (a full Redis then refuses new revocations with store_full).',
    );
  }
}

/** Options of {@link createRedisInvalidationChannel}. */
export interface RedisChannelOptions extends RedisConnectionOptions {
  /** Pub/sub channel name. Default `authplane:invalidation`. */
  readonly channel?: string;
  /** Wait for the first subscription before returning (and throw when it fails). Default true. */
  readonly waitForConnection?: boolean;
  /** The heartbeat on the subscriber connection: PING every 250 ms, unhealthy after 1 s unanswered. */
  readonly liveness?: LivenessOptions;
}

/**
 * An {@link InvalidationChannel} over Redis pub/sub. A dedicated subscriber connection resubscribes after
 * every reconnect and then emits `reset` (messages published meanwhile are lost). `healthy` is true only
 * while the subscription is live AND answers: the subscriber PINGs every `liveness.heartbeatMs`, a PING
 * unanswered for `liveness.staleAfterMs` (a hung Redis, a socket that stopped answering without closing)
 * makes it unhealthy, an answer after such a silence emits `reset`, and a silence of
 * `liveness.reconnectAfterMs` drops the connection and opens a new one.
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
  const liveness = livenessSettings(options.liveness);
  const owned = !options.client;
  const publisher = (options.client as IoRedis | undefined) ?? (await connectRedis(options));
  // A subscribed connection can run no other command: the subscriber is always a separate connection.
  const subscriber = options.client
    ? (options.client as IoRedis).duplicate({ ...FAIL_FAST, autoResubscribe: false })
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
  const heartbeat = startHeartbeat(
    {
      // PING is allowed on a subscribed connection: it travels the very socket messages arrive on.
      ping: () => (healthy ? subscriber.ping() : Promise.resolve('not subscribed')),
      onRecovered: () => emit({ type: 'reset' }),
      onDead: () => {
        healthy = false;
        subscriber.disconnect(true); // reconnect: 'ready' resubscribes and emits reset
      },
    },
    liveness,
  );
  let firstSubscribed: () => void = () => {};
  const firstSubscription = new Promise<void>((resolve) => {
    firstSubscribed = resolve;
  });
  // Every (re)connection: subscribe, then declare the channel healthy and drop what caches hold.
  subscriber.on('ready', () => {
    subscriber.subscribe(name).then(
      () => {
        if (closed) return;
        heartbeat.restart();
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
      heartbeat.stop();
      subscriber.disconnect();
      if (owned) publisher.disconnect();
      throw toStoreError(err, 'subscribing to Redis');
    }
  }

  return Object.freeze({
    get healthy() {
      return healthy && !closed && heartbeat.alive;
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
      heartbeat.stop();
      listeners.clear();
      subscriber.disconnect();
      if (owned) await publisher.quit().catch(() => publisher.disconnect());
    },
  });
}

/** Options of {@link createRedisDpopReplayStore}. */
export interface RedisDpopReplayStoreOptions extends RedisConnectionOptions {
  /** Prefix of the replay keys. Default `authplane:dpop:`. */
  readonly keyPrefix?: string;
}

/**
 * A shared `DpopReplayStore` in Redis: each accepted DPoP proof is one `SET NX EX` key that lives as long
 * as the proof could pass the `iat` window, so a proof replayed to any instance is refused
 * (`dpop_replayed`) and the keys clean themselves. An outage is `provider_unavailable`, never an accept.
 *
 * @example
 * ```ts
 * const replayStore = await createRedisDpopReplayStore({ url: process.env.REDIS_URL });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, dpop: { replayStore } });
 * ```
 */
export async function createRedisDpopReplayStore(
  options: RedisDpopReplayStoreOptions,
): Promise<{ use(key: string, ttlSec: number): Promise<boolean>; close(): Promise<void> }> {
  const { client, owned } = await clientOf(options);
  const prefix = options.keyPrefix ?? 'authplane:dpop:';
  let closed = false;
  return Object.freeze({
    async use(key: string, ttlSec: number): Promise<boolean> {
      try {
        const answer = await client.set(`${prefix}${key}`, '1', 'EX', Math.max(1, Math.ceil(ttlSec)), 'NX');
        return answer === 'OK';
      } catch (err) {
        throw unavailable(err, 'DPoP replay store');
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await client.quit().catch(() => client.disconnect());
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
  const { client, owned } = await clientOf(options);
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
