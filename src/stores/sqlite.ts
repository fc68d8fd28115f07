// The embedded default: one SQLite file, no server. WAL mode lets a CLI (`authplane keys revoke`) write
// while a server reads; the schema is created on open and versioned with `PRAGMA user_version`.
// better-sqlite3 is synchronous and an indexed lookup takes microseconds, so no cache is needed in front.
import type BetterSqlite3 from 'better-sqlite3';
import type { MigrationControlStore } from '../migration/control/types';
import type {
  ApiKeyFilter,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyUpdate,
  ApiKeyUsage,
  ConnectionStore,
  IdentityLink,
  IdentityLinkStore,
  LinkImportBatch,
  LinkImportResult,
  NewIdentityLink,
  NewOrgLink,
  OrgLink,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from './contracts';
import type { SqliteDatabase } from './driver-types';
import { toStoreError, unavailable } from './errors';
import { createSqliteMigrationControlStore } from './migration-control/sqlite';
import { cjs, loadPeer } from './peer';
import { checkLinkKey, conflict } from './records';
import { SQLITE_CONNECTIONS_BY_ORG, sqliteConnectionStore } from './sqlite-connections';

type Database = BetterSqlite3.Database;

/** Options of {@link openSqliteStores}. */
export interface SqliteStoreOptions {
  /** Path of the database file (created when missing), or `:memory:`. */
  readonly filename: string;
  /** Milliseconds a writer waits for another process's lock before failing. Default 5 000. */
  readonly busyTimeoutMs?: number;
  /** Seconds a revocation added without `until` is kept. Default one day. */
  readonly revocationRetentionSec?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * The four stores over one SQLite file. `close()` closes the file; the stores' own `close()` do nothing,
 * so they can be handed to different owners.
 *
 * @example
 * ```ts
 * const sqlite = await openSqliteStores({ filename: '.authplane/authplane.db' });
 * const keys = createApiKeys({ store: sqlite.apiKeys, prefix: 'ap_live' });
 * ```
 */
export interface SqliteStores {
  readonly apiKeys: ApiKeyStore;
  readonly revocation: RevocationStore;
  readonly links: IdentityLinkStore;
  readonly connections: ConnectionStore;
  /** Tenant modes and fleet-wide shadow counters (`authplane migrate`, the plane's `control` option). */
  readonly migrationControl: MigrationControlStore;
  /** The underlying better-sqlite3 handle, for backups and inspection. */
  readonly db: SqliteDatabase;
  close(): Promise<void>;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL,
     prefix TEXT NOT NULL,
     owner_id TEXT NOT NULL,
     org_id TEXT NOT NULL,
     scopes TEXT NOT NULL,
     name TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER,
     last_used_at INTEGER,
     replaced_by TEXT
   );
   CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
   CREATE INDEX api_keys_owner ON api_keys (owner_id, created_at);
   CREATE TABLE revocations (
     kind TEXT NOT NULL,
     value TEXT NOT NULL,
     until INTEGER NOT NULL,
     PRIMARY KEY (kind, value)
   );
   CREATE INDEX revocations_until ON revocations (until);
   CREATE TABLE identity_links (
     provider TEXT NOT NULL,
     provider_subject TEXT NOT NULL,
     subject TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (provider, provider_subject)
   );
   CREATE INDEX identity_links_subject ON identity_links (subject);
   CREATE TABLE org_links (
     provider TEXT NOT NULL,
     external_org_id TEXT NOT NULL,
     org_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (provider, external_org_id)
   );
   CREATE TABLE connections (
     integration TEXT NOT NULL,
     id TEXT NOT NULL,
     org_id TEXT,
     status TEXT NOT NULL,
     metadata TEXT NOT NULL,
     credentials TEXT,
     expires_at INTEGER,
     version INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (integration, id)
   );
   CREATE INDEX connections_org ON connections (org_id);`,
  // 2: a connection's identity is (org, integration, id); existing rows keep their values.
  SQLITE_CONNECTIONS_BY_ORG,
];

/**
 * Opens (and creates or upgrades) the SQLite database and returns the stores over it. Needs the
 * optional peer `better-sqlite3`.
 *
 * @example
 * ```ts
 * const { apiKeys, revocation, close } = await openSqliteStores({ filename: './authplane.db' });
 * ```
 */
export async function openSqliteStores(options: SqliteStoreOptions): Promise<SqliteStores> {
  if (!options || typeof options.filename !== 'string' || options.filename === '') {
    throw new TypeError('openSqliteStores: filename must be a non-empty path');
  }
  const Driver = cjs(await loadPeer('better-sqlite3', 'SQLite stores', () => import('better-sqlite3')));
  let db: Database;
  try {
    db = new Driver(options.filename);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // safe with WAL: a crash loses at most the last commits, never corrupts
    migrate(db);
  } catch (err) {
    throw toStoreError(err, 'opening the SQLite database');
  }
  const clock = options.clock ?? Date.now;
  const retentionMs = (options.revocationRetentionSec ?? 86_400) * 1000;
  const database = db;
  return Object.freeze({
    db: database,
    apiKeys: sqliteApiKeyStore(database),
    revocation: sqliteRevocationStore(database, clock, retentionMs),
    links: sqliteLinkStore(database, clock),
    connections: sqliteConnectionStore(database, clock),
    migrationControl: createSqliteMigrationControlStore(database, { clock }),
    async close(): Promise<void> {
      if (database.open) database.close();
    },
  });
}

function migrate(db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= MIGRATIONS.length) return;
  // IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate.
  const run = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  run.immediate();
}

/** Runs a synchronous statement, mapping driver failures to `StoreError`. */
function guard<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStoreError(err, operation);
  }
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));
const isUniqueViolation = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';

interface ApiKeyRow {
  id: string;
  hash: string;
  prefix: string;
  owner_id: string;
  org_id: string;
  scopes: string;
  name: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  replaced_by: string | null;
}

function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    hash: row.hash,
    prefix: row.prefix,
    ownerId: row.owner_id,
    orgId: row.org_id,
    scopes: Object.freeze(JSON.parse(row.scopes) as string[]),
    name: row.name,
    createdAt: new Date(row.created_at),
    expiresAt: toDate(row.expires_at),
    revokedAt: toDate(row.revoked_at),
    lastUsedAt: toDate(row.last_used_at),
    replacedBy: row.replaced_by,
  });
}

function sqliteApiKeyStore(db: Database): ApiKeyStore {
  const insert = db.prepare(
    `INSERT INTO api_keys (id, hash, prefix, owner_id, org_id, scopes, name, created_at, expires_at,
       revoked_at, last_used_at, replaced_by)
     VALUES (@id, @hash, @prefix, @owner_id, @org_id, @scopes, @name, @created_at, @expires_at,
       @revoked_at, @last_used_at, @replaced_by)`,
  );
  const byId = db.prepare('SELECT * FROM api_keys WHERE id = ?');
  const byOrg = db.prepare('SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at, id');
  const byOwner = db.prepare('SELECT * FROM api_keys WHERE owner_id = ? ORDER BY created_at, id');
  const update = db.prepare(
    `UPDATE api_keys SET
       revoked_at = CASE WHEN @set_revoked THEN @revoked_at ELSE revoked_at END,
       expires_at = CASE WHEN @set_expires THEN @expires_at ELSE expires_at END,
       replaced_by = CASE WHEN @set_replaced THEN @replaced_by ELSE replaced_by END
     WHERE id = @id RETURNING *`,
  );
  const touch = db.prepare(
    'UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)',
  );
  const touchAll = db.transaction((usages: readonly ApiKeyUsage[]) => {
    for (const u of usages) touch.run({ id: u.id, at: u.lastUsedAt.getTime() });
  });

  return Object.freeze({
    async insert(r: ApiKeyRecord): Promise<void> {
      try {
        insert.run({
          id: r.id,
          hash: r.hash,
          prefix: r.prefix,
          owner_id: r.ownerId,
          org_id: r.orgId,
          scopes: JSON.stringify(r.scopes),
          name: r.name,
          created_at: r.createdAt.getTime(),
          expires_at: ms(r.expiresAt),
          revoked_at: ms(r.revokedAt),
          last_used_at: ms(r.lastUsedAt),
          replaced_by: r.replacedBy,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('An API key with this id');
        throw toStoreError(err, 'API key insert');
      }
    },
    async findById(id: string): Promise<ApiKeyRecord | null> {
      const row = guard('API key lookup', () => byId.get(id) as ApiKeyRow | undefined);
      return row ? apiKeyFromRow(row) : null;
    },
    async list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
      const rows = guard('API key list', () =>
        'orgId' in filter ? byOrg.all(filter.orgId) : byOwner.all(filter.ownerId),
      ) as ApiKeyRow[];
      return rows.map(apiKeyFromRow);
    },
    async update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null> {
      const row = guard('API key update', () =>
        update.get({
          id,
          set_revoked: change.revokedAt !== undefined ? 1 : 0,
          revoked_at: change.revokedAt ? change.revokedAt.getTime() : null,
          set_expires: change.expiresAt !== undefined ? 1 : 0,
          expires_at: change.expiresAt ? change.expiresAt.getTime() : null,
          set_replaced: change.replacedBy !== undefined ? 1 : 0,
          replaced_by: change.replacedBy ?? null,
        }),
      ) as ApiKeyRow | undefined;
      return row ? apiKeyFromRow(row) : null;
    },
    async touch(usages: readonly ApiKeyUsage[]): Promise<void> {
      if (usages.length > 0) guard('API key last-used update', () => touchAll(usages));
    },
    async close(): Promise<void> {},
  });
}

function sqliteRevocationStore(db: Database, clock: () => number, retentionMs: number): RevocationStore {
  const upsert = db.prepare(
    `INSERT INTO revocations (kind, value, until) VALUES (?, ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET until = MAX(until, excluded.until)`,
  );
  const prune = db.prepare('DELETE FROM revocations WHERE until <= ?');
  const lookup = db.prepare(
    `SELECT 1 FROM revocations WHERE until > @now
       AND ((kind = 'j' AND value = @jti) OR (kind = 's' AND value = @sid)) LIMIT 1`,
  );
  let lastPrune = 0;
  return Object.freeze({
    async add(target: RevocationKey, until?: Date): Promise<void> {
      const now = clock();
      const untilMs =
        until instanceof Date && Number.isFinite(until.getTime()) ? until.getTime() : now + retentionMs;
      if (untilMs <= now) return;
      guard('revocation insert', () => {
        if ('jti' in target) upsert.run('j', target.jti, untilMs);
        if ('sessionId' in target) upsert.run('s', target.sessionId, untilMs);
        if (now - lastPrune > 60_000) {
          lastPrune = now;
          prune.run(now);
        }
      });
    },
    async isRevoked(q: RevocationLookup): Promise<boolean> {
      if (typeof q.jti !== 'string' && typeof q.sessionId !== 'string') return false;
      try {
        return lookup.get({ now: clock(), jti: q.jti ?? null, sid: q.sessionId ?? null }) !== undefined;
      } catch (err) {
        throw unavailable(err, 'revocation store');
      }
    },
    async close(): Promise<void> {},
  });
}

interface LinkRow {
  provider: string;
  provider_subject: string;
  subject: string;
  created_at: number;
}

interface OrgRow {
  provider: string;
  external_org_id: string;
  org_id: string;
  created_at: number;
}

const linkFromRow = (r: LinkRow): IdentityLink =>
  Object.freeze({
    provider: r.provider,
    providerSubject: r.provider_subject,
    subject: r.subject,
    createdAt: new Date(r.created_at),
  });
const orgFromRow = (r: OrgRow): OrgLink =>
  Object.freeze({
    provider: r.provider,
    externalOrgId: r.external_org_id,
    orgId: r.org_id,
    createdAt: new Date(r.created_at),
  });

function sqliteLinkStore(db: Database, clock: () => number): IdentityLinkStore {
  const insertLink = db.prepare(
    `INSERT INTO identity_links (provider, provider_subject, subject, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const getLink = db.prepare('SELECT * FROM identity_links WHERE provider = ? AND provider_subject = ?');
  const bySubject = db.prepare(
    'SELECT * FROM identity_links WHERE subject = ? ORDER BY created_at, provider',
  );
  const deleteLink = db.prepare('DELETE FROM identity_links WHERE provider = ? AND provider_subject = ?');
  const insertOrg = db.prepare(
    `INSERT INTO org_links (provider, external_org_id, org_id, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const getOrg = db.prepare('SELECT * FROM org_links WHERE provider = ? AND external_org_id = ?');

  // Insert-if-absent then read back: one code path for link(), linkOrg() and the bulk import.
  const putLink = (provider: string, providerSubject: string, subject: string, now: number) => {
    const inserted = insertLink.run(provider, providerSubject, subject, now).changes === 1;
    const row = getLink.get(provider, providerSubject) as LinkRow;
    if (row.subject !== subject) throw conflict('This identity link');
    return { inserted, row };
  };
  const putOrg = (provider: string, externalOrgId: string, orgId: string, now: number) => {
    const inserted = insertOrg.run(provider, externalOrgId, orgId, now).changes === 1;
    const row = getOrg.get(provider, externalOrgId) as OrgRow;
    if (row.org_id !== orgId) throw conflict('This org link');
    return { inserted, row };
  };
  const importAll = db.transaction((batch: LinkImportBatch, now: number): LinkImportResult => {
    let inserted = 0;
    let unchanged = 0;
    for (const l of batch.links ?? []) {
      if (putLink(l.provider, l.providerSubject, l.subject, now).inserted) inserted++;
      else unchanged++;
    }
    for (const o of batch.orgs ?? []) {
      if (putOrg(o.provider, o.externalOrgId, o.orgId, now).inserted) inserted++;
      else unchanged++;
    }
    return { inserted, unchanged };
  });

  return Object.freeze({
    async link(input: NewIdentityLink): Promise<IdentityLink> {
      checkLinkKey(input.provider, input.providerSubject, input.subject);
      return linkFromRow(
        guard(
          'identity link',
          () => putLink(input.provider, input.providerSubject, input.subject, clock()).row,
        ),
      );
    },
    async resolve(provider: string, providerSubject: string): Promise<string | null> {
      const row = guard('identity link lookup', () => getLink.get(provider, providerSubject)) as
        | LinkRow
        | undefined;
      return row?.subject ?? null;
    },
    async listBySubject(subject: string): Promise<IdentityLink[]> {
      return (guard('identity link list', () => bySubject.all(subject)) as LinkRow[]).map(linkFromRow);
    },
    async unlink(provider: string, providerSubject: string): Promise<boolean> {
      return guard('identity unlink', () => deleteLink.run(provider, providerSubject).changes === 1);
    },
    async linkOrg(input: NewOrgLink): Promise<OrgLink> {
      checkLinkKey(input.provider, input.externalOrgId, input.orgId);
      return orgFromRow(
        guard('org link', () => putOrg(input.provider, input.externalOrgId, input.orgId, clock()).row),
      );
    },
    async resolveOrg(provider: string, externalOrgId: string): Promise<string | null> {
      const row = guard('org link lookup', () => getOrg.get(provider, externalOrgId)) as OrgRow | undefined;
      return row?.org_id ?? null;
    },
    async importLinks(batch: LinkImportBatch): Promise<LinkImportResult> {
      for (const l of batch.links ?? []) checkLinkKey(l.provider, l.providerSubject, l.subject);
      for (const o of batch.orgs ?? []) checkLinkKey(o.provider, o.externalOrgId, o.orgId);
      return guard('identity link import', () => importAll(batch, clock()));
    },
    async close(): Promise<void> {},
  });
}
