import type { AuthResult } from '../core/failure';
import type { Principal } from '../core/principal';
import type { Reason } from '../core/reasons';
import { migrationInstruments, safely } from './telemetry';

/**
 * What a shadow comparison can find different between the legacy and the target answer for one request.
 *
 * - `decision`: one side accepts, the other refuses;
 * - `subject`: both accept, but the internal subjects (after linking) differ;
 * - `org`: the internal orgs (after org mapping) differ;
 * - `scopes` / `roles`: the sets differ.
 *
 * @example
 * ```ts
 * DIVERGENCE_CLASSES.includes('scopes'); // true
 * ```
 */
export const DIVERGENCE_CLASSES = ['decision', 'subject', 'org', 'scopes', 'roles'] as const;

/**
 * One divergence class.
 *
 * @example
 * ```ts
 * const cls: DivergenceClass = 'org';
 * ```
 */
export type DivergenceClass = (typeof DIVERGENCE_CLASSES)[number];

/**
 * One side of a comparison, without credentials or claims.
 *
 * @example
 * ```ts
 * const side: ShadowSide = { decision: 'accept', reason: null, subject: 'usr_1', orgId: 'org_acme', scopes: ['read'], roles: [] };
 * ```
 */
export interface ShadowSide {
  readonly decision: 'accept' | 'reject';
  readonly reason: Reason | null;
  readonly subject: string | null;
  readonly orgId: string | null;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
}

/**
 * One shadow comparison, as the `onEvent` hook receives it and as `authplane migrate report` reads it
 * back from a JSON-lines file. Never carries a credential or a claim set.
 *
 * @example
 * ```ts
 * shadow: { onEvent: (e) => appendFileSync('shadow.jsonl', `${JSON.stringify(e)}\n`) }
 * ```
 */
export interface ShadowEvent {
  readonly type: 'migration.shadow';
  readonly time: string;
  readonly traceId: string;
  /** The internal org of the request (legacy's, else target's), or null. */
  readonly tenant: string | null;
  readonly outcome: 'agreed' | 'diverged';
  readonly classes: readonly DivergenceClass[];
  readonly legacy: ShadowSide;
  readonly target: ShadowSide;
}

/**
 * Shadow-mode options: where the target's credential for "the same request" comes from, and how much
 * work the comparison may take.
 *
 * The target cannot verify a legacy credential, so "the same request" is evaluated with the target
 * credential of the same caller, from (in order):
 * 1. the `header` the client sends beside its legacy credential during a dual-token rollout (the new SDK
 *    sends both; the legacy one still decides);
 * 2. the `exchange` hook, given the accepted legacy principal (e.g. an RFC 8693 token exchange at the
 *    target, or a service-side mint). It runs off the hot path, like the comparison.
 * A request with neither is counted as `skipped.noTargetCredential`.
 *
 * @example
 * ```ts
 * const shadow: ShadowOptions = { header: 'x-authplane-shadow-token', sampleRate: 0.1, queueSize: 1000 };
 * ```
 */
export interface ShadowOptions {
  /** Request header carrying the target credential (a bare token or `Bearer …`). Default `x-authplane-shadow-token`; null: none. */
  readonly header?: string | null;
  /** Produces a target credential for an accepted legacy principal, or null. */
  readonly exchange?: (input: { principal: Principal; traceId: string }) => Promise<string | null>;
  /** Fraction of shadow-mode requests compared, 0..1. Default 1. */
  readonly sampleRate?: number;
  /** Comparisons waiting at most; beyond it new ones are dropped and counted. Default 1000. */
  readonly queueSize?: number;
  /** Comparisons run at once. Default 2. */
  readonly concurrency?: number;
  /** Classes not compared (e.g. `['roles']` when the target has no roles yet). */
  readonly ignore?: readonly DivergenceClass[];
  /** Receives every comparison (agreed and diverged); errors are swallowed. */
  readonly onEvent?: (event: ShadowEvent) => void;
  /** Divergence samples kept for `report()`. Default 20. */
  readonly samples?: number;
  /** Test seam for sampling: a number in [0, 1). */
  readonly random?: () => number;
}

/**
 * Counts for one tenant.
 *
 * @example
 * ```ts
 * report.byTenant.org_acme?.diverged;
 * ```
 */
export interface TenantReport {
  readonly comparisons: number;
  readonly agreed: number;
  readonly diverged: number;
  readonly byClass: Readonly<Record<DivergenceClass, number>>;
}

