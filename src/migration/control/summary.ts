// Fleet-wide divergence: the shadow buckets every instance wrote, summed per tenant, per class and over
// time windows, with a readiness verdict per tenant. Shared by `plane.migration.fleetReport()`,
// `authplane migrate report|status --store` and the dashboard.
import { addCounts, EMPTY_SHADOW_COUNTS } from './store';
import type { ControlState, MigrationControlStore, ShadowBucket, ShadowCounts } from './types';

/**
 * When a tenant is ready for the next mode.
 *
 * @example
 * ```ts
 * const readiness: ReadinessOptions = { windowSec: 86_400, minComparisons: 500, targetWindowSec: 7 * 86_400 };
 * ```
 */
export interface ReadinessOptions {
  /** Window for the `dual` verdict. Default one day. */
  readonly windowSec?: number;
  /** Shadow comparisons needed in that window. Default 100. */
  readonly minComparisons?: number;
  /** Window without any legacy credential for the `target` verdict. Default one day. */
  readonly targetWindowSec?: number;
  /** Target credentials needed in that window (an idle tenant proves nothing). Default 1. */
  readonly minTargetRequests?: number;
}

/**
 * One verdict: whether, and why (a sentence for people).
 *
 * @example
 * ```ts
 * const v: Verdict = { ready: false, why: '3 decision divergences in the last 24h' };
 * ```
 */
export interface Verdict {
  readonly ready: boolean;
  readonly why: string;
}

/**
 * One tenant in the fleet report.
 *
 * @example
 * ```ts
 * report.tenants.org_acme?.readiness.dual.ready;
 * ```
 */
export interface FleetTenant {
  /** Counters over the whole report range. */
  readonly counts: ShadowCounts;
  /** Counters per window (`1h`, `24h`, `7d`). */
  readonly windows: Readonly<Record<string, ShadowCounts>>;
  readonly readiness: { readonly dual: Verdict; readonly target: Verdict };
  /** The tenant's stored mode now, when the report was given the control state. */
  readonly mode: string | null;
}

/**
 * The fleet-wide migration report.
 *
 * @example
 * ```ts
 * const report = await readFleetReport(store);
 * console.log(report.totals.decision, report.tenants.org_acme?.readiness.target.why);
 * ```
 */
export interface FleetReport {
  readonly generatedAt: string;
  /** ISO start of the range read. */
  readonly since: string;
  readonly totals: ShadowCounts;
  readonly windows: Readonly<Record<string, ShadowCounts>>;
  readonly tenants: Readonly<Record<string, FleetTenant>>;
  /** Per bucket over the range, for charts: bucket starts (epoch s) and the series. */
  readonly series: {
    readonly time: readonly number[];
    readonly comparisons: readonly number[];
    readonly diverged: readonly number[];
    readonly refusals: readonly number[];
  };
}

/** The windows every report has. */
export const REPORT_WINDOWS = Object.freeze({ '1h': 3_600, '24h': 86_400, '7d': 604_800 });

const human = (sec: number): string =>
  sec % 86_400 === 0 ? `${sec / 86_400}d` : sec % 3_600 === 0 ? `${sec / 3_600}h` : `${sec}s`;

/**
 * Sums buckets into a {@link FleetReport}.
 *
 * @example
 * ```ts
 * summarizeFleet(await store.readShadow({ since: Date.now() - 86_400_000 }), { now: Date.now() });
 * ```
 */
