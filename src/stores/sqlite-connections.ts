// The SQLite ConnectionStore. A connection's identity is (org_id, integration, id): the primary key, so
// no statement can reach another org's row. An org-less row stores '' (SQL keys cannot hold NULL).
import type BetterSqlite3 from 'better-sqlite3';
import type {
  CompareAndSetResult,
  ConnectionInput,
  ConnectionKey,
  ConnectionRecord,
  ConnectionStore,
} from './contracts';
import { toStoreError } from './errors';
import {
  checkConnectionInput,
  checkConnectionKey,
  copyConnection,
  orgColumn,
  orgFromColumn,
} from './records';

/**
 * Schema step 2: the connections table keyed by (org_id, integration, id) instead of (integration, id).
 * SQLite cannot change a primary key in place, so the table is rebuilt; every row keeps its values
 * (NULL orgs become ''). Runs inside the migration transaction of `openSqliteStores`.
 *
 * @internal
 * @example
 * ```ts
 * db.exec(SQLITE_CONNECTIONS_BY_ORG);
 * ```
 */
export const SQLITE_CONNECTIONS_BY_ORG = `
  CREATE TABLE connections_by_org (
    org_id TEXT NOT NULL,
    integration TEXT NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL,
    credentials TEXT,
    expires_at INTEGER,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, integration, id)
  );
  INSERT INTO connections_by_org (org_id, integration, id, status, metadata, credentials, expires_at, version,
    created_at, updated_at)
  SELECT COALESCE(org_id, ''), integration, id, status, metadata, credentials, expires_at, version, created_at,
    updated_at FROM connections;
  DROP TABLE connections;
  ALTER TABLE connections_by_org RENAME TO connections;
  CREATE INDEX connections_integration ON connections (integration, id);`;

interface ConnectionRow {
  integration: string;
  id: string;
  org_id: string;
  status: string;
  metadata: string;
  credentials: string | null;
  expires_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}

const connectionFromRow = (r: ConnectionRow): ConnectionRecord =>
  copyConnection({
    integration: r.integration,
    id: r.id,
    orgId: orgFromColumn(r.org_id),
    status: r.status as ConnectionRecord['status'],
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    credentials: r.credentials,
    expiresAt: r.expires_at === null ? null : new Date(Number(r.expires_at)),
    version: Number(r.version),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  });

function guard<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStoreError(err, operation);
  }
}

/**
 * The ConnectionStore over an open, migrated SQLite database.
 *
 * @internal `openSqliteStores` returns it as `connections`.
 * @example
 * ```ts
 * const connections = sqliteConnectionStore(db, Date.now);
 * ```
 */
export function sqliteConnectionStore(db: BetterSqlite3.Database, clock: () => number): ConnectionStore {
  const where = 'WHERE org_id = @org_id AND integration = @integration AND id = @id';
  const get = db.prepare(`SELECT * FROM connections ${where}`);
  const list = db.prepare(
    `SELECT * FROM connections WHERE (@org IS NULL OR org_id = @org) AND (@integration IS NULL OR integration = @integration)
     ORDER BY created_at, org_id, integration, id`,
  );
  const insert = `INSERT INTO connections (org_id, integration, id, status, metadata, credentials, expires_at, version,
       created_at, updated_at)
     VALUES (@org_id, @integration, @id, @status, @metadata, @credentials, @expires_at, 1, @now, @now)`;
  const upsert = db.prepare(
    `${insert}
     ON CONFLICT (org_id, integration, id) DO UPDATE SET status = excluded.status,
       metadata = excluded.metadata, credentials = excluded.credentials, expires_at = excluded.expires_at,
       version = connections.version + 1, updated_at = excluded.updated_at
     RETURNING *`,
  );
  const insertNew = db.prepare(`${insert} ON CONFLICT (org_id, integration, id) DO NOTHING RETURNING *`);
  const updateIf = db.prepare(
    `UPDATE connections SET status = @status, metadata = @metadata, credentials = @credentials,
       expires_at = @expires_at, version = version + 1, updated_at = @now
     ${where} AND version = @expected RETURNING *`,
  );
  const del = db.prepare(`DELETE FROM connections ${where}`);

  const keyParams = (key: ConnectionKey) => ({
    org_id: orgColumn(key.orgId),
    integration: key.integration,
    id: key.id,
  });
  const params = (input: ConnectionInput) => ({
    ...keyParams(input),
    status: input.status,
    metadata: JSON.stringify(input.metadata),
    credentials: input.credentials,
    expires_at: input.expiresAt === null ? null : input.expiresAt.getTime(),
    now: clock(),
  });

  return Object.freeze({
    async get(key: ConnectionKey): Promise<ConnectionRecord | null> {
      checkConnectionKey(key);
      const row = guard('connection lookup', () => get.get(keyParams(key))) as ConnectionRow | undefined;
      return row ? connectionFromRow(row) : null;
    },
    async list(filter: { orgId?: string; integration?: string }): Promise<ConnectionRecord[]> {
      const rows = guard('connection list', () =>
        list.all({ org: filter.orgId ?? null, integration: filter.integration ?? null }),
      ) as ConnectionRow[];
      return rows.map(connectionFromRow);
    },
    async put(input: ConnectionInput): Promise<ConnectionRecord> {
      checkConnectionInput(input);
      return connectionFromRow(guard('connection write', () => upsert.get(params(input))) as ConnectionRow);
    },
    async compareAndSet(
      input: ConnectionInput,
      expectedVersion: number | null,
    ): Promise<CompareAndSetResult> {
      checkConnectionInput(input);
      // Each statement is atomic on its own: the version check and the write are one UPDATE.
      const row = guard('connection compare-and-set', () =>
        expectedVersion === null
          ? insertNew.get(params(input))
          : updateIf.get({ ...params(input), expected: expectedVersion }),
      ) as ConnectionRow | undefined;
      if (row) return { ok: true, record: connectionFromRow(row) };
      const current = guard('connection lookup', () => get.get(keyParams(input))) as
        | ConnectionRow
        | undefined;
      return { ok: false, current: current ? connectionFromRow(current) : null };
    },
    async delete(key: ConnectionKey): Promise<boolean> {
      checkConnectionKey(key);
      return guard('connection delete', () => del.run(keyParams(key)).changes === 1);
    },
    async close(): Promise<void> {},
  });
}
