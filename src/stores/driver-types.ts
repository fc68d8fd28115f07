// The little of each database driver that authplane's public options and results name. They are
// structural, so a user's `pg.Pool`, ioredis client or better-sqlite3 `Database` fits them, and the
// declarations compile for a user who has not installed (or typed) drivers they do not use.

/**
 * A `pg.Pool`, as authplane's options accept it and its stores return it.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: PgPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
  connect(): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Extra `pg.PoolConfig` settings for a pool authplane creates (`max`, `ssl`, timeouts, …).
 *
 * @example
 * ```ts
 * const poolConfig: PgPoolConfig = { max: 10, ssl: { rejectUnauthorized: true } };
 * ```
 */
export type PgPoolConfig = { readonly [setting: string]: unknown };

/**
 * An ioredis client, as authplane's Redis options accept it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const client: RedisClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
}

/**
 * Extra ioredis options for a client authplane creates (`tls`, `password`, …).
 *
 * @example
 * ```ts
 * const redisOptions: RedisClientOptions = { tls: {}, password: process.env.REDIS_PASSWORD };
 * ```
 */
export type RedisClientOptions = { readonly [option: string]: unknown };

/**
 * A better-sqlite3 `Database`, as authplane's SQLite stores return it.
 *
 * @example
 * ```ts
 * const db: SqliteDatabase = stores.db;
 * db.pragma('journal_mode');
 * ```
 */
export interface SqliteDatabase {
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
  readonly open: boolean;
}
