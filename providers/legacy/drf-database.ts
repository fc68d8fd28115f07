// The database behind createDrfApiKeyVerifier: PostgreSQL (pg) or SQLite (better-sqlite3), loaded
// lazily (both are optional peers). Public types are structural: no `pg` or `better-sqlite3` types.
import { ConfigError } from '../../src/core/errors';
import { cjs, loadPeer } from '../../src/stores/peer';

/**
 * The part of a `pg.Pool` (or `pg.Client`) the verifier uses.
 *
 * @example
 * ```ts
 * const pool: DrfSqlPool = new pg.Pool({ connectionString: process.env.DJANGO_DATABASE_URL });
 * ```
 */
export interface DrfSqlPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * The part of a better-sqlite3 `Database` the verifier uses.
 *
 * @example
 * ```ts
 * const db: DrfSqliteDatabase = new Database('db.sqlite3', { readonly: true });
 * ```
 */
export interface DrfSqliteDatabase {
  prepare(sql: string): {
    get(...params: unknown[]): unknown;
    run(...params: unknown[]): unknown;
  };
}

/**
 * Where the drf-api-key table lives: `'sqlite:<path>'`, a `postgres://` URL, a `pg.Pool` or a
 * better-sqlite3 `Database`.
 *
 * @example
 * ```ts
 * const database: DrfDatabase = 'sqlite:/srv/django/db.sqlite3';
 * ```
 */
export type DrfDatabase = string | DrfSqlPool | DrfSqliteDatabase;

/**
 * One row of the key table, as read (`owner` is the configured owner column).
 *
 * @internal
 * @example
 * ```ts
 * const row = await connection.findByPrefix('dCX4Fsqv'); // { prefix, hashed_key, revoked, expiry_date, name, owner }
 * ```
 */
export interface DrfRow {
  readonly prefix: string;
  readonly hashed_key: string;
  readonly revoked: unknown;
  readonly expiry_date: unknown;
  readonly name: unknown;
  readonly owner: unknown;
}

/**
 * A uniform, promise-based view of either database.
 *
 * @internal
 * @example
 * ```ts
 * const connection: DrfConnection = openDrfConnection(database, { table, owner, timeoutMs: 2000, writable: false });
 * ```
 */
