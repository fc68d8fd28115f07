// The MigrationControlStore in PostgreSQL (tables of migration 2). A change runs in one transaction under
// an advisory lock (dense versions, conditional writes) and NOTIFYs `{ type: 'migration_control' }` on
// the stores' channel in that same transaction: listeners hear of it when, and only when, it commits.
import type { Pool, PoolClient } from 'pg';
import {
  type ControlBackend,
  type ControlStoreOptions,
  createControlStore,
  targetOf,
  versionConflict,
} from '../../migration/control/store';
import {
  type ControlChange,
  type ControlValue,
  type MigrationControlStore,
  SHADOW_COUNTERS,
  type ShadowCounts,
} from '../../migration/control/types';
import { StoreError, toStoreError } from '../errors';

const COLUMNS = SHADOW_COUNTERS.map((c) => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`));

interface LogRow extends Record<string, unknown> {
  version: string | number;
  key: string;
  value: ControlValue | null;
  previous: ControlValue | null;
  actor: string;
  reason: string | null;
  at: Date;
  rollback_of: string | number | null;
}

function changeFromRow(row: LogRow): ControlChange {
  return {
    version: Number(row.version),
    target: targetOf(row.key),
    value: row.value,
    previous: row.previous,
    actor: row.actor,
    reason: row.reason,
    at: new Date(row.at),
    rollbackOf: row.rollback_of === null ? null : Number(row.rollback_of),
  };
}

/**
 * Where the PostgreSQL control store lives: a pool, the quoted schema and the NOTIFY channel (or null).
 *
 * @example
 * ```ts
 * createPostgresMigrationControlStore({ pool, schema: 'public', notify: 'authplane_invalidation' });
 * ```
 */
export interface PostgresControlContext extends ControlStoreOptions {
  readonly pool: Pool;
  /** The schema name (unquoted, already validated by the caller). */
  readonly schema: string;
  readonly notify: string | null;
}

/**
 * The {@link MigrationControlStore} over PostgreSQL (what `createPostgresStores` returns as
 * `migrationControl`). Its tables come from migration 2 (`authplane db migrate`).
 *
 * @example
 * ```ts
 * const { migrationControl } = await createPostgresStores({ connectionString: process.env.DATABASE_URL });
 * await migrationControl.rollback({ target: { scope: 'org', orgId: 'org_acme' }, actor: 'ops' });
 * ```
 */
export function createPostgresMigrationControlStore(ctx: PostgresControlContext): MigrationControlStore {
  const { pool, notify } = ctx;
  const q = `"${ctx.schema}"`;
  const query = async <T extends Record<string, unknown>>(
    op: string,
    sql: string,
    values: unknown[] = [],
  ) => {
    try {
      return (await pool.query<T>(sql, values)).rows;
    } catch (err) {
      throw toStoreError(err, op);
    }
  };
  const version = async () =>
    Number(
      (
        await query<{ v: string | null }>(
          'reading the migration control version',
          `SELECT MAX(version) AS v FROM ${q}.migration_control_log`,
        )
      )[0]?.v ?? 0,
    );

  const backend: ControlBackend = {
    async read() {
      const rows = await query<LogRow & { value: ControlValue }>(
        'reading the migration control',
        `SELECT c.*, (SELECT MAX(version) FROM ${q}.migration_control_log) AS top FROM ${q}.migration_control c`,
      );
      const entries = rows.map(
        (r) =>
          [
            r.key,
            {
              value: r.value,
              version: Number(r.version),
              actor: r.actor,
              reason: r.reason,
              at: new Date(r.at),
            },
          ] as const,
      );
      // An empty table says nothing of the log: read the version on its own then.
      const top = rows[0] ? Number((rows[0] as unknown as { top: string }).top) : await version();
      return { version: top, entries };
    },
    version,
    async apply(write) {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw toStoreError(err, 'connecting for a migration control change');
      }
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`authplane.control.${ctx.schema}`]);
        const current = Number(
          (
            await client.query<{ v: string | null }>(
              `SELECT MAX(version) AS v FROM ${q}.migration_control_log`,
            )
          ).rows[0]?.v ?? 0,
        );
        if (write.expectedVersion !== undefined && write.expectedVersion !== current) throw versionConflict();
        const prev = (
          await client.query<{ value: ControlValue }>(
            `SELECT value FROM ${q}.migration_control WHERE key = $1`,
            [write.key],
          )
        ).rows[0];
        const next = current + 1;
        const value = write.value === null ? null : JSON.stringify(write.value);
        const logged = await client.query<LogRow>(
          `INSERT INTO ${q}.migration_control_log (version, key, value, previous, actor, reason, at, rollback_of)
           VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8) RETURNING *`,
          [
            next,
            write.key,
            value,
            prev ? JSON.stringify(prev.value) : null,
            write.actor,
            write.reason,
            write.at,
            write.rollbackOf,
          ],
        );
        if (value === null)
          await client.query(`DELETE FROM ${q}.migration_control WHERE key = $1`, [write.key]);
        else
          await client.query(
            `INSERT INTO ${q}.migration_control (key, value, version, actor, reason, at) VALUES ($1, $2::jsonb, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
               actor = EXCLUDED.actor, reason = EXCLUDED.reason, at = EXCLUDED.at`,
            [write.key, value, next, write.actor, write.reason, write.at],
          );
        if (notify)
          await client.query('SELECT pg_notify($1, $2)', [
            notify,
            JSON.stringify({ type: 'migration_control', version: next }),
          ]);
        await client.query('COMMIT');
        return changeFromRow(logged.rows[0] as LogRow);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        if (err instanceof StoreError) throw err;
        throw toStoreError(err, 'changing the migration control');
      } finally {
        client.release();
      }
    },
    async history(key, limit) {
      const rows =
        key === null
          ? await query<LogRow>(
              'reading the migration control history',
              `SELECT * FROM ${q}.migration_control_log ORDER BY version DESC LIMIT $1`,
              [limit],
            )
          : await query<LogRow>(
              'reading the migration control history',
              `SELECT * FROM ${q}.migration_control_log WHERE key = $1 ORDER BY version DESC LIMIT $2`,
              [key, limit],
            );
      return rows.map(changeFromRow);
    },
    async addShadow(buckets, pruneBefore) {
      // One statement for the batch: unnest the columns, sum duplicates, add into existing rows.
      const arrays: unknown[] = [buckets.map((b) => b.start), buckets.map((b) => b.tenant)];
      for (const c of SHADOW_COUNTERS) arrays.push(buckets.map((b) => b.counts[c]));
      const params = COLUMNS.map((_, i) => `$${i + 3}::bigint[]`).join(', ');
      await query(
        'recording shadow counters',
        `INSERT INTO ${q}.migration_shadow (bucket, tenant, ${COLUMNS.join(', ')})
         SELECT bucket, tenant, ${COLUMNS.map((c) => `SUM(${c})`).join(', ')}
         FROM unnest($1::bigint[], $2::text[], ${params}) AS t(bucket, tenant, ${COLUMNS.join(', ')})
         GROUP BY bucket, tenant
         ON CONFLICT (bucket, tenant) DO UPDATE SET ${COLUMNS.map((c) => `${c} = ${q}.migration_shadow.${c} + EXCLUDED.${c}`).join(', ')}`,
        arrays,
      );
      await query('pruning shadow counters', `DELETE FROM ${q}.migration_shadow WHERE bucket < $1`, [
        pruneBefore,
      ]);
    },
    async readShadow(since, until) {
      const rows = await query<Record<string, string>>(
        'reading shadow counters',
        `SELECT * FROM ${q}.migration_shadow WHERE bucket >= $1 AND bucket < $2 ORDER BY bucket, tenant`,
        [since, Math.min(until, Number.MAX_SAFE_INTEGER)],
      );
      return rows.map((r) => ({
        start: Number(r.bucket),
        tenant: String(r.tenant),
        counts: Object.fromEntries(
          SHADOW_COUNTERS.map((c, i) => [c, Number(r[COLUMNS[i] as string] ?? 0)]),
        ) as unknown as ShadowCounts,
      }));
    },
    async close() {},
  };
  return createControlStore(backend, ctx);
}
