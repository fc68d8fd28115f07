// What every MigrationControlStore shares: input validation, key encoding, rollback and the state
// shape. Each backend implements only the atomic primitives (`ControlBackend`).
import { StoreError } from '../../stores/errors';
import { isMigrationMode, MIGRATION_MODES } from '../modes';
import {
  type ControlChange,
  type ControlEntry,
  type ControlState,
  type ControlTarget,
  type ControlValue,
  type MigrationControlStore,
  SHADOW_COUNTERS,
  type ShadowBucket,
  type ShadowCounts,
} from './types';

/**
 * One change as a backend writes it: validated, keyed, timed.
 *
 * @internal
 * @example
 * ```ts
 * await backend.apply({ key: 'org:org_acme', target, value: { mode: 'dual' }, actor: 'cli', reason: null, at: new Date(), rollbackOf: null });
 * ```
 */
export interface ControlWrite {
  readonly key: string;
  readonly target: ControlTarget;
  readonly value: ControlValue | null;
  readonly actor: string;
  readonly reason: string | null;
  readonly at: Date;
  readonly rollbackOf: number | null;
  /** Store-wide version the write requires (conflict otherwise). */
  readonly expectedVersion?: number;
}

/**
 * The primitives a backend implements; {@link createControlStore} adds the rest.
 *
 * @internal
 * @example
 * ```ts
 * const store = createControlStore(memoryBackend());
 * ```
 */
export interface ControlBackend {
  /** Current entries by key, and the store version. */
  read(): Promise<{ version: number; entries: Array<readonly [string, ControlEntry]> }>;
  version(): Promise<number>;
  /** Atomically: check `expectedVersion`, read the previous value of the key, write, log, bump version. */
  apply(write: ControlWrite): Promise<ControlChange>;
  /** Newest first; `key` null for every key. */
  history(key: string | null, limit: number): Promise<ControlChange[]>;
  /** Adds counters into buckets; drops buckets that started before `pruneBefore`. */
  addShadow(buckets: readonly ShadowBucket[], pruneBefore: number): Promise<void>;
  readShadow(since: number, until: number): Promise<ShadowBucket[]>;
  close(): Promise<void>;
}

/** Options shared by every control store. */
export interface ControlStoreOptions {
  /** Days of shadow counters kept. Default 14. */
  readonly shadowRetentionDays?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

const MAX_ID = 200;
const MAX_REASON = 500;
const MAX_BATCH = 10_000;
// Letters, digits and the punctuation ids use; no control characters, no spaces, no separators we use.
const ID = /^[\w.:@+\-/]+$/;

const bad = (message: string): never => {
  throw new TypeError(`migration control: ${message}`);
};

/**
 * The storage key of a target: `default`, `rollout` or `org:<id>`.
 *
 * @example
 * ```ts
 * keyOf({ scope: 'org', orgId: 'org_acme' }); // 'org:org_acme'
 * ```
 */
export function keyOf(target: ControlTarget): string {
  if (!target || typeof target !== 'object') return bad('target must be an object');
  if (target.scope === 'default' || target.scope === 'rollout') return target.scope;
  if (target.scope !== 'org') return bad('target.scope must be org, default or rollout');
  checkId(target.orgId, 'orgId');
  return `org:${target.orgId}`;
}

/**
 * The target of a storage key (inverse of {@link keyOf}).
 *
 * @example
 * ```ts
 * targetOf('org:org_acme'); // { scope: 'org', orgId: 'org_acme' }
 * ```
 */
export function targetOf(key: string): ControlTarget {
  if (key === 'default' || key === 'rollout') return { scope: key };
  return { scope: 'org', orgId: key.slice(4) };
}

function checkId(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID || !ID.test(value)) {
    bad(`${name} must be 1..${MAX_ID} characters of letters, digits and . _ : @ + - /`);
  }
}

function checkText(value: unknown, name: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (typeof value !== 'string' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    return bad(`${name} must be text of at most ${max} characters without control characters`);
  }
  return value;
}

/**
 * Validates a control value for a target (a rollout needs a percentage; others take none).
 *
 * @example
 * ```ts
 * checkValue({ scope: 'rollout' }, { mode: 'dual', percent: 10 }); // { mode: 'dual', percent: 10 }
 * ```
 */
export function checkValue(target: ControlTarget, value: ControlValue | null): ControlValue | null {
  if (value === null) return null;
  if (!value || typeof value !== 'object') return bad('value must be an object or null');
  if (!isMigrationMode(value.mode)) return bad(`mode must be one of ${MIGRATION_MODES.join(', ')}`);
  if (target.scope !== 'rollout') {
    if (value.percent !== undefined || value.seed !== undefined) bad('only the rollout takes a percent');
    return { mode: value.mode };
  }
  const percent = value.percent;
  if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100))
    return bad('rollout percent must be a number between 0 and 100');
  const seed = checkText(value.seed, 'seed', 100);
  return seed === null ? { mode: value.mode, percent } : { mode: value.mode, percent, seed };
}

/**
 * Builds the public state from a backend's entries.
 *
 * @internal
 * @example
 * ```ts
 * stateFrom(3, [['org:org_acme', entry]]).orgs.org_acme?.value.mode;
 * ```
 */
