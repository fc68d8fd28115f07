// Collects an instance's shadow comparisons and per-tenant traffic into time buckets in memory and writes
// them to the control store in batches from a timer: a request only increments a counter in a Map, never
// waits on the store. The buffer is bounded (tenants beyond the cap fold into `(other)`; a batch the store
// refused is retried while it fits, else dropped and counted).
import type { DivergenceClass, ShadowEvent } from '../shadow';
import { EMPTY_SHADOW_COUNTS } from './store';
import type { MigrationControlStore, ShadowBucket, ShadowCounts } from './types';

/**
 * Options of {@link createShadowRecorder}.
 *
 * @example
 * ```ts
 * const recorder = createShadowRecorder({ store, flushSec: 5, bucketSec: 60 });
 * ```
 */
export interface ShadowRecorderOptions {
  readonly store: MigrationControlStore;
  /** Seconds between writes. Default 5. */
  readonly flushSec?: number;
  /** Width of a time bucket in seconds. Default 60. */
  readonly bucketSec?: number;
  /** Tenant-bucket rows held in memory at most. Default 5 000. */
  readonly maxRows?: number;
  readonly clock?: () => number;
}

/**
 * What the recorder has done, for `plane.migration.control()` and tests.
 *
 * @example
 * ```ts
 * recorder.stats(); // { pending: 3, written: 120, dropped: 0, errors: 0 }
 * ```
 */
export interface RecorderStats {
  readonly pending: number;
  readonly written: number;
  readonly dropped: number;
  readonly errors: number;
}

type Mutable = { -readonly [K in keyof ShadowCounts]: number };

/**
 * Starts a recorder (its timer is unref'd; `close()` writes what is left).
 *
 * @example
 * ```ts
 * recorder.comparison(event); recorder.traffic('org_acme', 'legacy'); await recorder.flush();
 * ```
 */
export function createShadowRecorder(options: ShadowRecorderOptions) {
  const clock = options.clock ?? Date.now;
  const bucketMs = Math.max(1, options.bucketSec ?? 60) * 1000;
  const maxRows = Math.max(10, options.maxRows ?? 5_000);
  let rows = new Map<string, { start: number; tenant: string; counts: Mutable }>();
  let written = 0;
  let dropped = 0;
  let errors = 0;
  let flushing: Promise<void> | null = null;

  const row = (tenant: string | null): Mutable | null => {
    const start = Math.floor(clock() / bucketMs) * bucketMs;
    let name = tenant ?? '(none)';
    let key = `${start}|${name}`;
    if (!rows.has(key) && rows.size >= maxRows - 1) {
      name = '(other)';
      key = `${start}|${name}`;
    }
    let found = rows.get(key);
    if (!found) {
      if (rows.size >= maxRows) {
        dropped++;
        return null;
      }
      found = { start, tenant: name, counts: { ...EMPTY_SHADOW_COUNTS } };
      rows.set(key, found);
    }
    return found.counts;
  };

  const merge = (buckets: readonly ShadowBucket[]) => {
    for (const b of buckets) {
      const key = `${b.start}|${b.tenant}`;
      const existing = rows.get(key);
      if (!existing && rows.size >= maxRows) {
        dropped++;
        continue;
      }
      const counts = existing?.counts ?? { ...EMPTY_SHADOW_COUNTS };
      for (const [name, n] of Object.entries(b.counts)) counts[name as keyof Mutable] += n;
      if (!existing) rows.set(key, { start: b.start, tenant: b.tenant, counts });
    }
  };

  const flush = (): Promise<void> => {
    if (flushing) return flushing;
    if (rows.size === 0) return Promise.resolve();
    const batch = [...rows.values()].map((r) => ({
      start: r.start,
      tenant: r.tenant,
      counts: { ...r.counts },
    }));
    rows = new Map();
    flushing = options.store
      .recordShadow(batch)
      .then(
        () => {
          written += batch.length;
        },
        () => {
          errors++;
          merge(batch); // kept for the next flush while it fits
        },
      )
      .finally(() => {
        flushing = null;
      });
    return flushing;
  };

  const timer = setInterval(() => void flush(), Math.max(0.05, options.flushSec ?? 5) * 1000);
  timer.unref?.();

  return {
    /** One shadow comparison (from the runner, off the request path). */
    comparison(event: ShadowEvent): void {
      const counts = row(event.tenant);
      if (!counts) return;
      counts.comparisons++;
      if (event.outcome === 'agreed') counts.agreed++;
      for (const cls of event.classes as readonly DivergenceClass[]) if (cls in counts) counts[cls]++;
    },
    /** One accepted credential of a side for a tenant. */
    traffic(tenant: string | null, side: 'legacy' | 'target'): void {
      const counts = row(tenant);
      if (counts) counts[side]++;
    },
    /** One credential refused by the tenant's mode. */
    refusal(tenant: string | null, side: 'legacy' | 'target'): void {
      const counts = row(tenant);
      if (counts) counts[side === 'legacy' ? 'refusedLegacy' : 'refusedTarget']++;
    },
    flush,
    stats: (): RecorderStats => ({ pending: rows.size, written, dropped, errors }),
    async close(): Promise<void> {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}

/**
 * A running shadow recorder (see {@link createShadowRecorder}).
 *
 * @example
 * ```ts
 * const recorder: ShadowRecorder = createShadowRecorder({ store });
 * ```
 */
export type ShadowRecorder = ReturnType<typeof createShadowRecorder>;
