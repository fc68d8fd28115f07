import { type Counter, type Histogram, type MeterProvider, metrics, ValueType } from '@opentelemetry/api';
import type { Reason } from '../core/reasons';

/** Instrumentation scope of every authplane meter and tracer. */
export const INSTRUMENTATION_SCOPE = 'authplane';

/**
 * Where authplane's metrics and spans go. Both default to the global providers of `@opentelemetry/api`,
 * which are no-ops until the application installs an OpenTelemetry SDK.
 *
 * @example
 * ```ts
 * createPlane(adapter, { telemetry: { meterProvider, tracerProvider } });
 * ```
 */
export interface TelemetryOptions {
  /** A meter provider other than the global one (tests, or an app with several SDKs). */
  readonly meterProvider?: MeterProvider;
  /** A tracer provider other than the global one. */
  readonly tracerProvider?: import('@opentelemetry/api').TracerProvider;
}

interface Instruments {
  readonly decisions: Counter;
  readonly duration: Histogram;
  readonly authz: Counter;
  readonly jwksFetches: Counter;
  readonly jwksDuration: Histogram;
  readonly revocationFailures: Counter;
}

// One set of instruments per meter provider, created on first use. The global meter provider of
// @opentelemetry/api is not a proxy: looking it up per call (a global read and a WeakMap hit) is what
// lets an SDK installed after the plane was created still receive the metrics.
const byProvider = new WeakMap<MeterProvider, Instruments>();

const LATENCY_BUCKETS_SEC = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

// The last provider asked for and its instruments: one identity comparison instead of a WeakMap
// lookup on every decision. A different provider (an SDK installed later, an explicit one) misses and
// goes through the WeakMap.
let lastProvider: MeterProvider | undefined;
let lastInstruments: Instruments | undefined;

function instruments(explicit: MeterProvider | undefined): Instruments {
  const provider = explicit ?? metrics.getMeterProvider();
  if (provider === lastProvider && lastInstruments !== undefined) return lastInstruments;
  let found = byProvider.get(provider);
  if (!found) {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    found = {
      decisions: meter.createCounter('authplane.decisions', {
        description: 'Authentication decisions, by provider, outcome and reason',
        valueType: ValueType.INT,
      }),
      duration: meter.createHistogram('authplane.decision.duration', {
        description: 'Duration of authentication decisions',
        unit: 's',
        advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SEC },
      }),
      authz: meter.createCounter('authplane.authz.decisions', {
        description: 'Authorization decisions (scopes, roles, org), by provider, outcome and reason',
        valueType: ValueType.INT,
      }),
      jwksFetches: meter.createCounter('authplane.jwks.fetches', {
        description: 'JWKS fetches, by outcome',
        valueType: ValueType.INT,
      }),
      jwksDuration: meter.createHistogram('authplane.jwks.fetch.duration', {
        description: 'Duration of JWKS fetches',
        unit: 's',
        advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SEC },
      }),
      revocationFailures: meter.createCounter('authplane.revocation.failures', {
        description: 'Revocations a store refused to record (store_full, store_unavailable), by error type',
        valueType: ValueType.INT,
      }),
    };
    byProvider.set(provider, found);
  }
  lastProvider = provider;
  lastInstruments = found;
  return found;
}

/** `success` or `failure`: the outcome attribute of every authplane metric and span. */
export type Outcome = 'success' | 'failure';

/**
 * Records one authentication decision: `authplane.decisions` (+1) and `authplane.decision.duration`.
 * Attributes are the provider, the outcome and the reason (`none` on success): never the credential.
 *
 * @example
 * ```ts
 * recordDecision({ provider: 'oidc', reason: 'token_expired', durationSec: 0.0004 });
 * ```
 */
export function recordDecision(
  decision: { provider: string; reason: Reason | null; durationSec: number },
  options?: TelemetryOptions,
): void {
  const { decisions, duration } = instruments(options?.meterProvider);
  const attributes = decisionAttributes(decision.provider, decision.reason);
  decisions.add(1, attributes.full);
  duration.record(decision.durationSec, attributes.outcome);
}

interface DecisionAttributes {
  readonly full: Readonly<Record<string, string>>;
  readonly outcome: Readonly<Record<string, string>>;
}