export interface DrfConnection {
  findByPrefix(prefix: string): Promise<DrfRow | null>;
  /** Compare-and-swap of the stored hash (and the `id`, which drf-api-key derives from it). */
  rehash(prefix: string, oldHash: string, newHash: string): Promise<void>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * A table or column name, validated and quoted (`schema.table` is two identifiers): names come from
 * configuration, and are never interpolated unquoted.
 *
 * @internal
 * @example
 * ```ts
 * quoteName('legacyapi_userapikey', 'table'); // '"legacyapi_userapikey"'
 * ```
 */
export function quoteName(name: unknown, field: string, qualified = false): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length === 0 || parts.length > (qualified ? 2 : 1) || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new ConfigError(field, `must be a SQL identifier${qualified ? ' (or schema.table)' : ''}`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * What kind of database a `database` option names; throws a ConfigError for anything else.
 *
 * @internal
 * @example
 * ```ts
 * databaseKind('sqlite:db.sqlite3'); // 'sqlite-path'
 * ```
 */
export function databaseKind(database: unknown): 'sqlite-path' | 'postgres-url' | 'sqlite' | 'pool' {
  if (typeof database === 'string') {
    if (database.startsWith('sqlite:') && database.length > 'sqlite:'.length) return 'sqlite-path';
    if (/^postgres(?:ql)?:\/\//.test(database)) return 'postgres-url';
    throw new ConfigError(
      'database',
      "must be 'sqlite:<path>', a postgres:// URL, a pg.Pool or a better-sqlite3 Database",
    );
  }
  if (database && typeof database === 'object') {
    if (typeof (database as DrfSqliteDatabase).prepare === 'function') return 'sqlite';
    if (typeof (database as DrfSqlPool).query === 'function') return 'pool';
  }
  throw new ConfigError(
    'database',
    "must be 'sqlite:<path>', a postgres:// URL, a pg.Pool or a better-sqlite3 Database",
  );
}

/**
 * Opens (lazily, on first use) the connection a `database` option names. Pools and files opened here
 * are closed by `close()`; a pool or database passed in belongs to its owner and is left open.
 *
 * @internal
 * @example
 * ```ts
 * const connection = openDrfConnection('sqlite:db.sqlite3', { table: '"api_userapikey"', owner: '"user_id"', timeoutMs: 2000, writable: false });
 * ```
 */
export function openDrfConnection(
  database: DrfDatabase,
  options: { table: string; owner: string; timeoutMs: number; writable: boolean },
): DrfConnection {
  const kind = databaseKind(database);
  const select = (placeholder: string) =>
    `SELECT prefix, hashed_key, revoked, expiry_date, name, ${options.owner} AS owner FROM ${options.table} WHERE prefix = ${placeholder}`;
  const update = (p: [string, string, string, string]) =>
    `UPDATE ${options.table} SET hashed_key = ${p[0]}, id = ${p[1]} WHERE prefix = ${p[2]} AND hashed_key = ${p[3]}`;

  if (kind === 'sqlite' || kind === 'sqlite-path') {
    let opened: Promise<DrfSqliteDatabase> | null = null;
    let owned: { close(): unknown } | null = null;
    const db = (): Promise<DrfSqliteDatabase> => {
      if (kind === 'sqlite') return Promise.resolve(database as DrfSqliteDatabase);
      opened ??= (async () => {
        const Driver = cjs(
          await loadPeer(
            'better-sqlite3',
            'drf-api-key verification from SQLite',
            () => import('better-sqlite3'),
          ),
        ) as unknown as new (
          filename: string,
          options: { readonly: boolean; fileMustExist: boolean; timeout: number },
        ) => DrfSqliteDatabase & { close(): unknown };
        const handle = new Driver((database as string).slice('sqlite:'.length), {
          readonly: !options.writable,
          fileMustExist: true,
          timeout: options.timeoutMs,
        });
        owned = handle;
        return handle;
      })().catch((err: unknown) => {
        opened = null; // a later request tries again
        throw err;
      });
      return opened;
    };
    return {
      async findByPrefix(prefix) {
        const row = (await db()).prepare(select('?')).get(prefix);
        return (row as DrfRow | undefined) ?? null;
      },
      async rehash(prefix, oldHash, newHash) {
        (await db())
          .prepare(update(['?', '?', '?', '?']))
          .run(newHash, `${prefix}.${newHash}`, prefix, oldHash);
      },
      async close() {
        const handle = owned as { close(): unknown } | null;
        owned = null;
        opened = null;
        handle?.close();
      },
    };
  }

  let created: Promise<DrfSqlPool & { end(): Promise<void> }> | null = null;
  const pool = (): Promise<DrfSqlPool> => {
    if (kind === 'pool') return Promise.resolve(database as DrfSqlPool);
    created ??= (async () => {
      const { Pool } = cjs(
        await loadPeer('pg', 'drf-api-key verification from PostgreSQL', () => import('pg')),
      ) as unknown as {
        Pool: new (
          config: Record<string, unknown>,
        ) => DrfSqlPool & {
          end(): Promise<void>;
          on(event: 'error', listener: (err: unknown) => void): unknown;
        };
      };
      const handle = new Pool({
        connectionString: database as string,
        max: 4,
        connectionTimeoutMillis: options.timeoutMs,
        query_timeout: options.timeoutMs,
        idleTimeoutMillis: 30_000,
      });
      handle.on('error', () => {}); // an idle client's error must not crash the process
      return handle;
    })();
    return created;
  };
  // A deadline of its own too: a pool passed in may have no query timeout, and a stalled server
  // (not a closed one) would otherwise hold the request.
  const withDeadline = async <T>(work: (p: DrfSqlPool) => Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('drf-api-key query timed out')), options.timeoutMs);
    });
    try {
      return await Promise.race([pool().then(work), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async findByPrefix(prefix) {
      const result = await withDeadline((p) => p.query(select('$1'), [prefix]));
      return (result.rows[0] as DrfRow | undefined) ?? null;
    },
    async rehash(prefix, oldHash, newHash) {
      await withDeadline((p) =>
        p.query(update(['$1', '$2', '$3', '$4']), [newHash, `${prefix}.${newHash}`, prefix, oldHash]),
      );
    },
    async close() {
      const handle = created;
      created = null;
      if (handle) await (await handle).end();
    },
  };
}