/**
 * The migration summary: `plane.migration.report()` from live counters, or `summarizeShadowEvents(events)`
 * from a JSON-lines file of `ShadowEvent`s (then the request-level counters are 0).
 *
 * @example
 * ```ts
 * const { comparisons, diverged, byClass } = plane.migration.report();
 * ```
 */
export interface MigrationReport {
  /** ISO time the counters start from. */
  readonly since: string;
  readonly comparisons: number;
  readonly agreed: number;
  readonly diverged: number;
  readonly byClass: Readonly<Record<DivergenceClass, number>>;
  /** At most 1 000 tenants; the rest are summed under `(other)`. The no-org tenant is `(none)`. */
  readonly byTenant: Readonly<Record<string, TenantReport>>;
  readonly dropped: { readonly queueFull: number; readonly closed: number };
  readonly skipped: {
    /** Shadow-mode requests with no target credential (no header, no exchange answer). */
    readonly noTargetCredential: number;
    /** Not picked by `sampleRate`. */
    readonly sampledOut: number;
    /** A refused legacy credential whose tenant could not be told (both sides refused), or not in shadow. */
    readonly unattributed: number;
  };
  /** Comparisons that failed unexpectedly (the exchange hook threw, …). */
  readonly errors: number;
  /** Failed mode-flag evaluations (the safe mode was used). */
  readonly flagErrors: number;
  /** Credentials refused as `provider_disabled` by the tenant's mode, by side. */
  readonly refusals: { readonly legacy: number; readonly target: number };
  /** The latest divergences, newest last. */
  readonly samples: readonly ShadowEvent[];
  /** Accepted requests of tenants in `shadow` (each one is compared, or counted under `skipped`/`dropped`). */
  readonly shadowRequests: number;
  /** Why nothing was compared, when `comparisons` is 0 (no tenant in shadow, no target credential, …); else null. */
  readonly why: string | null;
}

const MAX_TENANTS = 1000;

function emptyClasses(): Record<DivergenceClass, number> {
  return { decision: 0, subject: 0, org: 0, scopes: 0, roles: 0 };
}

/**
 * Aggregates comparisons into a `MigrationReport`.
 *
 * @example
 * ```ts
 * const agg = createReportAggregator(20); agg.add(event); agg.snapshot();
 * ```
 */
export function createReportAggregator(sampleCount = 20, clock: () => number = Date.now) {
  let since = new Date(clock()).toISOString();
  let comparisons = 0;
  let agreed = 0;
  let byClass = emptyClasses();
  let byTenant = new Map<
    string,
    { comparisons: number; agreed: number; diverged: number; byClass: Record<DivergenceClass, number> }
  >();
  let samples: ShadowEvent[] = [];
  const counters = {
    queueFull: 0,
    closed: 0,
    noTargetCredential: 0,
    sampledOut: 0,
    unattributed: 0,
    errors: 0,
    flagErrors: 0,
    refusedLegacy: 0,
    refusedTarget: 0,
    shadowRequests: 0,
  };

  const tenantEntry = (tenant: string | null) => {
    let key = tenant ?? '(none)';
    if (!byTenant.has(key) && byTenant.size >= MAX_TENANTS) key = '(other)';
    let entry = byTenant.get(key);
    if (!entry) {
      entry = { comparisons: 0, agreed: 0, diverged: 0, byClass: emptyClasses() };
      byTenant.set(key, entry);
    }
    return entry;
  };

  return {
    counters,
    add(event: ShadowEvent): void {
      comparisons++;
      const tenant = tenantEntry(event.tenant);
      tenant.comparisons++;
      if (event.outcome === 'agreed') {
        agreed++;
        tenant.agreed++;
        return;
      }
      tenant.diverged++;
      for (const cls of event.classes) {
        if (!(cls in byClass)) continue;
        byClass[cls]++;
        tenant.byClass[cls]++;
      }
      if (sampleCount > 0) {
        samples.push(event);
        if (samples.length > sampleCount) samples = samples.slice(-sampleCount);
      }
    },
    snapshot(): MigrationReport {
      const tenants: Record<string, TenantReport> = {};
      for (const [key, t] of byTenant) tenants[key] = { ...t, byClass: { ...t.byClass } };
      return {
        since,
        comparisons,
        agreed,
        diverged: comparisons - agreed,
        byClass: { ...byClass },
        byTenant: tenants,
        dropped: { queueFull: counters.queueFull, closed: counters.closed },
        skipped: {
          noTargetCredential: counters.noTargetCredential,
          sampledOut: counters.sampledOut,
          unattributed: counters.unattributed,
        },
        errors: counters.errors,
        flagErrors: counters.flagErrors,
        refusals: { legacy: counters.refusedLegacy, target: counters.refusedTarget },
        samples: [...samples],
        shadowRequests: counters.shadowRequests,
        why: null,
      };
    },
    reset(): void {
      since = new Date(clock()).toISOString();
      comparisons = 0;
      agreed = 0;
      byClass = emptyClasses();
      byTenant = new Map();
      samples = [];
      for (const key of Object.keys(counters) as Array<keyof typeof counters>) counters[key] = 0;
    },
  };
}

