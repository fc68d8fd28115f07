// Locks that make "refresh once" hold across instances. In-process callers are already collapsed by
// single-flight; the lock only has to order instances. Waits poll with a bounded backoff so that a
// waiter never holds a database connection or a Redis command open while it waits.
import { createHash, randomBytes } from 'node:crypto';
import { AuthplaneError } from '../core/errors';
import type { PgPool } from '../stores/driver-types';

/**
 * The part of a `pg` pool client the PostgreSQL lock uses. Structural, so the public types of
 * `authplane/integration` never name `pg`: a user without it installed still compiles.
 *
 * @example
 * ```ts
 * const client: PgLockClient = await pool.connect();
 * ```
 */
export interface PgLockClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
}

/**
 * The part of a `pg` Pool the PostgreSQL lock uses (a `pg.Pool` fits it as is).
 *
 * @example
 * ```ts
 * const pool: PgLockPool = (await createPostgresStores({ connectionString })).pool;
 * ```
 */
export interface PgLockPool {
  connect(): Promise<PgLockClient>;
}

/**
 * Releases a held lock. Idempotent; never throws (a lock that cannot be released lapses: Redis by its
 * TTL, PostgreSQL when the session closes).
 */
export type ReleaseLock = () => Promise<void>;

/**
 * A named mutual-exclusion lock shared by every instance that refreshes the same connections.
 *
 * @example
 * ```ts
 * const release = await lock.acquire('github\u0000acme', { waitMs: 10_000, holdMs: 15_000 });
 * try { await refresh(); } finally { await release(); }
 * ```
 */
export interface RefreshLock {
  /** Resolves with the release function once held, or null when `waitMs` passed first. */
  acquire(key: string, options: { waitMs: number; holdMs: number }): Promise<ReleaseLock | null>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An in-process lock: enough for one instance (memory or SQLite stores); waiters queue in order.
 *
 * @example
 * ```ts
 * const plane = await createIntegrationPlane({ …, lock: createMemoryRefreshLock() });
 * ```
 */
export function createMemoryRefreshLock(): RefreshLock {
  const tails = new Map<string, Promise<void>>();
  return Object.freeze({
    async acquire(key: string, { waitMs }: { waitMs: number; holdMs: number }): Promise<ReleaseLock | null> {
      const previous = tails.get(key) ?? Promise.resolve();
      let unlock: () => void = () => {};
      const mine = new Promise<void>((resolve) => {
        unlock = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(key, tail);
      let timer: NodeJS.Timeout | undefined;
      const acquired = await Promise.race([
        previous.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), waitMs);
        }),
      ]);
      clearTimeout(timer);
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        unlock();
        if (tails.get(key) === tail) tails.delete(key);
      };
      if (!acquired) {
        // Give up our place: whoever queued behind us waits only for the holder before us.
        void release();
        return null;
      }
      return release;
    },
    async close(): Promise<void> {},
  });
}

/** Two int4 keys for pg advisory locks: a fixed namespace and a hash of the lock name. */
function advisoryKeys(key: string): [number, number] {
  const digest = createHash('sha256').update(key).digest();
  return [0x61706c6e /* 'apln' */ | 0, digest.readInt32BE(0)];
}

/**
 * A PostgreSQL advisory lock (session level, `pg_try_advisory_lock`) over the pool of the PostgreSQL
 * stores. While held it keeps one pool client; a crashed holder's lock ends with its connection.
 *
 * @example
 * ```ts
 * const pg = await createPostgresStores({ connectionString: process.env.DATABASE_URL });
 * const lock = createPostgresRefreshLock({ pool: pg.pool });
 * ```
 */
export function createPostgresRefreshLock(options: { pool: PgPool | PgLockPool }): RefreshLock {
  // A pg.Pool, or the stores' `pool`, fits both shapes; the lock uses the client it checks out.
  const pool = options.pool as PgLockPool;
  return Object.freeze({
    async acquire(key: string, { waitMs }: { waitMs: number; holdMs: number }): Promise<ReleaseLock | null> {
      const [ns, id] = advisoryKeys(key);
      const deadline = Date.now() + waitMs;
      let client: PgLockClient;
      try {
        client = await pool.connect();
      } catch (cause) {
        throw new AuthplaneError('lock_unavailable', 'The PostgreSQL refresh lock is unavailable', { cause });
      }
      try {
        let delay = 5;
        for (;;) {
          const { rows } = await client.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [ns, id]);
          if ((rows[0] as { ok?: unknown } | undefined)?.ok === true) break;
          if (Date.now() + delay > deadline) {
            client.release();
            return null;
          }
          await sleep(delay);
          delay = Math.min(delay * 2, 50);
        }
      } catch (cause) {
        client.release(true);
        throw new AuthplaneError('lock_unavailable', 'The PostgreSQL refresh lock is unavailable', { cause });
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [ns, id]);
          client.release();
        } catch (err) {
          // Destroying the connection ends the session, which releases the lock.
          client.release(err instanceof Error ? err : true);
        }
      };
    },
    async close(): Promise<void> {},
  });
}

/**
 * The part of an ioredis client the Redis lock uses.
 *
 * @example
 * ```ts
 * const client: RedisLockClient = new Redis(process.env.REDIS_URL);
 * ```
 */
export interface RedisLockClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * A Redis lock (`SET key token NX PX holdMs`, released only by its holder through a compare-and-delete
 * script). The TTL bounds how long a crashed holder blocks others.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const lock = createRedisRefreshLock({ client: new Redis(process.env.REDIS_URL) });
 * ```
 */
export function createRedisRefreshLock(options: { client: RedisLockClient; prefix?: string }): RefreshLock {
  const { client } = options;
  const prefix = options.prefix ?? 'authplane:refresh-lock:';
  return Object.freeze({
    async acquire(
      key: string,
      { waitMs, holdMs }: { waitMs: number; holdMs: number },
    ): Promise<ReleaseLock | null> {
      const name = `${prefix}${createHash('sha256').update(key).digest('base64url')}`;
      const token = randomBytes(16).toString('base64url');
      const deadline = Date.now() + waitMs;
      let delay = 5;
      try {
        while ((await client.set(name, token, 'PX', Math.max(1, Math.ceil(holdMs)), 'NX')) !== 'OK') {
          if (Date.now() + delay > deadline) return null;
          await sleep(delay);
          delay = Math.min(delay * 2, 50);
        }
      } catch (cause) {
        throw new AuthplaneError('lock_unavailable', 'The Redis refresh lock is unavailable', { cause });
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await client.eval(RELEASE_SCRIPT, 1, name, token).catch(() => {});
      };
    },
    async close(): Promise<void> {},
  });
}
