// What the PostgreSQL stores share: the query context, one error-mapping query runner, the NOTIFY
// payload, and the pool and channel-name helpers.
import type { Pool, PoolConfig } from 'pg';
import type { InvalidationEvent } from '../contracts';
import { toStoreError } from '../errors';
import { cjs, loadPeer } from '../peer';

/** The default NOTIFY channel shared by the stores and `createPostgresInvalidationChannel`. */
export const DEFAULT_NOTIFY_CHANNEL = 'authplane_invalidation';

/** A NOTIFY channel name: an unquoted PostgreSQL identifier. */
export const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The channel name, checked against {@link CHANNEL_NAME} (it is interpolated into LISTEN/NOTIFY). */
export function checkChannel(name: string): string {
  if (!CHANNEL_NAME.test(name)) throw new TypeError('notify channel must match /^[a-z_][a-z0-9_]{0,62}$/');
  return name;
}

/** The `pg` module, loaded on first use (an optional peer). */
export async function loadPg() {
  return cjs(await loadPeer('pg', 'PostgreSQL stores', () => import('pg')));
}

/** Settings of a pool the stores own: bounded, with connect and query deadlines (every call has one). */
export function ownedPoolConfig(connectionString: string, extra: PoolConfig | undefined): PoolConfig {
  return {
    connectionString,
    max: 10,
    connectionTimeoutMillis: 2_000,
    query_timeout: 5_000,
    statement_timeout: 5_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    ...extra,
  };
}

/** What every PostgreSQL store works with: the pool, the quoted schema, the NOTIFY channel, the clock. */
export interface Ctx {
  readonly pool: Pool;
  /** Quoted schema. */
  readonly q: string;
  readonly notify: string | null;
  readonly clock: () => number;
}

/** Runs one query, mapping a driver error to a `StoreError` that names the operation. */
export async function run<T extends Record<string, unknown>>(
  ctx: Ctx,
  operation: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  try {
    const result = await ctx.pool.query<T>(sql, values);
    return result.rows;
  } catch (err) {
    throw toStoreError(err, operation);
  }
}

/** The NOTIFY payload: an event, or `reset` when it would not fit PostgreSQL's 8000-byte limit. */
export function payload(event: InvalidationEvent): string {
  const json = JSON.stringify(event);
  return Buffer.byteLength(json) < 7_900 ? json : JSON.stringify({ type: 'reset' });
}

/** Whether a store error was caused by a unique-key violation (SQLSTATE 23505). */
export const isUniqueViolation = (err: unknown): boolean =>
  (err as { cause?: { code?: unknown } } | null)?.cause?.code === '23505';
