import {
  type Context,
  context,
  isSpanContextValid,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Reason } from '../core/reasons';
import { INSTRUMENTATION_SCOPE } from './metrics';

// A ProxyTracerProvider without a delegate returns the API's no-op provider singleton: comparing the
// global provider's delegate with it tells, in two property reads, that no SDK is installed.
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const tracers = new WeakMap<TracerProvider, Tracer>();
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * The tracer for authplane spans, or null when tracing is a no-op (no SDK registered globally and no
 * explicit provider), so the hot path does no span work at all.
 *
 * @example
 * ```ts
 * const tracer = activeTracer(); if (tracer) { … }
 * ```
 */
export function activeTracer(explicit?: TracerProvider): Tracer | null {
  let provider = explicit;
  if (!provider) {
    const global = trace.getTracerProvider();
    if (global instanceof ProxyTracerProvider && global.getDelegate() === NOOP_TRACER_PROVIDER) return null;
    provider = global;
  }
  let tracer = tracers.get(provider);
  if (!tracer) {
    tracer = provider.getTracer(INSTRUMENTATION_SCOPE);
    tracers.set(provider, tracer);
  }
  return tracer;
}

/**
 * Starts the span of one decision. Its parent is the active span when there is one (HTTP
 * instrumentation), else the request's W3C `traceparent`, so the span's trace id is the decision's.
 * Only the provider is set here; the credential never becomes an attribute.
 *
 * @example
 * ```ts
 * const span = startDecisionSpan(tracer, 'authplane.authenticate', 'oidc', request.headers.get('traceparent'));
 * ```
 */
export function startDecisionSpan(
  tracer: Tracer,
  name: string,
  provider: string,
  traceparent: string | null,
): Span {
  let parent: Context = context.active();
  if (!trace.getSpan(parent) && traceparent) {
    const match = TRACEPARENT.exec(traceparent.trim());
    const [, version, traceId, spanId, flags] = match ?? [];
    if (version && version !== 'ff' && traceId && spanId && flags) {
      const remote = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 1, isRemote: true };
      if (isSpanContextValid(remote)) parent = trace.setSpanContext(parent, remote);
    }
  }
  return tracer.startSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes: { 'authplane.provider': provider } },
    parent,
  );
}

/**
 * The trace id a span carries, or null when it has none (a no-op span without a parent).
 *
 * @example
 * ```ts
 * const traceId = spanTraceId(span) ?? newTraceId();
 * ```
 */
export function spanTraceId(span: Span): string | null {
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext.traceId : null;
}

/**
 * Ends a decision span with its outcome and reason. An outage (`provider_unavailable`) marks the span
 * as an error; a refused credential is a normal outcome, not a span error.
 *
 * @example
 * ```ts
 * endDecisionSpan(span, { provider: 'oidc', reason: 'token_expired', traceId });
 * ```
 */
export function endDecisionSpan(
  span: Span,
  decision: { provider: string | null; reason: Reason | null; traceId: string },
): void {
  try {
    span.setAttribute('authplane.outcome', decision.reason === null ? 'success' : 'failure');
    span.setAttribute('authplane.reason', decision.reason ?? 'none');
    if (decision.provider) span.setAttribute('authplane.provider', decision.provider);
    // Only when it differs from the span's own trace id (a caller-chosen id): keeps them joinable.
    if (decision.traceId !== span.spanContext().traceId)
      span.setAttribute('authplane.trace_id', decision.traceId);
    if (decision.reason === 'provider_unavailable') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  } catch {
    // A misbehaving exporter never changes a decision.
  }
}
