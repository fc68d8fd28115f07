import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';
import type { LegacyKeyRefusal } from '../../src/apikeys/keys';
import { ConfigError } from '../../src/core/errors';
import type { Principal } from '../../src/core/principal';
import { legacyApiKeyPrincipal } from './api-keys';
import {
  type DrfConnection,
  type DrfDatabase,
  type DrfRow,
  databaseKind,
  openDrfConnection,
  quoteName,
} from './drf-database';

/**
 * A row of the drf-api-key table as the `scopes` / `orgId` hooks see it (never the hash).
 *
 * @example
 * ```ts
 * const scopes = (row: DrfApiKeyRow) => (row.name.startsWith('ci-') ? ['ci:deploy'] : ['read']);
 * ```
 */
export interface DrfApiKeyRow {
  readonly prefix: string;
  readonly ownerId: string;
  readonly name: string | null;
  readonly expiresAt: Date | null;
}

/**
 * Options of {@link createDrfApiKeyVerifier}.
 *
 * @example
 * ```ts
 * const options: DrfApiKeyVerifierOptions = { database: 'sqlite:/srv/django/db.sqlite3', table: 'legacyapi_userapikey' };
 * ```
 */
export interface DrfApiKeyVerifierOptions {
  /** `'sqlite:<path>'`, a `postgres://` URL, a `pg.Pool` or a better-sqlite3 `Database`. */
  readonly database: DrfDatabase;
  /** The key model's table (`<app>_<model>`), optionally `schema.table`. Default `api_userapikey`. */
  readonly table?: string;
  /** The column holding the owner (the model's user foreign key). Default `user_id`. */
  readonly ownerColumn?: string;
  /** Scopes of every key (drf-api-key has none), or a function of the row. Default none. */
  readonly scopes?: readonly string[] | ((row: DrfApiKeyRow) => readonly string[]);
  /** The org a key acts for (`null`: none), or a function of the row (e.g. the owner's team). Default null. */
  readonly orgId?: string | null | ((row: DrfApiKeyRow) => string | null | Promise<string | null>);
  /** `principal.provider` of these keys. Default `legacy`. */
  readonly provider?: string;
  /**
   * After a PBKDF2 key verifies, store its `sha512$$` hash as drf-api-key 3.x does on first use (needs
   * a writable database). Default false: the Django side keeps doing it.
   */
  readonly rehash?: boolean;
  /** Deadline of one database query, in ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Seconds a verified PBKDF2 key is remembered (its hash costs ~0.5 s). Default 300; 0 disables. */
  readonly cacheSec?: number;
  /** Characters before the dot. Default 8 (drf-api-key's `KeyGenerator`). */
  readonly prefixLength?: number;
  /**
   * PBKDF2 checks allowed to wait for one of the 2 running ones; beyond, `provider_unavailable`. Bounds
   * what a flood of wrong secrets for an old-hash prefix can cost. Default 64.
   */
  readonly pbkdf2Queue?: number;
  /** Receives re-hash failures (best effort: never a refusal). */
  readonly onError?: (error: unknown) => void;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * What {@link createDrfApiKeyVerifier} returns: spread it into `createApiKeys`.
 *
 * @example
 * ```ts
 * const drf = createDrfApiKeyVerifier({ database });
 * const keys = createApiKeys({ store, prefix: 'ap_live', ...drf });
 * await drf.close();
 * ```
 */
export interface DrfApiKeyVerifier {
  /** Whether a credential has drf-api-key's shape (`<prefix>.<secret>`). */
  readonly isLegacyKey: (credential: string) => boolean;
  /** Looks the key up by prefix and checks it; see {@link createDrfApiKeyVerifier}. */
  readonly legacyVerifier: (key: string) => Promise<Principal | LegacyKeyRefusal | null>;
  /** Opens the database now (else on first use), so a bad path or URL shows at start-up. */
  ready(): Promise<void>;
  /** Closes a pool or file opened from a URL or path (never one passed in). */
  close(): Promise<void>;
}

// Django's PBKDF2 hashers (drf-api-key 1.x used the project's password hashers).
const PBKDF2 = /^pbkdf2_(sha256|sha1)\$(\d{1,8})\$([^$]{1,128})\$([A-Za-z0-9+/=]{1,128})$/;
const SHA512 = /^sha512\$\$([0-9a-f]{128})$/;
const MAX_ITERATIONS = 10_000_000;
const MAX_CACHE = 10_000;
const PBKDF2_CONCURRENCY = 2;

/**
 * Verifies keys of djangorestframework-api-key (`AbstractAPIKey` and models derived from it, such as a
 * `UserAPIKey` with a user foreign key) straight from the Django database, so CI keys keep working
 * behind authplane while clients move to authplane keys:
 *
 * - the key `<prefix>.<secret>` is looked up by its prefix (one indexed query, with a deadline);
 * - `sha512$$<hex>` hashes (drf-api-key 3.x) and Django `pbkdf2_sha256$…` hashes (keys of 1.x that
 *   Django has not re-hashed yet) are both checked, in constant time; a PBKDF2 check runs off the event
 *   loop, is shared by concurrent requests of one key and its success is cached (`cacheSec`);
 *   `rehash: true` stores the `sha512$$` hash afterwards, as Django does;
 * - a wrong secret is `api_key_invalid` (before revocation or expiry are revealed), `revoked` is
 *   `api_key_revoked`, a past `expiry_date` is `api_key_expired`; every answer reads the row again, so
 *   a revocation in Django admin takes effect at the next request; a database that is down or too slow
 *   is `provider_unavailable` (503);
 * - the principal: `subject` = the owner's Django id, `providerSubject` = the key's prefix (never the
 *   hash, never the `id` column, which embeds it), `kind: 'api_key'`, `provider: 'legacy'`.
 *
 * `pg` and `better-sqlite3` are optional peers, imported on first use.
 *
 * @throws ConfigError for a bad `database`, table or column name, or option.
 * @example
 * ```ts
 * const keys = createApiKeys({ store, prefix: 'ap_live', isMember,
 *   ...createDrfApiKeyVerifier({ database: process.env.DJANGO_DATABASE_URL!, table: 'api_userapikey' }) });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, apiKeys: keys, apiKeySchemes: ['Api-Key'] });
 * ```
 */
export function createDrfApiKeyVerifier(options: DrfApiKeyVerifierOptions): DrfApiKeyVerifier {
  if (!options || typeof options !== 'object') throw new ConfigError('', 'needs an options object');
  databaseKind(options.database);
  const table = quoteName(options.table ?? 'api_userapikey', 'table', true);
  const owner = quoteName(options.ownerColumn ?? 'user_id', 'ownerColumn');
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new ConfigError('timeoutMs', 'must be an integer number of ms within 1..60000');
  }
  const cacheSec = options.cacheSec ?? 300;
  if (!Number.isFinite(cacheSec) || cacheSec < 0 || cacheSec > 86_400) {
    throw new ConfigError('cacheSec', 'must be a number of seconds within 0..86400');
  }
  const prefixLength = options.prefixLength ?? 8;
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 64) {
    throw new ConfigError('prefixLength', 'must be an integer within 1..64');
  }
  const scopes = options.scopes ?? [];
  if (
    typeof scopes !== 'function' &&
    (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
  ) {
    throw new ConfigError('scopes', 'must be a list of scopes or a function of the row');
  }
  const orgId = options.orgId ?? null;
  if (orgId !== null && typeof orgId !== 'string' && typeof orgId !== 'function') {
    throw new ConfigError('orgId', 'must be a string, null or a function of the row');
  }
  const pbkdf2Queue = options.pbkdf2Queue ?? 64;
  if (!Number.isInteger(pbkdf2Queue) || pbkdf2Queue < 0 || pbkdf2Queue > 10_000) {
    throw new ConfigError('pbkdf2Queue', 'must be an integer within 0..10000');
  }
  const provider = options.provider ?? 'legacy';
  const clock = options.clock ?? Date.now;
  const rehash = options.rehash === true;
  const connection: DrfConnection = openDrfConnection(options.database, {
    table,
    owner,
    timeoutMs,
    writable: rehash,
  });
  const shape = drfKeyShape(prefixLength);

  // Verified PBKDF2 keys: digest of (stored hash, key) -> until. Positive answers only.
  const verified = new Map<string, number>();
  const inflight = new Map<string, Promise<boolean>>();
  // PBKDF2 runs on libuv's small thread pool (shared with fs and dns): at most PBKDF2_CONCURRENCY at a
  // time and a bounded queue, so a flood of wrong secrets for an old key cannot starve the process;
  // beyond the queue the answer is provider_unavailable (503), never an accept.
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = (): Promise<() => void> => {
    const release = () => {
      running--;
      waiting.shift()?.();
    };
    if (running < PBKDF2_CONCURRENCY) {
      running++;
      return Promise.resolve(release);
    }
    if (waiting.length >= pbkdf2Queue) return Promise.reject(new Error('too many PBKDF2 checks waiting'));
    return new Promise((resolve) =>
      waiting.push(() => {
        running++;
        resolve(release);
      }),
    );
  };

  const checkPbkdf2 = (key: string, stored: string): Promise<boolean> => {
    const match = PBKDF2.exec(stored);
    if (!match) return Promise.resolve(false);
    const [, digest, iterationsText, salt, expectedB64] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const iterations = Number(iterationsText);
    if (iterations < 1 || iterations > MAX_ITERATIONS) return Promise.resolve(false);
    const cacheKey = createHash('sha256').update(stored).update('\u0000').update(key).digest('base64url');
    const until = verified.get(cacheKey);
    if (until !== undefined && until > clock()) return Promise.resolve(true);
    let pending = inflight.get(cacheKey);
    if (pending) return pending;
    const expected = Buffer.from(expectedB64, 'base64');
    pending = slot()
      .then(
        (release) =>
          new Promise<boolean>((resolve, reject) => {
            pbkdf2(key, salt, iterations, expected.length, digest, (err, derived) => {
              release();
              if (err) return reject(err);
              resolve(derived.length === expected.length && timingSafeEqual(derived, expected));
            });
          }),
      )
      .then((ok) => {
        if (ok && cacheSec > 0) {
          if (verified.size >= MAX_CACHE) verified.delete(verified.keys().next().value as string);
          verified.set(cacheKey, clock() + cacheSec * 1000);
        }
        return ok;
      })
      .finally(() => inflight.delete(cacheKey));
    inflight.set(cacheKey, pending);
    return pending;
  };

  const hashMatches = async (key: string, row: DrfRow): Promise<boolean> => {
    const stored = row.hashed_key;
    if (typeof stored !== 'string') return false;
    const sha = SHA512.exec(stored);
    if (sha) {
      const expected = Buffer.from(sha[1] as string, 'hex');
      return timingSafeEqual(createHash('sha512').update(key).digest(), expected);
    }
    if (!(await checkPbkdf2(key, stored))) return false;
    if (rehash) {
      const upgraded = `sha512$$${createHash('sha512').update(key).digest('hex')}`;
      connection.rehash(row.prefix, stored, upgraded).catch((err: unknown) => options.onError?.(err));
    }
    return true;
  };

  const legacyVerifier = async (key: string): Promise<Principal | LegacyKeyRefusal | null> => {
    if (typeof key !== 'string' || !shape.test(key)) return null;
    const prefix = key.slice(0, prefixLength);
    const row = await connection.findByPrefix(prefix); // a throw is an outage: provider_unavailable
    if (!row) return null;
    if (!(await hashMatches(key, row))) return { reason: 'api_key_invalid' };
    if (truthy(row.revoked)) return { reason: 'api_key_revoked' };
    const expiresAt = readDate(row.expiry_date);
    if (expiresAt === undefined) throw new Error('drf-api-key expiry_date is unreadable');
    if (expiresAt !== null && expiresAt.getTime() <= clock()) return { reason: 'api_key_expired' };
    const ownerId = readId(row.owner);
    if (ownerId === null) return { reason: 'api_key_invalid' };
    const view: DrfApiKeyRow = Object.freeze({
      prefix,
      ownerId,
      name: typeof row.name === 'string' && row.name !== '' ? row.name : null,
      expiresAt,
    });
    const org = typeof orgId === 'function' ? await orgId(view) : orgId;
    const granted = typeof scopes === 'function' ? scopes(view) : scopes;
    return legacyApiKeyPrincipal(
      { keyId: prefix, ownerId, orgId: org ?? null, scopes: [...granted], expiresAt, name: view.name },
      provider,
    );
  };

  return Object.freeze({
    isLegacyKey: (credential: string) => typeof credential === 'string' && shape.test(credential),
    legacyVerifier,
    async ready() {
      await connection.findByPrefix('\u0000');
    },
    close: () => connection.close(),
  });
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

function readId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && value !== '') return value;
  return null;
}

// Django writes naive UTC datetimes to SQLite ('2026-12-02 12:46:43.288084'); pg returns a Date.
// undefined = unreadable (fail closed), null = no expiry.
function readDate(value: unknown): Date | null | undefined {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value : undefined;
  if (typeof value !== 'string' || value.length > 40) return undefined;
  let text = value.trim().replace(' ', 'T');
  if (!/(?:Z|[+-]\d{2}:?\d{2})$/.test(text)) text += 'Z';
  const date = new Date(text);
  return Number.isFinite(date.getTime()) ? date : undefined;
}

/**
 * The shape of a drf-api-key key (`<prefix>.<secret>`) for a prefix length: checked before any lookup.
 * Built at run time from a number, so test/unit/redos.test.ts checks it as built.
 *
 * @internal
 * @example
 * ```ts
 * drfKeyShape(8).test('Ab3dEf9h.s3cr3t'); // true
 * ```
 */
export function drfKeyShape(prefixLength: number): RegExp {
  return new RegExp(`^[A-Za-z0-9]{${prefixLength}}\\.[A-Za-z0-9]{1,128}$`);
}