// Attribute sets are few (providers x reasons) and reused: no allocation per decision. Bounded: the
// closed reason set times at most 64 provider names.
const attributeCache = new Map<string, Map<Reason | null, DecisionAttributes>>();

function decisionAttributes(provider: string, reason: Reason | null): DecisionAttributes {
  let byReason = attributeCache.get(provider);
  if (!byReason) {
    if (attributeCache.size >= 64) attributeCache.clear();
    byReason = new Map();
    attributeCache.set(provider, byReason);
  }
  let found = byReason.get(reason);
  if (!found) {
    const outcome: Outcome = reason === null ? 'success' : 'failure';
    found = Object.freeze({
      full: Object.freeze({
        'authplane.provider': provider,
        'authplane.outcome': outcome,
        'authplane.reason': reason ?? 'none',
      }),
      outcome: Object.freeze({ 'authplane.provider': provider, 'authplane.outcome': outcome }),
    });
    byReason.set(reason, found);
  }
  return found;
}

/**
 * Records one authorization decision (`authplane.authz.decisions`): what the guards and
 * `createAuthorizer().check` decide after authentication.
 *
 * @example
 * ```ts
 * recordAuthzDecision({ provider: 'oidc', reason: 'org_mismatch' });
 * ```
 */
export function recordAuthzDecision(
  decision: { provider: string; reason: Reason | null },
  options?: TelemetryOptions,
): void {
  instruments(options?.meterProvider).authz.add(
    1,
    decisionAttributes(decision.provider, decision.reason).full,
  );
}

/**
 * One JWKS fetch as the JWKS cache reports it. `JwksFetchEvent` (the cache's `onFetch` payload) fits
 * this shape, so the cache can be wired with `onFetch: recordJwksFetch`.
 *
 * @example
 * ```ts
 * const outcome: JwksFetchOutcome = { ok: false, trigger: 'unknown_kid', error: 'timeout', durationMs: 5000 };
 * ```
 */
export interface JwksFetchOutcome {
  readonly ok: boolean;
  /** What started it: `initial`, `unknown_kid`, `ttl`, `manual`. */
  readonly trigger?: string;
  /** Failure kind (`timeout`, `network`, `http_status`, …). */
  readonly error?: string;
  readonly durationMs?: number;
}

/**
 * Records a JWKS fetch and its outcome (`authplane.jwks.fetches`, `authplane.jwks.fetch.duration`).
 * Never throws. The URI is not recorded (it is configuration, and keeps cardinality low).
 *
 * @example
 * ```ts
 * createJwksCache({ jwksUri, algorithms, onFetch: recordJwksFetch });
 * recordJwksFetch({ ok: true }); // or just an outcome
 * ```
 */
export function recordJwksFetch(outcome: JwksFetchOutcome | Outcome, options?: TelemetryOptions): void {
  try {
    const event: JwksFetchOutcome = typeof outcome === 'string' ? { ok: outcome === 'success' } : outcome;
    const { jwksFetches, jwksDuration } = instruments(options?.meterProvider);
    const attributes: Record<string, string> = { 'authplane.outcome': event.ok ? 'success' : 'failure' };
    if (typeof event.trigger === 'string') attributes['authplane.jwks.trigger'] = event.trigger;
    if (!event.ok && typeof event.error === 'string') attributes['error.type'] = event.error;
    jwksFetches.add(1, attributes);
    if (typeof event.durationMs === 'number' && Number.isFinite(event.durationMs)) {
      jwksDuration.record(event.durationMs / 1000, attributes);
    }
  } catch {
    // Telemetry never breaks key fetching.
  }
}

/**
 * Records a revocation the store refused to record (`authplane.revocation.failures`, attribute
 * `error.type`: `store_full`, `store_unavailable`, …): a revocation that did not happen must be seen.
 * Never throws.
 *
 * @example
 * ```ts
 * try { await store.add({ jti }); } catch (err) { recordRevocationFailure(err); throw err; }
 * ```
 */
export function recordRevocationFailure(error: unknown, options?: TelemetryOptions): void {
  try {
    const code = (error as { code?: unknown } | null)?.code;
    const type = typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'error';
    instruments(options?.meterProvider).revocationFailures.add(1, { 'error.type': type });
  } catch {
    // Telemetry never hides the store's own error.
  }
}
