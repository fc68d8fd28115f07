// The MigrationControlStore over the SQLite file of `openSqliteStores`. Its tables are created on open
// (IF NOT EXISTS, so they need no slot in the stores' own migration list); every change runs in one
// IMMEDIATE transaction, so two processes writing the same file get dense versions and no lost update.
import type BetterSqlite3 from 'better-sqlite3';
import {
  type ControlBackend,
  type ControlStoreOptions,
  createControlStore,
  targetOf,
  versionConflict,
} from '../../migration/control/store';
import {
  type ControlChange,
  type ControlEntry,
  type ControlValue,
  type MigrationControlStore,
  SHADOW_COUNTERS,
  type ShadowBucket,
  type ShadowCounts,
} from '../../migration/control/types';
import { toStoreError } from '../errors';

type Database = BetterSqlite3.Database;

const COLUMNS = SHADOW_COUNTERS.map((c) => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`));

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS migration_control (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL,
    actor TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS migration_control_log (
    version INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT, previous TEXT,
    actor TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL, rollback_of INTEGER);
  CREATE INDEX IF NOT EXISTS migration_control_log_key ON migration_control_log (key, version);
  CREATE TABLE IF NOT EXISTS migration_shadow (
    bucket INTEGER NOT NULL, tenant TEXT NOT NULL,
    ${COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(', ')},
    PRIMARY KEY (bucket, tenant));`;

interface LogRow {
  version: number;
  key: string;
  value: string | null;
  previous: string | null;
  actor: string;
  reason: string | null;
  at: number;
  rollback_of: number | null;
}

const parse = (text: string | null): ControlValue | null =>
  text === null ? null : (JSON.parse(text) as ControlValue);

function changeFromRow(row: LogRow): ControlChange {
  return {
    version: Number(row.version),
    target: targetOf(row.key),
    value: parse(row.value),
    previous: parse(row.previous),
    actor: row.actor,
    reason: row.reason,
    at: new Date(Number(row.at)),
    rollbackOf: row.rollback_of === null ? null : Number(row.rollback_of),
  };
}

const guard = <T>(operation: string, fn: () => T): T => {
  try {
    return fn();
  } catch (err) {
    if ((err as { code?: unknown })?.code === 'store_conflict') throw err;
    throw toStoreError(err, operation);
  }
};

/**
 * The {@link MigrationControlStore} of an open SQLite database (what `openSqliteStores` returns as
 * `migrationControl`).
 *
 * @example
 * ```ts
 * const { migrationControl } = await openSqliteStores({ filename: '.authplane/authplane.db' });
 * await migrationControl.change({ target: { scope: 'org', orgId: 'org_acme' }, value: { mode: 'dual' }, actor: 'ops' });
 * ```
 */
export function createSqliteMigrationControlStore(
  db: Database,
  options: ControlStoreOptions = {},
): MigrationControlStore {
  guard('creating the migration control tables', () => db.exec(SCHEMA));
  const versionOf = () =>
    Number(
      (db.prepare('SELECT MAX(version) AS v FROM migration_control_log').get() as { v: number | null }).v ??
        0,
    );
  const apply = db.transaction((write: Parameters<ControlBackend['apply']>[0]): ControlChange => {
    const current = versionOf();
    if (write.expectedVersion !== undefined && write.expectedVersion !== current) throw versionConflict();
    const prev = db.prepare('SELECT value FROM migration_control WHERE key = ?').get(write.key) as
      | { value: string }
      | undefined;
    const version = current + 1;
    const value = write.value === null ? null : JSON.stringify(write.value);
    const at = write.at.getTime();
    db.prepare(
      'INSERT INTO migration_control_log (version, key, value, previous, actor, reason, at, rollback_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(version, write.key, value, prev?.value ?? null, write.actor, write.reason, at, write.rollbackOf);
    if (value === null) db.prepare('DELETE FROM migration_control WHERE key = ?').run(write.key);
    else
      db.prepare(
        `INSERT INTO migration_control (key, value, version, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version,
           actor = excluded.actor, reason = excluded.reason, at = excluded.at`,
      ).run(write.key, value, version, write.actor, write.reason, at);
    return changeFromRow({
      version,
      key: write.key,
      value,
      previous: prev?.value ?? null,
      actor: write.actor,
      reason: write.reason,
      at,
      rollback_of: write.rollbackOf,
    });
  });
  const upsert = `INSERT INTO migration_shadow (bucket, tenant, ${COLUMNS.join(', ')})
    VALUES (?, ?, ${COLUMNS.map(() => '?').join(', ')})
    ON CONFLICT (bucket, tenant) DO UPDATE SET ${COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
  const addShadow = db.transaction((buckets: readonly ShadowBucket[], pruneBefore: number) => {
    const statement = db.prepare(upsert);
    for (const b of buckets) statement.run(b.start, b.tenant, ...SHADOW_COUNTERS.map((c) => b.counts[c]));
    db.prepare('DELETE FROM migration_shadow WHERE bucket < ?').run(pruneBefore);
  });

  const backend: ControlBackend = {
    async read() {
      return guard('reading the migration control', () => {
        const rows = db.prepare('SELECT * FROM migration_control').all() as Array<
          Omit<LogRow, 'previous' | 'rollback_of'> & { value: string }
        >;
        const entries = rows.map(
          (r) =>
            [
              r.key,
              {
                value: JSON.parse(r.value) as ControlValue,
                version: Number(r.version),
                actor: r.actor,
                reason: r.reason,
                at: new Date(Number(r.at)),
              } satisfies ControlEntry,
            ] as const,
        );
        return { version: versionOf(), entries };
      });
    },
    async version() {
      return guard('reading the migration control version', versionOf);
    },
    async apply(write) {
      return guard('changing the migration control', () => apply.immediate(write));
    },
    async history(key, limit) {
      return guard('reading the migration control history', () => {
        const rows = (
          key === null
            ? db.prepare('SELECT * FROM migration_control_log ORDER BY version DESC LIMIT ?').all(limit)
            : db
                .prepare('SELECT * FROM migration_control_log WHERE key = ? ORDER BY version DESC LIMIT ?')
                .all(key, limit)
        ) as LogRow[];
        return rows.map(changeFromRow);
      });
    },
    async addShadow(buckets, pruneBefore) {
      guard('recording shadow counters', () => addShadow.immediate(buckets, pruneBefore));
    },
    async readShadow(since, until) {
      return guard('reading shadow counters', () => {
        const rows = db
          .prepare('SELECT * FROM migration_shadow WHERE bucket >= ? AND bucket < ? ORDER BY bucket, tenant')
          .all(since, until) as Array<Record<string, number | string>>;
        return rows.map((r) => ({
          start: Number(r.bucket),
          tenant: String(r.tenant),
          counts: Object.fromEntries(
            SHADOW_COUNTERS.map((c, i) => [c, Number(r[COLUMNS[i] as string] ?? 0)]),
          ) as unknown as ShadowCounts,
        }));
      });
    },
    async close() {},
  };
  return createControlStore(backend, options);
}