/**
 * A report aggregator (see {@link createReportAggregator}).
 *
 * @example
 * ```ts
 * const agg: ReportAggregator = createReportAggregator();
 * ```
 */
export type ReportAggregator = ReturnType<typeof createReportAggregator>;

/**
 * Summarises `ShadowEvent`s (e.g. read back from a JSON-lines file) into a `MigrationReport`. Objects
 * that are not shadow events are skipped and counted in `errors`.
 *
 * @example
 * ```ts
 * const events = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
 * summarizeShadowEvents(events).byClass.scopes;
 * ```
 */
export function summarizeShadowEvents(events: Iterable<unknown>, sampleCount = 20): MigrationReport {
  const agg = createReportAggregator(sampleCount);
  let first: string | null = null;
  for (const event of events) {
    if (!isShadowEvent(event)) {
      agg.counters.errors++;
      continue;
    }
    if (first === null || event.time < first) first = event.time;
    agg.add(event);
  }
  const report = agg.snapshot();
  if (first === null) return { ...report, why: 'Nothing compared: the events hold no shadow comparison.' };
  return { ...report, since: first };
}

function isShadowEvent(value: unknown): value is ShadowEvent {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  return (
    e.type === 'migration.shadow' &&
    typeof e.time === 'string' &&
    (e.outcome === 'agreed' || e.outcome === 'diverged') &&
    Array.isArray(e.classes) &&
    (e.tenant === null || typeof e.tenant === 'string')
  );
}

/**
 * Compares the two answers for one request.
 *
 * @example
 * ```ts
 * compareSides(legacySide, targetSide, new Set()); // ['scopes']
 * ```
 */
export function compareSides(
  legacy: ShadowSide,
  target: ShadowSide,
  ignore: ReadonlySet<DivergenceClass>,
): DivergenceClass[] {
  const classes: DivergenceClass[] = [];
  const check = (cls: DivergenceClass, differs: boolean) => {
    if (differs && !ignore.has(cls)) classes.push(cls);
  };
  if (legacy.decision !== target.decision) {
    check('decision', true);
    return classes;
  }
  if (legacy.decision === 'reject') return classes;
  check('subject', legacy.subject !== target.subject);
  check('org', legacy.orgId !== target.orgId);
  check('scopes', !sameSet(legacy.scopes, target.scopes));
  check('roles', !sameSet(legacy.roles, target.roles));
  return classes;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  if (left.size !== right.size) return false;
  for (const v of left) if (!right.has(v)) return false;
  return true;
}

/**
 * One side's answer as a `ShadowSide` (sorted, de-duplicated lists; no claims).
 *
 * @example
 * ```ts
 * sideOf(result); // { decision: 'accept', subject: 'usr_1', … }
 * ```
 */
export function sideOf(result: AuthResult): ShadowSide {
  if (!result.ok) {
    return {
      decision: 'reject',
      reason: result.failure.reason,
      subject: null,
      orgId: null,
      scopes: [],
      roles: [],
    };
  }
  const p = result.principal;
  return {
    decision: 'accept',
    reason: null,
    subject: p.subject,
    orgId: p.orgId,
    scopes: [...new Set(p.scopes)].sort(),
    roles: [...new Set(p.roles)].sort(),
  };
}

/** One queued comparison. */
export interface ShadowJob {
  readonly traceId: string;
  readonly legacy: AuthResult;
  /** The target credential from the request, if any (else the exchange hook is asked). */
  readonly targetToken: string | null;
}

/**
 * What the shadow runner needs from the plane: the target's answer for a credential (linked, no mode
 * check) and the mode of a tenant now.
 *
 * @example
 * ```ts
 * const deps: ShadowDeps = { evaluateTarget, modeOf, meterProvider };
 * ```
 */
export interface ShadowDeps {
  evaluateTarget(token: string, traceId: string): Promise<AuthResult>;
  isShadow(orgId: string | null): Promise<boolean>;
  readonly aggregator: ReportAggregator;
  readonly meterProvider?: import('@opentelemetry/api').MeterProvider;
  readonly clock?: () => number;
}

