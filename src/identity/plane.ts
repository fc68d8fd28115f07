import { context, type Span, trace } from '@opentelemetry/api';
import { AuthRejection, type AuthResult, failureFromError } from '../core/failure';
import { freezePrincipal, type Principal } from '../core/principal';
import { newTraceId, traceIdFrom } from '../core/trace';
import { type AuditHook, createAuditor } from '../telemetry/audit';
import { recordDecision, type TelemetryOptions } from '../telemetry/metrics';
import { activeTracer, endDecisionSpan, spanTraceId, startDecisionSpan } from '../telemetry/tracing';
import { keyServiceOf } from './api-key-routing';
import { checkToken, DEFAULT_MAX_TOKEN_BYTES, extractCredential } from './extract';
import { createMemoryRevocationStore, type RevocationStore } from './revocation';
import type { IdentityAdapter, IdentityPlane, RequestLike, RevocationTarget, VerifyOptions } from './types';

/**
 * Options of {@link createPlane}: what the plane adds around any adapter.
 *
 * @example
 * ```ts
 * const options: PlaneOptions = { realm: 'api', maxTokenBytes: 4096 };
 * ```
 */
export interface PlaneOptions {
  /** Where revocations are written and read. Default: a bounded in-memory store. */
  readonly revocation?: RevocationStore;
  /** `realm` attribute of every challenge. */
  readonly realm?: string;
  /** Largest credential accepted, in bytes. Default 8192. */
  readonly maxTokenBytes?: number;
  /** Test seam for the default revocation store: epoch milliseconds. */
  readonly clock?: () => number;
  /**
   * Receives an `auth.succeeded` / `auth.failed` event per decision, and what the application records
   * through `plane.audit`. Errors thrown by the hook are swallowed and never change a decision.
   */
  readonly audit?: AuditHook;
  /** Meter and tracer providers other than the global OpenTelemetry ones. */
  readonly telemetry?: TelemetryOptions;
}

// A caller-supplied trace id is echoed in a response header, so it must be a single header-safe token.
const SAFE_TRACE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Wraps an adapter into an `IdentityPlane`. The plane owns everything provider-neutral: a trace id per
 * decision (`options.traceId`, else the request's W3C `traceparent`, else a new one), credential
 * extraction, the revocation check (by `claims.jti` and `sessionId`, refused as `token_revoked`),
 * abort handling (`provider_unavailable`) and the conversion of every thrown error into a failure.
 *
 * Telemetry: every decision adds to the `authplane.decisions` counter (provider, outcome, reason) and
 * the `authplane.decision.duration` histogram, runs inside an `authplane.authenticate` /
 * `authplane.verify` span whose trace id is the decision's (when an OpenTelemetry SDK is installed; no
 * span work otherwise), and emits `auth.succeeded` / `auth.failed` to the `audit` hook. None of them
 * ever carries the credential.
 *
 * `authenticate` and `verify` never throw and never reject, whatever they are given: a non-string token
 * or a value that is not a request is `credentials_malformed`, an unexpected adapter fault fails closed
 * as `provider_unavailable`. `revoke` throws a `TypeError` for a target without `jti` or `sessionId`,
 * since that is a programmer error. Most applications call `createIdentityPlane(config)` instead.
 *
 * @example
 * ```ts
 * const plane = createPlane({ name: 'custom', async verify(token) { return lookup(token); } });
 * const result = await plane.verify(token);
 * ```
 */
