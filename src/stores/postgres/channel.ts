// The LISTEN/NOTIFY invalidation channel: one dedicated connection, a liveness heartbeat, reconnects.
import type { ClientConfig, Client as PgClient, Pool } from 'pg';
import type { InvalidationChannel, InvalidationEvent } from '../contracts';
import type { PgPool } from '../driver-types';
import { toStoreError } from '../errors';
import { parseEvent } from '../events';
import { type LivenessOptions, livenessSettings, startHeartbeat } from '../liveness';
import { checkChannel, DEFAULT_NOTIFY_CHANNEL, loadPg, ownedPoolConfig, payload } from './context';

/** Options of {@link createPostgresInvalidationChannel}. */
export interface PostgresChannelOptions {
  /** Connection settings are copied from this pool, which also sends the NOTIFYs. */
  readonly pool?: PgPool;
  /** Or a connection string (a small pool is created for NOTIFYs and ended by `close()`). */
  readonly connectionString?: string;
  /** Default {@link DEFAULT_NOTIFY_CHANNEL}: the channel the stores notify on. */
  readonly channel?: string;
  /** Wait for the first LISTEN before returning (and throw when it fails). Default true. */
  readonly waitForConnection?: boolean;
  /** Longest wait between reconnection attempts. Default 5 000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** The heartbeat on the listening connection: `SELECT 1` every 250 ms, unhealthy after 1 s unanswered. */
  readonly liveness?: LivenessOptions;
  readonly onError?: (error: unknown) => void;
}

/**
 * An {@link InvalidationChannel} over PostgreSQL LISTEN/NOTIFY. One dedicated connection listens and
 * reconnects with backoff when it drops; while it is down `healthy` is false (caches shorten their
 * entries' life), and after it is back a `reset` event drops every cached entry. A connection that stops
 * answering without closing (a partition) is caught by a heartbeat on the listening connection: a
 * `SELECT 1` unanswered for `liveness.staleAfterMs` makes the channel unhealthy, an answer after such a
 * silence emits `reset`, and a silence of `liveness.reconnectAfterMs` drops the connection for a new one.
 *
 * @example
 * ```ts
 * const channel = await createPostgresInvalidationChannel({ pool: stores.pool });
 * const apiKeys = createCachedApiKeyStore({ store: stores.apiKeys, channel });
 * ```
 */
export async function createPostgresInvalidationChannel(
  options: PostgresChannelOptions,
): Promise<InvalidationChannel> {
  if (!options || (!options.pool && typeof options.connectionString !== 'string')) {
    throw new TypeError('createPostgresInvalidationChannel: pass a pool or a connectionString');
  }
  const pg = await loadPg();
  const channel = checkChannel(options.channel ?? DEFAULT_NOTIFY_CHANNEL);
  const ownedPool = !options.pool;
  const pool =
    (options.pool as Pool | undefined) ??
    new pg.Pool(ownedPoolConfig(options.connectionString as string, { max: 2 }));
  if (ownedPool) pool.on('error', (err) => options.onError?.(err));
  const clientConfig: ClientConfig = options.pool
    ? { ...(pool.options as ClientConfig) }
    : { connectionString: options.connectionString as string, connectionTimeoutMillis: 2_000 };
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const liveness = livenessSettings(options.liveness);
  const listeners = new Set<(event: InvalidationEvent) => void>();
  let client: PgClient | null = null;
  let healthy = false;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  const emit = (event: InvalidationEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        options.onError?.(err);
      }
    }
  };

  const lost = (c: PgClient, err?: unknown): void => {
    if (client !== c) return;
    client = null;
    healthy = false;
    if (err) options.onError?.(err);
    c.end().catch(() => {});
    // end() waits for the server; a partitioned socket never answers, so it is torn down here.
    (c as unknown as { connection?: { stream?: { destroy?(): void } } }).connection?.stream?.destroy?.();
    schedule();
  };

  const heartbeat = startHeartbeat(
    {
      // On the listening connection itself: a stalled socket delays this answer and the NOTIFYs alike.
      ping: () => {
        const c = client;
        return c && healthy ? c.query('SELECT 1') : Promise.resolve('not listening');
      },
      onRecovered: () => emit({ type: 'reset' }),
      onDead: () => {
        if (client) lost(client, new Error('The LISTEN connection stopped answering'));
      },
    },
    liveness,
  );

  const schedule = (): void => {
    if (closed || timer) return;
    const delay = Math.min(maxDelay, 100 * 2 ** Math.min(attempt++, 10));
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch(() => {});
    }, delay);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client(clientConfig);
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (msg) => {
      if (msg.channel !== channel || !msg.payload) return;
      const event = parseEvent(msg.payload);
      if (event) emit(event);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      lost(c, err);
      throw toStoreError(err, 'LISTEN');
    }
    if (client !== c || closed) return;
    attempt = 0;
    heartbeat.restart();
    healthy = true;
    emit({ type: 'reset' }); // notifications sent while we were away are lost: start from scratch
  };

  if (options.waitForConnection === false) {
    connect().catch(() => {});
  } else {
    try {
      await connect();
    } catch (err) {
      closed = true;
      heartbeat.stop();
      if (timer) clearTimeout(timer);
      if (ownedPool) await pool.end().catch(() => {});
      throw err;
    }
  }

  return Object.freeze({
    get healthy() {
      return healthy && !closed && heartbeat.alive;
    },
    async publish(event: InvalidationEvent): Promise<void> {
      try {
        await pool.query('SELECT pg_notify($1, $2)', [channel, payload(event)]);
      } catch (err) {
        throw toStoreError(err, 'NOTIFY');
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
      if (timer) clearTimeout(timer);
      listeners.clear();
      const c = client;
      client = null;
      await c?.end().catch(() => {});
      if (ownedPool) await pool.end();
    },
  });
}
