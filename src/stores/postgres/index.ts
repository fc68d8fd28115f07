// PostgreSQL stores (pg, an optional peer) and a LISTEN/NOTIFY invalidation channel.
// Revoking an API key or adding a revocation also NOTIFYs in the same statement, so every listening
// instance hears about it when (and only when) the write commits, even if the writer is a CLI that
// configured no channel of its own.
import type { Pool, PoolConfig } from 'pg';
import type { MigrationControlStore } from '../../migration/control/types';
import type { ApiKeyStore, ConnectionStore, IdentityLinkStore, RevocationStore } from '../contracts';
import type { PgPool, PgPoolConfig } from '../driver-types';
import { createPostgresMigrationControlStore } from '../migration-control/postgres';
import { pgApiKeyStore } from './api-keys';
import { pgConnectionStore } from './connections';
import { type Ctx, checkChannel, DEFAULT_NOTIFY_CHANNEL, loadPg, ownedPoolConfig } from './context';
import { pgLinkStore } from './links';
import { migratePostgres, quoteSchema } from './migrations';
import { pgRevocationStore } from './revocation';

export { createPostgresInvalidationChannel, type PostgresChannelOptions } from './channel';
export { DEFAULT_NOTIFY_CHANNEL } from './context';

export { migratePostgres, POSTGRES_MIGRATIONS, type PostgresMigration, quoteSchema } from './migrations';

/** Options of {@link createPostgresStores}. */
export interface PostgresStoreOptions {
  /** An existing pool (not ended by `close()`), or… */
  readonly pool?: PgPool;
  /** …a connection string for a pool owned (and ended) by the stores. */
  readonly connectionString?: string;
  /** Extra settings for an owned pool. Timeouts default to 2 s to connect and 5 s per query. */
  readonly poolConfig?: PgPoolConfig;
  /** Schema of the tables. Default `public`. */
  readonly schema?: string;
  /** Apply pending migrations on open. Default true; set false when `authplane db migrate` runs them. */
  readonly migrate?: boolean;
  /** NOTIFY channel for revocations, or false for none. Default {@link DEFAULT_NOTIFY_CHANNEL}. */
  readonly notifyChannel?: string | false;
  /** Seconds a revocation added without `until` is kept. Default one day. */
  readonly revocationRetentionSec?: number;
  /** Receives pool errors (idle clients losing their connection); without it they are ignored. */
  readonly onError?: (error: unknown) => void;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * The four stores over one PostgreSQL pool.
 *
 * @example
 * ```ts
 * const pg = await createPostgresStores({ connectionString: process.env.DATABASE_URL, schema: 'authplane' });
 * const keys = createApiKeys({ store: createCachedApiKeyStore({ store: pg.apiKeys, channel }), prefix: 'ap_live' });
 * ```
 */
export interface PostgresStores {
  readonly apiKeys: ApiKeyStore;
  readonly revocation: RevocationStore;
  readonly links: IdentityLinkStore;
  readonly connections: ConnectionStore;
  /** Tenant modes and fleet-wide shadow counters; changes NOTIFY `migration_control` on the channel. */
  readonly migrationControl: MigrationControlStore;
  readonly pool: PgPool;
  /** Ends the pool when the stores created it. The stores' own `close()` do nothing. */
  close(): Promise<void>;
}

/**
 * Opens the PostgreSQL stores: creates or reuses a pool and applies pending migrations. Needs the
 * optional peer `pg`. Failures of later calls are `StoreError('store_unavailable')`, and
 * `AuthRejection('provider_unavailable')` on verification paths (`findById` through `createApiKeys`,
 * `isRevoked`).
 *
 * @example
 * ```ts
 * const { apiKeys, revocation, links, connections, close } = await createPostgresStores({
 *   connectionString: process.env.DATABASE_URL, schema: 'authplane' });
 * ```
 */
export async function createPostgresStores(options: PostgresStoreOptions): Promise<PostgresStores> {
  if (!options || (!options.pool && typeof options.connectionString !== 'string')) {
    throw new TypeError('createPostgresStores: pass a pool or a connectionString');
  }
  const schema = options.schema ?? 'public';
  const q = quoteSchema(schema);
  const notify =
    options.notifyChannel === false ? null : checkChannel(options.notifyChannel ?? DEFAULT_NOTIFY_CHANNEL);
  const owned = !options.pool;
  let pool: Pool;
  if (options.pool) {
    pool = options.pool as Pool;
  } else {
    const pg = await loadPg();
    pool = new pg.Pool(ownedPoolConfig(options.connectionString as string, options.poolConfig as PoolConfig));
    // An idle client that loses its connection emits 'error' on the pool; unhandled it would crash the process.
    pool.on('error', (err) => options.onError?.(err));
  }
  try {
    if (options.migrate !== false) await migratePostgres(pool, { schema });
  } catch (err) {
    if (owned) await pool.end().catch(() => {});
    throw err;
  }
  const clock = options.clock ?? Date.now;
  const ctx: Ctx = { pool, q, notify, clock };
  let closed = false;
  return Object.freeze({
    pool,
    apiKeys: pgApiKeyStore(ctx),
    revocation: pgRevocationStore(ctx, (options.revocationRetentionSec ?? 86_400) * 1000),
    links: pgLinkStore(ctx),
    connections: pgConnectionStore(ctx),
    migrationControl: createPostgresMigrationControlStore({ pool, schema, notify, clock }),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await pool.end();
    },
  });
}
