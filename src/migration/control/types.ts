// The MigrationControlStore contract: tenant modes that operators change at runtime (per-org overrides,
// the default mode, the rollout rule), each change a numbered version with who/when/why, plus the
// fleet-wide shadow counters every instance writes. Memory, SQLite, PostgreSQL and Redis implement it
// (src/stores/migration-control/*) and pass one contract suite.
import type { MigrationMode } from '../mode-names';

/**
 * What a control change sets: one org's override, the default mode, or the rollout rule.
 *
 * @example
 * ```ts
 * const target: ControlTarget = { scope: 'org', orgId: 'org_acme' };
 * ```
 */
export type ControlTarget =
  | { readonly scope: 'org'; readonly orgId: string }
  | { readonly scope: 'default' }
  | { readonly scope: 'rollout' };

/**
 * The value of a control entry: a mode, and for the rollout its percentage (0..100) and seed.
 *
 * @example
 * ```ts
 * const rollout: ControlValue = { mode: 'dual', percent: 10 };
 * ```
 */
export interface ControlValue {
  readonly mode: MigrationMode;
  readonly percent?: number;
  readonly seed?: string;
}

/**
 * One stored change: the version it created, what it set (`value`, null = cleared), what was there
 * before, and who made it when and why.
 *
 * @example
 * ```ts
 * const [last] = await store.history({ target: { scope: 'org', orgId: 'org_acme' }, limit: 1 });
 * console.log(last?.version, last?.previous?.mode, '->', last?.value?.mode, last?.actor, last?.reason);
 * ```
 */
export interface ControlChange {
  /** Store-wide, strictly increasing from 1. */
  readonly version: number;
  readonly target: ControlTarget;
  readonly value: ControlValue | null;
  readonly previous: ControlValue | null;
  readonly actor: string;
  readonly reason: string | null;
  readonly at: Date;
  /** The version this change rolled back, or null. */
  readonly rollbackOf: number | null;
}

/**
 * One current control entry with its last change.
 *
 * @example
 * ```ts
 * const entry: ControlEntry = state.orgs.org_acme;
 * ```
 */
export interface ControlEntry {
  readonly value: ControlValue;
  readonly version: number;
  readonly actor: string;
  readonly reason: string | null;
  readonly at: Date;
}

/**
 * The current control state: the store version and every set entry.
 *
 * @example
 * ```ts
 * const { version, defaultMode, rollout, orgs } = await store.read();
 * ```
 */
export interface ControlState {
  /** The version of the latest change (0 when none). */
  readonly version: number;
  readonly defaultMode: ControlEntry | null;
  readonly rollout: ControlEntry | null;
  readonly orgs: Readonly<Record<string, ControlEntry>>;
}

/**
 * A change to make. `expectedVersion` (the store version the caller read) makes it conditional:
 * another change in between is a `StoreError('store_conflict')`.
 *
 * @example
 * ```ts
 * await store.change({ target: { scope: 'org', orgId: 'org_acme' }, value: { mode: 'dual' }, actor: 'alice', reason: 'ticket 42' });
 * ```
 */
export interface ControlChangeInput {
  readonly target: ControlTarget;
  readonly value: ControlValue | null;
  readonly actor: string;
  readonly reason?: string | null;
  readonly expectedVersion?: number;
}

/**
 * The shadow and traffic counters of one tenant over one time bucket.
 *
 * @example
 * ```ts
 * const counts: ShadowCounts = { ...EMPTY_SHADOW_COUNTS, comparisons: 3, agreed: 3 };
 * ```
 */
export interface ShadowCounts {
  readonly comparisons: number;
  readonly agreed: number;
  readonly decision: number;
  readonly subject: number;
  readonly org: number;
  readonly scopes: number;
  readonly roles: number;
  /** Accepted credentials of each side. */
  readonly legacy: number;
  readonly target: number;
  /** Credentials refused as `provider_disabled` by the tenant's mode, by side. */
  readonly refusedLegacy: number;
  readonly refusedTarget: number;
}

/**
 * The counter names of {@link ShadowCounts}, in storage order.
 *
 * @example
 * ```ts
 * SHADOW_COUNTERS.includes('decision'); // true
 * ```
 */
export const SHADOW_COUNTERS = Object.freeze([
  'comparisons',
  'agreed',
  'decision',
  'subject',
  'org',
  'scopes',
  'roles',
  'legacy',
  'target',
  'refusedLegacy',
  'refusedTarget',
] as const satisfies ReadonlyArray<keyof ShadowCounts>);

/**
 * One tenant's counters over one bucket (`start`: epoch ms of the bucket's start).
 *
 * @example
 * ```ts
 * await store.recordShadow([{ start: 1_700_000_040_000, tenant: 'org_acme', counts }]);
 * ```
 */
export interface ShadowBucket {
  readonly start: number;
  readonly tenant: string;
  readonly counts: ShadowCounts;
}

/**
 * Where tenant modes and fleet-wide shadow counters live, shared by every instance of a service and
 * by `authplane migrate`. Every change is a new version in an append-only history; rollback is a
 * change too (so it can be rolled back).
 *
 * @example
 * ```ts
 * const store = createMemoryMigrationControlStore();
 * await store.change({ target: { scope: 'org', orgId: 'org_acme' }, value: { mode: 'dual' }, actor: 'alice' });
 * await store.rollback({ target: { scope: 'org', orgId: 'org_acme' }, actor: 'alice', reason: 'errors' });
 * ```
 */
export interface MigrationControlStore {
  /** The current state. */
  read(): Promise<ControlState>;
  /** The current version only (what pollers compare). */
  version(): Promise<number>;
  /** Applies one change atomically; validates modes, percentages, org ids and text lengths. */
  change(input: ControlChangeInput): Promise<ControlChange>;
  /**
   * Restores the value the target had before its latest change, as a new change. `StoreError`
   * `store_conflict` when the target has no change to roll back.
   */
  rollback(input: { target: ControlTarget; actor: string; reason?: string | null }): Promise<ControlChange>;
  /** Changes, newest first (default 100, at most 1 000), optionally of one target. */
  history(filter?: { target?: ControlTarget; limit?: number }): Promise<ControlChange[]>;
  /** Adds counters (summed into existing buckets). Buckets older than the retention are dropped. */
  recordShadow(buckets: readonly ShadowBucket[]): Promise<void>;
  /** Buckets whose start is in [since, until), oldest first. */
  readShadow(query: { since: number; until?: number }): Promise<ShadowBucket[]>;
  close(): Promise<void>;
}