export function summarizeFleet(
  buckets: readonly ShadowBucket[],
  options: { now?: number; since?: number; readiness?: ReadinessOptions; state?: ControlState | null } = {},
): FleetReport {
  const now = options.now ?? Date.now();
  const r = options.readiness ?? {};
  const dualWindow = r.windowSec ?? 86_400;
  const minComparisons = r.minComparisons ?? 100;
  const targetWindow = r.targetWindowSec ?? 86_400;
  const minTarget = r.minTargetRequests ?? 1;
  const windowSecs: Record<string, number> = { ...REPORT_WINDOWS };
  windowSecs[`dual:${dualWindow}`] = dualWindow;
  windowSecs[`target:${targetWindow}`] = targetWindow;

  let totals = EMPTY_SHADOW_COUNTS;
  const windows: Record<string, ShadowCounts> = {};
  const tenants = new Map<string, { counts: ShadowCounts; windows: Record<string, ShadowCounts> }>();
  const series = new Map<number, { comparisons: number; diverged: number; refusals: number }>();
  let first = options.since ?? now;
  for (const b of buckets) {
    if (b.start < first) first = b.start;
    totals = addCounts(totals, b.counts);
    let t = tenants.get(b.tenant);
    if (!t) {
      t = { counts: EMPTY_SHADOW_COUNTS, windows: {} };
      tenants.set(b.tenant, t);
    }
    t.counts = addCounts(t.counts, b.counts);
    for (const [name, sec] of Object.entries(windowSecs)) {
      if (b.start < now - sec * 1000) continue;
      windows[name] = addCounts(windows[name] ?? EMPTY_SHADOW_COUNTS, b.counts);
      t.windows[name] = addCounts(t.windows[name] ?? EMPTY_SHADOW_COUNTS, b.counts);
    }
    const point = series.get(b.start) ?? { comparisons: 0, diverged: 0, refusals: 0 };
    point.comparisons += b.counts.comparisons;
    point.diverged += b.counts.comparisons - b.counts.agreed;
    point.refusals += b.counts.refusedLegacy + b.counts.refusedTarget;
    series.set(b.start, point);
  }
  for (const org of Object.keys(options.state?.orgs ?? {}))
    if (!tenants.has(org)) tenants.set(org, { counts: EMPTY_SHADOW_COUNTS, windows: {} });

  const out: Record<string, FleetTenant> = {};
  for (const [tenant, t] of [...tenants].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const d = t.windows[`dual:${dualWindow}`] ?? EMPTY_SHADOW_COUNTS;
    const g = t.windows[`target:${targetWindow}`] ?? EMPTY_SHADOW_COUNTS;
    const dual: Verdict =
      d.decision > 0
        ? { ready: false, why: `${d.decision} decision divergence(s) in the last ${human(dualWindow)}` }
        : d.comparisons < minComparisons
          ? {
              ready: false,
              why: `${d.comparisons} of ${minComparisons} comparisons needed in the last ${human(dualWindow)}`,
            }
          : {
              ready: true,
              why: `no decision divergence in ${d.comparisons} comparisons over ${human(dualWindow)}`,
            };
    const target: Verdict =
      g.legacy > 0
        ? { ready: false, why: `${g.legacy} legacy credential(s) seen in the last ${human(targetWindow)}` }
        : g.target < minTarget
          ? {
              ready: false,
              why: `${g.target} of ${minTarget} target credentials needed in the last ${human(targetWindow)}`,
            }
          : { ready: true, why: `no legacy credential in ${human(targetWindow)} (${g.target} target)` };
    const windowsOut: Record<string, ShadowCounts> = {};
    for (const name of Object.keys(REPORT_WINDOWS)) windowsOut[name] = t.windows[name] ?? EMPTY_SHADOW_COUNTS;
    out[tenant] = {
      counts: t.counts,
      windows: windowsOut,
      readiness: { dual, target },
      mode: options.state?.orgs[tenant]?.value.mode ?? null,
    };
  }
  const windowsOut: Record<string, ShadowCounts> = {};
  for (const name of Object.keys(REPORT_WINDOWS)) windowsOut[name] = windows[name] ?? EMPTY_SHADOW_COUNTS;
  const starts = [...series.keys()].sort((a, b) => a - b);
  return {
    generatedAt: new Date(now).toISOString(),
    since: new Date(first).toISOString(),
    totals,
    windows: windowsOut,
    tenants: out,
    series: {
      time: starts.map((s) => Math.floor(s / 1000)),
      comparisons: starts.map((s) => series.get(s)?.comparisons ?? 0),
      diverged: starts.map((s) => series.get(s)?.diverged ?? 0),
      refusals: starts.map((s) => series.get(s)?.refusals ?? 0),
    },
  };
}

/**
 * Reads the shadow buckets of a range (default: the last 7 days) and the control state, and summarises
 * them.
 *
 * @example
 * ```ts
 * const report = await readFleetReport(pg.migrationControl, { readiness: { minComparisons: 500 } });
 * ```
 */
export async function readFleetReport(
  store: MigrationControlStore,
  options: { sinceMs?: number; now?: number; readiness?: ReadinessOptions } = {},
): Promise<FleetReport> {
  const now = options.now ?? Date.now();
  const since = now - (options.sinceMs ?? 7 * 86_400_000);
  const [buckets, state] = await Promise.all([store.readShadow({ since }), store.read()]);
  return summarizeFleet(buckets, { now, since, readiness: options.readiness, state });
}