export function createPlane(adapter: IdentityAdapter, options: PlaneOptions = {}): IdentityPlane {
  if (!adapter || typeof adapter.verify !== 'function' || typeof adapter.name !== 'string') {
    throw new TypeError('createPlane: adapter must have a string name and a verify function');
  }
  const provider = adapter.name;
  const realm = options.realm;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const store = options.revocation ?? createMemoryRevocationStore({ clock: options.clock });
  const telemetry = options.telemetry;
  const auditor = createAuditor(options.audit, { clock: options.clock });
  let closed = false;

  // Metrics, span end and audit for one decision. Never throws: telemetry cannot change a result.
  const observe = (result: AuthResult, started: number, span: Span | undefined): void => {
    try {
      const reason = result.ok ? null : result.failure.reason;
      const decider = result.ok ? result.principal.provider : (result.failure.provider ?? provider);
      recordDecision(
        { provider: decider, reason, durationSec: (performance.now() - started) / 1000 },
        telemetry,
      );
      if (span) {
        endDecisionSpan(span, {
          provider: decider,
          reason,
          traceId: result.ok ? result.traceId : result.failure.traceId,
        });
      }
      if (auditor.enabled) {
        if (result.ok) auditor.succeeded(result.principal, result.traceId);
        else auditor.failed(result.failure);
      }
    } catch {
      // Swallowed by contract.
    }
  };

  // Runs one decision inside its span when tracing is on; the span's trace id becomes the decision's
  // unless the caller chose one, so logs, responses and traces share it.
  const instrumented = async (
    name: string,
    traceparent: () => string | null,
    run: (spanTrace: string | null) => Promise<AuthResult>,
  ): Promise<AuthResult> => {
    const started = performance.now();
    const tracer = activeTracer(telemetry?.tracerProvider);
    let span: Span | undefined;
    let result: AuthResult;
    if (tracer) {
      try {
        span = startDecisionSpan(tracer, name, provider, traceparent());
      } catch {
        span = undefined;
      }
    }
    if (span) {
      const active = span;
      result = await context.with(trace.setSpan(context.active(), active), () => run(spanTraceId(active)));
    } else {
      result = await run(null);
    }
    observe(result, started, span);
    return result;
  };

  const throwIfUnusable = (signal: AbortSignal | undefined): void => {
    if (closed) throw new AuthRejection('provider_unavailable', 'The identity plane is closed');
    if (signal?.aborted) throw new AuthRejection('provider_unavailable', 'The verification was aborted');
  };

  const fail = (err: unknown, traceId: string, decidedBy: string | null): AuthResult => ({
    ok: false,
    failure: failureFromError(err, { traceId, provider: decidedBy, realm }),
  });

  // Shared tail of authenticate and verify, once the token is known to be well-formed.
  const decide = async (
    token: string,
    traceId: string,
    signal: AbortSignal | undefined,
  ): Promise<AuthResult> => {
    let principal: Principal;
    try {
      throwIfUnusable(signal);
      // Promise.resolve: a misbehaving adapter that returns a plain value still goes through the checks.
      principal = await raceAbort(
        Promise.resolve(adapter.verify(token, signal ? { traceId, signal } : { traceId })),
        signal,
      );
      if (!principal || typeof principal !== 'object' || typeof principal.subject !== 'string') {
        throw new Error('adapter returned no principal'); // fails closed as provider_unavailable
      }
      if (!Object.isFrozen(principal)) principal = freezePrincipal(principal);
      const jti = principal.claims?.jti;
      const lookup = { jti: typeof jti === 'string' ? jti : null, sessionId: principal.sessionId ?? null };
      // Hot path: no await at all when the store says it is empty or there is nothing to look up.
      if ((lookup.jti !== null || lookup.sessionId !== null) && !store.isEmpty?.()) {
        if (await raceAbort(store.isRevoked(lookup), signal)) throw new AuthRejection('token_revoked');
      }
      throwIfUnusable(signal);
    } catch (err) {
      // An API key refused by the key service in front of the adapter is that service's decision.
      return fail(err, traceId, keyServiceOf(err) ?? provider);
    }
    return { ok: true, principal, traceId };
  };

  const plane: IdentityPlane = {
    provider,

    audit: auditor,

    authenticate(request: RequestLike, verifyOptions?: VerifyOptions): Promise<AuthResult> {
      return instrumented(
        'authplane.authenticate',
        () => readTraceparent(request),
        async (spanTrace) => {
          let traceId = callerTraceId(verifyOptions);
          const signal = signalOf(verifyOptions);
          try {
            traceId ??= spanTrace ?? traceIdFrom(readTraceparent(request));
            throwIfUnusable(signal);
          } catch (err) {
            return fail(err, traceId ?? newTraceId(), provider);
          }
          try {
            const { token } = extractCredential(request, { maxTokenBytes });
            return await decide(token, traceId, signal);
          } catch (err) {
            // decide() never throws: whatever lands here was decided before any adapter was reached.
            return fail(err, traceId, null);
          }
        },
      );
    },

    verify(token: string, verifyOptions?: VerifyOptions): Promise<AuthResult> {
      return instrumented(
        'authplane.verify',
        () => null,
        async (spanTrace) => {
          const traceId = callerTraceId(verifyOptions) ?? spanTrace ?? newTraceId();
          const signal = signalOf(verifyOptions);
          try {
            throwIfUnusable(signal);
          } catch (err) {
            return fail(err, traceId, provider);
          }
          try {
            checkToken(token, maxTokenBytes);
            return await decide(token, traceId, signal);
          } catch (err) {
            return fail(err, traceId, null);
          }
        },
      );
    },

    async revoke(target: RevocationTarget): Promise<void> {
      const key = revocationKey(target);
      const until =
        target.until instanceof Date && Number.isFinite(target.until.getTime()) ? target.until : undefined;
      for (const k of key) await store.add(k, until);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled([adapter.close?.(), store.close()]);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
  };
  return Object.freeze(plane);
}

function callerTraceId(options: VerifyOptions | undefined): string | undefined {
  const traceId = options && typeof options === 'object' ? options.traceId : undefined;
  return typeof traceId === 'string' && SAFE_TRACE_ID.test(traceId) ? traceId : undefined;
}

function signalOf(options: VerifyOptions | undefined): AbortSignal | undefined {
  const signal = options && typeof options === 'object' ? options.signal : undefined;
  // Anything that is not a real AbortSignal is ignored rather than trusted.
  return signal instanceof AbortSignal ? signal : undefined;
}

function readTraceparent(request: RequestLike): string | null {
  // A hostile object may throw from a getter; the decision then simply starts a new trace.
  try {
    return readTraceparentUnsafe(request);
  } catch {
    return null;
  }
}

function readTraceparentUnsafe(request: RequestLike): string | null {
  const headers = (request as { headers?: unknown } | null)?.headers;
  if (!headers || typeof headers !== 'object') return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get('traceparent');
  const value = (headers as Record<string, unknown>).traceparent;
  return typeof value === 'string' ? value : null;
}

function revocationKey(target: RevocationTarget): Array<{ jti: string } | { sessionId: string }> {
  const keys: Array<{ jti: string } | { sessionId: string }> = [];
  if (target && typeof target === 'object') {
    if ('jti' in target && typeof target.jti === 'string' && target.jti) keys.push({ jti: target.jti });
    if ('sessionId' in target && typeof target.sessionId === 'string' && target.sessionId) {
      keys.push({ sessionId: target.sessionId });
    }
  }
  if (keys.length === 0) throw new TypeError('revoke: target needs a non-empty jti or sessionId');
  return keys;
}

// Settles with the promise, or rejects as soon as the signal aborts, so an adapter that ignores the
// signal cannot hold the caller.
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(
        new AuthRejection('provider_unavailable', 'The verification was aborted', { cause: signal.reason }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