export function stateFrom(version: number, entries: Iterable<readonly [string, ControlEntry]>): ControlState {
  let defaultMode: ControlEntry | null = null;
  let rollout: ControlEntry | null = null;
  const orgs: Record<string, ControlEntry> = {};
  for (const [key, entry] of entries) {
    if (key === 'default') defaultMode = entry;
    else if (key === 'rollout') rollout = entry;
    else if (key.startsWith('org:')) orgs[key.slice(4)] = entry;
  }
  return { version, defaultMode, rollout, orgs };
}

/**
 * All-zero shadow counters.
 *
 * @example
 * ```ts
 * const counts = { ...EMPTY_SHADOW_COUNTS, legacy: 1 };
 * ```
 */
export const EMPTY_SHADOW_COUNTS: ShadowCounts = Object.freeze({
  comparisons: 0,
  agreed: 0,
  decision: 0,
  subject: 0,
  org: 0,
  scopes: 0,
  roles: 0,
  legacy: 0,
  target: 0,
  refusedLegacy: 0,
  refusedTarget: 0,
});

function checkBucket(bucket: ShadowBucket): ShadowBucket {
  if (!bucket || typeof bucket !== 'object') return bad('a shadow bucket must be an object');
  if (!Number.isSafeInteger(bucket.start) || bucket.start < 0) bad('bucket start must be epoch milliseconds');
  if (typeof bucket.tenant !== 'string' || bucket.tenant.length === 0 || bucket.tenant.length > MAX_ID)
    bad(`bucket tenant must be 1..${MAX_ID} characters`);
  const counts: Record<string, number> = {};
  for (const name of SHADOW_COUNTERS) {
    const n = bucket.counts?.[name] ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) bad(`counter ${name} must be a non-negative integer`);
    counts[name] = n;
  }
  return { start: bucket.start, tenant: bucket.tenant, counts: counts as unknown as ShadowCounts };
}

/**
 * Wraps a backend into a {@link MigrationControlStore}: validation, rollback, limits.
 *
 * @internal Used by the memory, SQLite, PostgreSQL and Redis control stores.
 * @example
 * ```ts
 * return createControlStore(backend, options);
 * ```
 */
export function createControlStore(
  backend: ControlBackend,
  options: ControlStoreOptions = {},
): MigrationControlStore {
  const clock = options.clock ?? Date.now;
  const retentionMs = (options.shadowRetentionDays ?? 14) * 86_400_000;
  const actorOf = (actor: unknown): string => {
    checkId(actor, 'actor');
    return actor;
  };
  const store: MigrationControlStore = {
    async read() {
      const { version, entries } = await backend.read();
      return stateFrom(version, entries);
    },
    version: () => backend.version(),
    async change(input) {
      if (!input || typeof input !== 'object') return bad('change needs an object');
      const key = keyOf(input.target);
      const target = targetOf(key);
      if (input.expectedVersion !== undefined && !Number.isSafeInteger(input.expectedVersion))
        bad('expectedVersion must be an integer');
      return backend.apply({
        key,
        target,
        value: checkValue(target, input.value),
        actor: actorOf(input.actor),
        reason: checkText(input.reason, 'reason', MAX_REASON),
        at: new Date(clock()),
        rollbackOf: null,
        expectedVersion: input.expectedVersion,
      });
    },
    async rollback(input) {
      const key = keyOf(input.target);
      const actor = actorOf(input.actor);
      const reason = checkText(input.reason, 'reason', MAX_REASON);
      // Read the version first: any change after it makes the conditional write below a conflict.
      const version = await backend.version();
      const [last] = await backend.history(key, 1);
      if (!last) throw new StoreError('store_conflict', 'Nothing to roll back for this target');
      return backend.apply({
        key,
        target: targetOf(key),
        value: last.previous,
        actor,
        reason,
        at: new Date(clock()),
        rollbackOf: last.version,
        expectedVersion: version,
      });
    },
    async history(filter = {}) {
      const limit = Math.min(1000, Math.max(1, Math.floor(filter.limit ?? 100)));
      return backend.history(filter.target ? keyOf(filter.target) : null, limit);
    },
    async recordShadow(buckets) {
      if (!Array.isArray(buckets)) return bad('recordShadow needs an array');
      if (buckets.length > MAX_BATCH) bad(`at most ${MAX_BATCH} buckets per batch`);
      if (buckets.length === 0) return;
      await backend.addShadow(buckets.map(checkBucket), clock() - retentionMs);
    },
    async readShadow(query) {
      const since = Math.max(0, Math.floor(query?.since ?? 0));
      const until = Math.floor(query?.until ?? Number.MAX_SAFE_INTEGER);
      return backend.readShadow(since, until);
    },
    close: () => backend.close(),
  };
  return Object.freeze(store);
}

/**
 * Sums counters (used by backends and summaries).
 *
 * @example
 * ```ts
 * addCounts(EMPTY_SHADOW_COUNTS, { ...EMPTY_SHADOW_COUNTS, legacy: 2 }).legacy; // 2
 * ```
 */
export function addCounts(a: ShadowCounts, b: ShadowCounts): ShadowCounts {
  const out: Record<string, number> = {};
  for (const name of SHADOW_COUNTERS) out[name] = a[name] + b[name];
  return out as unknown as ShadowCounts;
}

/**
 * Conflict error for a failed `expectedVersion`.
 *
 * @internal
 * @example
 * ```ts
 * if (current !== expected) throw versionConflict();
 * ```
 */
export function versionConflict(): StoreError {
  return new StoreError('store_conflict', 'The migration control changed meanwhile; read it again');
}
