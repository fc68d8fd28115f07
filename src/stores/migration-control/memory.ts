// The in-process MigrationControlStore: one process's modes and counters (tests, `authplane dev`, a
// single instance). Instances that must agree share the SQLite, PostgreSQL or Redis one.
import {
  addCounts,
  type ControlBackend,
  type ControlStoreOptions,
  createControlStore,
  versionConflict,
} from '../../migration/control/store';
import type {
  ControlChange,
  ControlEntry,
  MigrationControlStore,
  ShadowBucket,
} from '../../migration/control/types';

const MAX_HISTORY = 10_000;

/**
 * An in-memory {@link MigrationControlStore}: versioned mode changes and shadow counters, for tests and
 * single-process services.
 *
 * @example
 * ```ts
 * const control = createMemoryMigrationControlStore();
 * await control.change({ target: { scope: 'default' }, value: { mode: 'shadow' }, actor: 'alice' });
 * ```
 */
export function createMemoryMigrationControlStore(options: ControlStoreOptions = {}): MigrationControlStore {
  let version = 0;
  const entries = new Map<string, ControlEntry>();
  let log: ControlChange[] = [];
  const shadow = new Map<string, ShadowBucket>();
  const backend: ControlBackend = {
    async read() {
      return { version, entries: [...entries] };
    },
    async version() {
      return version;
    },
    async apply(write) {
      if (write.expectedVersion !== undefined && write.expectedVersion !== version) throw versionConflict();
      const previous = entries.get(write.key)?.value ?? null;
      version++;
      const change: ControlChange = {
        version,
        target: write.target,
        value: write.value,
        previous,
        actor: write.actor,
        reason: write.reason,
        at: write.at,
        rollbackOf: write.rollbackOf,
      };
      if (write.value === null) entries.delete(write.key);
      else
        entries.set(write.key, {
          value: write.value,
          version,
          actor: write.actor,
          reason: write.reason,
          at: write.at,
        });
      log.push(change);
      if (log.length > MAX_HISTORY) log = log.slice(-MAX_HISTORY);
      return change;
    },
    async history(key, limit) {
      const out: ControlChange[] = [];
      for (let i = log.length - 1; i >= 0 && out.length < limit; i--) {
        const change = log[i] as ControlChange;
        if (key === null || keyFor(change) === key) out.push(change);
      }
      return out;
    },
    async addShadow(buckets, pruneBefore) {
      for (const bucket of buckets) {
        const id = `${bucket.start}\u0000${bucket.tenant}`;
        const existing = shadow.get(id);
        shadow.set(
          id,
          existing ? { ...existing, counts: addCounts(existing.counts, bucket.counts) } : bucket,
        );
      }
      for (const [id, bucket] of shadow) if (bucket.start < pruneBefore) shadow.delete(id);
    },
    async readShadow(since, until) {
      return [...shadow.values()]
        .filter((b) => b.start >= since && b.start < until)
        .sort((a, b) => a.start - b.start || (a.tenant < b.tenant ? -1 : 1))
        .map((b) => ({ ...b, counts: { ...b.counts } }));
    },
    async close() {},
  };
  return createControlStore(backend, options);
}

function keyFor(change: ControlChange): string {
  return change.target.scope === 'org' ? `org:${change.target.orgId}` : change.target.scope;
}