/**
 * The off-hot-path comparison runner: a bounded queue drained by `concurrency` workers scheduled with
 * `setImmediate`, so `offer` never awaits, never throws, and never delays the request that offered.
 *
 * @example
 * ```ts
 * const runner = createShadowRunner(options, deps);
 * runner.offer({ traceId, legacy: result, targetToken });
 * await runner.idle();
 * ```
 */
export function createShadowRunner(options: ShadowOptions, deps: ShadowDeps) {
  const sampleRate = Math.min(1, Math.max(0, options.sampleRate ?? 1));
  const queueSize = Math.max(1, options.queueSize ?? 1000);
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const ignore = new Set(options.ignore ?? []);
  const random = options.random ?? Math.random;
  const clock = deps.clock ?? Date.now;
  const agg = deps.aggregator;
  const queue: ShadowJob[] = [];
  let active = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];
  const instruments = () => migrationInstruments(deps.meterProvider);

  const settleIdle = () => {
    if (active === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const emit = (event: ShadowEvent) => {
    agg.add(event);
    safely(() => {
      const m = instruments();
      m.comparisons.add(1, { 'authplane.migration.outcome': event.outcome });
      for (const cls of event.classes) m.divergences.add(1, { 'authplane.migration.class': cls });
    });
    if (options.onEvent) {
      try {
        const out = options.onEvent(event) as unknown;
        if (out instanceof Promise) out.catch(() => {});
      } catch {
        // A broken sink never affects anything else.
      }
    }
  };

  const run = async (job: ShadowJob): Promise<void> => {
    let token = job.targetToken;
    if (token === null && job.legacy.ok && options.exchange) {
      token = await options.exchange({ principal: job.legacy.principal, traceId: job.traceId });
    }
    if (token === null || token === '') {
      agg.counters.noTargetCredential++;
      return;
    }
    const target = await deps.evaluateTarget(token, job.traceId);
    const tenant = job.legacy.ok ? job.legacy.principal.orgId : target.ok ? target.principal.orgId : null;
    // A refused legacy credential says nothing about its tenant: the target's verified org decides
    // whether this request was a shadow-mode one; if both refused it cannot be told.
    if (!job.legacy.ok && (!target.ok || !(await deps.isShadow(tenant)))) {
      agg.counters.unattributed++;
      return;
    }
    const legacySide = sideOf(job.legacy);
    const targetSide = sideOf(target);
    const classes = compareSides(legacySide, targetSide, ignore);
    emit({
      type: 'migration.shadow',
      time: new Date(clock()).toISOString(),
      traceId: job.traceId,
      tenant,
      outcome: classes.length === 0 ? 'agreed' : 'diverged',
      classes,
      legacy: legacySide,
      target: targetSide,
    });
  };

  const drain = async (): Promise<void> => {
    active++;
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        try {
          await run(job);
        } catch {
          agg.counters.errors++;
        }
      }
    } finally {
      active--;
      settleIdle();
    }
  };

  return {
    /** Whether a request should be compared (sampling); counts the ones left out. */
    sample(): boolean {
      if (sampleRate >= 1 || random() < sampleRate) return true;
      agg.counters.sampledOut++;
      return false;
    },
    /** Queues a comparison; drops and counts it when the queue is full or the plane closed. */
    offer(job: ShadowJob): void {
      if (closed) {
        agg.counters.closed++;
        safely(() => instruments().dropped.add(1, { 'authplane.migration.reason': 'closed' }));
        return;
      }
      if (queue.length >= queueSize) {
        agg.counters.queueFull++;
        safely(() => instruments().dropped.add(1, { 'authplane.migration.reason': 'queue_full' }));
        return;
      }
      queue.push(job);
      if (active < concurrency) {
        active++; // reserved now so that a burst of offers starts at most `concurrency` workers
        setImmediate(() => {
          active--;
          void drain();
        });
      }
    },
    /** Resolves once the queue is empty and no comparison runs. */
    idle(): Promise<void> {
      if (active === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Drops queued comparisons (counted) and waits for running ones. */
    async close(): Promise<void> {
      closed = true;
      agg.counters.closed += queue.length;
      queue.length = 0;
      await this.idle();
    },
  };
}

/**
 * A shadow runner (see {@link createShadowRunner}).
 *
 * @example
 * ```ts
 * const runner: ShadowRunner = createShadowRunner({}, deps);
 * ```
 */
export type ShadowRunner = ReturnType<typeof createShadowRunner>;
