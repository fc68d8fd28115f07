// The PostgreSQL ConnectionStore. A connection's identity is (org_id, integration, id): the primary key
// since migration 2, so no statement can reach another org's row. An org-less row stores ''.
import type { Pool } from 'pg';
import type {
  CompareAndSetResult,
  ConnectionInput,
  ConnectionKey,
  ConnectionRecord,
  ConnectionStore,
} from '../contracts';
import { toStoreError } from '../errors';
import {
  checkConnectionInput,
  checkConnectionKey,
  copyConnection,
  orgColumn,
  orgFromColumn,
} from '../records';

/**
 * Migration 2 (`connections_by_org`): re-keys `connections` by (org_id, integration, id). Existing rows
 * keep their values; a NULL org becomes ''. `{schema}` is the quoted schema.
 *
 * @internal
 * @example
 * ```ts
 * await client.query(CONNECTIONS_BY_ORG_SQL.replaceAll('{schema}', q));
 * ```
 */
export const CONNECTIONS_BY_ORG_SQL = `
  UPDATE {schema}.connections SET org_id = '' WHERE org_id IS NULL;
  ALTER TABLE {schema}.connections ALTER COLUMN org_id SET DEFAULT '', ALTER COLUMN org_id SET NOT NULL;
  ALTER TABLE {schema}.connections DROP CONSTRAINT connections_pkey;
  ALTER TABLE {schema}.connections ADD CONSTRAINT connections_pkey PRIMARY KEY (org_id, integration, id);
  DROP INDEX IF EXISTS {schema}.connections_org;
  CREATE INDEX connections_integration ON {schema}.connections (integration, id);
`;

interface ConnectionRow extends Record<string, unknown> {
  integration: string;
  id: string;
  org_id: string;
  status: string;
  metadata: Record<string, unknown>;
  credentials: string | null;
  expires_at: Date | null;
  version: string | number;
  created_at: Date;
  updated_at: Date;
}

const connectionFromRow = (r: ConnectionRow): ConnectionRecord =>
  copyConnection({
    integration: r.integration,
    id: r.id,
    orgId: orgFromColumn(r.org_id),
    status: r.status as ConnectionRecord['status'],
    metadata: r.metadata,
    credentials: r.credentials,
    expiresAt: r.expires_at,
    version: Number(r.version),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

/**
 * The ConnectionStore over a migrated schema.
 *
 * @internal `createPostgresStores` returns it as `connections`.
 * @example
 * ```ts
 * const connections = pgConnectionStore({ pool, q: '"authplane"', clock: Date.now });
 * ```
 */
export function pgConnectionStore(ctx: {
  readonly pool: Pool;
  /** Quoted schema. */
  readonly q: string;
  readonly clock: () => number;
}): ConnectionStore {
  const { pool, q, clock } = ctx;
  const run = async (operation: string, sql: string, values: unknown[]): Promise<ConnectionRow[]> => {
    try {
      return (await pool.query<ConnectionRow>(sql, values)).rows;
    } catch (err) {
      throw toStoreError(err, operation);
    }
  };
  const keyValues = (key: ConnectionKey) => [orgColumn(key.orgId), key.integration, key.id];
  const values = (input: ConnectionInput) => [
    ...keyValues(input),
    input.status,
    JSON.stringify(input.metadata),
    input.credentials,
    input.expiresAt,
    new Date(clock()),
  ];
  const where = 'WHERE org_id = $1 AND integration = $2 AND id = $3';
  const insert = `INSERT INTO ${q}.connections
       (org_id, integration, id, status, metadata, credentials, expires_at, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, 1, $8, $8)`;
  const get = async (key: ConnectionKey): Promise<ConnectionRecord | null> => {
    checkConnectionKey(key);
    const rows = await run('connection lookup', `SELECT * FROM ${q}.connections ${where}`, keyValues(key));
    return rows[0] ? connectionFromRow(rows[0]) : null;
  };
  return Object.freeze({
    get,
    async list(filter: { orgId?: string; integration?: string }): Promise<ConnectionRecord[]> {
      const rows = await run(
        'connection list',
        `SELECT * FROM ${q}.connections WHERE ($1::text IS NULL OR org_id = $1) AND ($2::text IS NULL OR integration = $2)
         ORDER BY created_at, org_id, integration, id`,
        [filter.orgId ?? null, filter.integration ?? null],
      );
      return rows.map(connectionFromRow);
    },
    async put(input: ConnectionInput): Promise<ConnectionRecord> {
      checkConnectionInput(input);
      const rows = await run(
        'connection write',
        `${insert}
         ON CONFLICT (org_id, integration, id) DO UPDATE SET status = excluded.status,
           metadata = excluded.metadata, credentials = excluded.credentials, expires_at = excluded.expires_at,
           version = ${q}.connections.version + 1, updated_at = excluded.updated_at
         RETURNING *`,
        values(input),
      );
      return connectionFromRow(rows[0] as ConnectionRow);
    },
    async compareAndSet(
      input: ConnectionInput,
      expectedVersion: number | null,
    ): Promise<CompareAndSetResult> {
      checkConnectionInput(input);
      // The version check is the WHERE clause of the write itself: under concurrent updates PostgreSQL
      // re-evaluates it against the newest row version, so exactly one writer wins.
      const rows =
        expectedVersion === null
          ? await run(
              'connection compare-and-set',
              `${insert} ON CONFLICT (org_id, integration, id) DO NOTHING RETURNING *`,
              values(input),
            )
          : await run(
              'connection compare-and-set',
              `UPDATE ${q}.connections SET status = $4, metadata = $5::jsonb, credentials = $6,
                 expires_at = $7, version = version + 1, updated_at = $8
               ${where} AND version = $9 RETURNING *`,
              [...values(input), expectedVersion],
            );
      if (rows[0]) return { ok: true, record: connectionFromRow(rows[0]) };
      return { ok: false, current: await get(input) };
    },
    async delete(key: ConnectionKey): Promise<boolean> {
      checkConnectionKey(key);
      const rows = await run(
        'connection delete',
        `DELETE FROM ${q}.connections ${where} RETURNING 1`,
        keyValues(key),
      );
      return rows.length > 0;
    },
    async close(): Promise<void> {},
  });
}
