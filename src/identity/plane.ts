import { context, type Span, trace } from '@opentelemetry/api';
import { AuthRejection, type AuthResult, failureFromError } from '../core/failure';
import { freezePrincipal, type Principal } from '../core/principal';
import { newTraceId, traceIdFrom } from '../core/trace';
import { type AuditHook, createAuditor } from '../telemetry/audit';
import { recordDecision, recordRevocationFailure, type TelemetryOptions } from '../telemetry/metrics';
import { activeTracer, endDecisionSpan, spanTraceId, startDecisionSpan } from '../telemetry/tracing';
import { keyServiceOf } from './api-key-routing';
import { checkToken, DEFAULT_MAX_TOKEN_BYTES, extractCredential } from './extract';
import {
  buildResourceMetadata,
  type ProtectedResourceMetadata,
  type ResourceDescription,
  type ResourceMetadataOptions,
} from './resource-metadata';
import { createMemoryRevocationStore, type RevocationStore } from './revocation';
import { createSenderConstraints, type DpopOptions, type Presentation } from './sender/binding';
import type { GetCertificate } from './sender/mtls';
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
  /** Authorization schemes read as API keys besides `Bearer` (`['Api-Key']` for drf-api-key clients). */
  readonly apiKeySchemes?: readonly string[];
  /** The API key header (default `X-API-Key`). */
  readonly apiKeyHeader?: string;
  /**
   * Accept DPoP-bound tokens (RFC 9449) with the `DPoP` scheme and a proof; see `DpopOptions`. Without
   * it the DPoP scheme is `credentials_malformed` and DPoP-bound tokens are refused.
   */
  readonly dpop?: DpopOptions;
  /**
   * The TLS client certificate of a request, for certificate-bound tokens (RFC 8705 `cnf.x5t#S256`).
   * Without it such tokens are refused.
   */
  readonly getCertificate?: GetCertificate;
  /** What `plane.resourceMetadata()` derives its authorization servers and default resource from. */
  readonly resource?: ResourceDescription;
  /** Defaults of `plane.resourceMetadata(options)` (RFC 9728 fields). */
  readonly resourceMetadata?: ResourceMetadataOptions;
  /** RFC 9728: every 401/403 challenge carries `resource_metadata="<this URL>"`. */
  readonly resourceMetadataUrl?: string;
  /**
   * `'exact'`: a token whose `aud` lists any value besides `resource.audiences` is `audience_mismatch`
   * (a token minted for several resources can be replayed to each). Default `'any'`: one matching
   * value is enough (checked by the adapter).
   */
  readonly audienceMode?: 'any' | 'exact';
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
  // Sender-constrained tokens (cnf): checked here, where every adapter's principal passes.
  const constraints = createSenderConstraints({
    dpop: options.dpop,
    getCertificate: options.getCertificate,
    clock: options.clock,
  });
  const dpopAlgs = constraints.dpopAlgs;
  const resourceMetadataUrl = options.resourceMetadataUrl;
  const exactAudiences = exactAudienceSet(options);
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

  // The decision's span when tracing is on (an SDK is installed or a tracer provider was given), else
  // undefined: without a tracer the hot path does no span work and no context switch at all.
  const openSpan = (name: string, traceparent: () => string | null): Span | undefined => {
    const tracer = activeTracer(telemetry?.tracerProvider);
    if (!tracer) return undefined;
    try {
      return startDecisionSpan(tracer, name, provider, traceparent());
    } catch {
      return undefined;
    }
  };

  // Runs a decision inside its span, so the adapter's own spans are its children; the span's trace id
  // becomes the decision's unless the caller chose one, so logs, responses and traces share it.
  const inSpan = (
    span: Span,
    run: (spanTrace: string | null) => Promise<AuthResult>,
  ): Promise<AuthResult> => {
    let spanTrace: string | null;
    try {
      spanTrace = spanTraceId(span);
    } catch {
      spanTrace = null;
    }
    let entered = false;
    try {
      return context.with(
        trace.setSpan(context.active(), span),
        (id: string | null) => {
          entered = true;
          return run(id);
        },
        undefined,
        spanTrace,
      );
    } catch (err) {
      // A broken context manager must not turn a decision into a throw.
      if (entered) throw err;
      return run(spanTrace);
    }
  };

  // A decision taken before any adapter was reached: observed now, resolved as a promise.
  const settle = (result: AuthResult, started: number, span: Span | undefined): Promise<AuthResult> => {
    observe(result, started, span);
    return Promise.resolve(result);
  };

  const throwIfUnusable = (signal: AbortSignal | undefined): void => {
    if (closed) throw new AuthRejection('provider_unavailable', 'The identity plane is closed');
    if (signal?.aborted) throw new AuthRejection('provider_unavailable', 'The verification was aborted');
  };

  const fail = (err: unknown, traceId: string, decidedBy: string | null, dpopScheme = false): AuthResult => ({
    ok: false,
    failure: failureFromError(err, {
      traceId,
      provider: decidedBy,
      realm,
      dpopAlgs,
      ...(dpopScheme ? { scheme: 'DPoP' as const } : {}),
      resourceMetadata: resourceMetadataUrl,
    }),
  });

  // Shared tail of authenticate and verify, once the token is known to be well-formed. One async frame
  // and one await per decision on the hot path (a cached key, an empty revocation store): the adapter's
  // promise is awaited here and the decision is observed here, not by further wrappers.
  const decide = async (
    presentation: Presentation,
    traceId: string,
    signal: AbortSignal | undefined,
    started: number,
    span: Span | undefined,
  ): Promise<AuthResult> => {
    let result: AuthResult;
    const token = presentation.token;
    try {
      throwIfUnusable(signal);
      // Promise.resolve: a misbehaving adapter that returns a plain value still goes through the checks.
      let principal: Principal = await raceAbort(
        Promise.resolve(adapter.verify(token, signal ? { traceId, signal } : { traceId })),
        signal,
      );
      if (!principal || typeof principal !== 'object' || typeof principal.subject !== 'string') {
        throw new Error('adapter returned no principal'); // fails closed as provider_unavailable
      }
      if (!Object.isFrozen(principal)) principal = freezePrincipal(principal);
      if (exactAudiences) checkExactAudience(principal, exactAudiences);
      const claimedJti = principal.claims?.jti;
      const jti = typeof claimedJti === 'string' ? claimedJti : null;
      const sessionId = principal.sessionId ?? null;
      // Hot path: no await at all when the store says it is empty or there is nothing to look up.
      if ((jti !== null || sessionId !== null) && !store.isEmpty?.()) {
        if (await raceAbort(store.isRevoked({ jti, sessionId }), signal)) {
          throw new AuthRejection('token_revoked');
        }
      }
      // null (no await) for an unbound token presented as Bearer: the hot path.
      const bound = constraints.check(principal, presentation, signal);
      if (bound) await raceAbort(bound, signal);
      throwIfUnusable(signal);
      result = { ok: true, principal, traceId };
    } catch (err) {
      // An API key refused by the key service in front of the adapter is that service's decision.
      result = fail(
        await revokedHere(err),
        traceId,
        keyServiceOf(err) ?? provider,
        presentation.scheme === 'dpop',
      );
    }
    observe(result, started, span);
    return result;
  };

  // `token_inactive` (the issuer's word) becomes `token_revoked` when this plane revoked the token.
  const revokedHere = async (err: unknown): Promise<unknown> => {
    if (!(err instanceof AuthRejection) || err.reason !== 'token_inactive' || !err.revocation) return err;
    try {
      if (await store.isRevoked(err.revocation)) return new AuthRejection('token_revoked');
    } catch {
      // The store's outage does not turn the issuer's "inactive" into anything else.
    }
    return err;
  };

  const authenticateWith = (
    request: RequestLike,
    verifyOptions: VerifyOptions | undefined,
    spanTrace: string | null,
    started: number,
    span: Span | undefined,
  ): Promise<AuthResult> => {
    let traceId: string | undefined;
    let signal: AbortSignal | undefined;
    try {
      traceId = callerTraceId(verifyOptions);
      signal = signalOf(verifyOptions);
      traceId ??= spanTrace ?? traceIdFrom(readTraceparent(request));
      throwIfUnusable(signal);
    } catch (err) {
      return settle(fail(err, traceId ?? newTraceId(), provider), started, span);
    }
    let presentation: Presentation;
    try {
      const credential = extractCredential(request, extractOptions);
      presentation = {
        token: credential.token,
        scheme: credential.scheme ?? (credential.source === 'authorization' ? 'bearer' : null),
        request,
      };
    } catch (err) {
      // Decided before any adapter was reached.
      return settle(fail(err, traceId, null), started, span);
    }
    return decide(presentation, traceId, signal, started, span);
  };

  const verifyWith = (
    token: string,
    verifyOptions: VerifyOptions | undefined,
    spanTrace: string | null,
    started: number,
    span: Span | undefined,
  ): Promise<AuthResult> => {
    let traceId: string | undefined;
    let signal: AbortSignal | undefined;
    try {
      traceId = callerTraceId(verifyOptions) ?? spanTrace ?? newTraceId();
      signal = signalOf(verifyOptions);
      throwIfUnusable(signal);
    } catch (err) {
      return settle(fail(err, traceId ?? newTraceId(), provider), started, span);
    }
    try {
      checkToken(token, maxTokenBytes);
    } catch (err) {
      return settle(fail(err, traceId, null), started, span);
    }
    return decide({ token, scheme: null, request: null }, traceId, signal, started, span);
  };

  const extractOptions = {
    maxTokenBytes,
    dpop: constraints.acceptsDpop,
    ...(options.apiKeySchemes ? { apiKeySchemes: options.apiKeySchemes } : {}),
    ...(options.apiKeyHeader ? { apiKeyHeader: options.apiKeyHeader.toLowerCase() } : {}),
  };

  const plane: IdentityPlane = {
    provider,

    audit: auditor,

    authenticate(request: RequestLike, verifyOptions?: VerifyOptions): Promise<AuthResult> {
      const started = performance.now();
      const span = openSpan('authplane.authenticate', () => readTraceparent(request));
      if (!span) return authenticateWith(request, verifyOptions, null, started, undefined);
      return inSpan(span, (spanTrace) => authenticateWith(request, verifyOptions, spanTrace, started, span));
    },

    verify(token: string, verifyOptions?: VerifyOptions): Promise<AuthResult> {
      const started = performance.now();
      const span = openSpan('authplane.verify', () => null);
      if (!span) return verifyWith(token, verifyOptions, null, started, undefined);
      return inSpan(span, (spanTrace) => verifyWith(token, verifyOptions, spanTrace, started, span));
    },

    ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),

    resourceMetadata(metadataOptions?: ResourceMetadataOptions): ProtectedResourceMetadata {
      return buildResourceMetadata(options.resource, options.resourceMetadata ?? {}, metadataOptions);
    },

    async revoke(target: RevocationTarget): Promise<void> {
      const key = revocationKey(target);
      const until =
        target.until instanceof Date && Number.isFinite(target.until.getTime()) ? target.until : undefined;
      try {
        for (const k of key) await store.add(k, until);
      } catch (err) {
        // A full or unreachable store: the caller gets the error, operators the metric.
        recordRevocationFailure(err, options.telemetry);
        throw err;
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled([adapter.close?.(), store.close(), constraints.close()]);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
  };
  return Object.freeze(plane);
}

function exactAudienceSet(options: PlaneOptions): ReadonlySet<string> | null {
  const mode = options.audienceMode ?? 'any';
  if (mode !== 'any' && mode !== 'exact')
    throw new TypeError("createPlane: audienceMode must be 'any' or 'exact'");
  if (mode === 'any') return null;
  const audiences = options.resource?.audiences ?? [];
  if (audiences.length === 0) {
    throw new TypeError(
      "createPlane: audienceMode 'exact' needs the resource's audiences (resource.audiences)",
    );
  }
  return new Set(audiences);
}

// audienceMode 'exact': every `aud` value must name this resource. A credential without `aud` (an API
// key, a legacy token of an issuer that sets none) was already judged by its adapter.
function checkExactAudience(principal: Principal, audiences: ReadonlySet<string>): void {
  const aud = principal.claims?.aud;
  if (aud === undefined) return;
  const values = Array.isArray(aud) ? aud : [aud];
  for (const value of values) {
    if (typeof value !== 'string' || !audiences.has(value)) {
      throw new AuthRejection('audience_mismatch', 'The token is also intended for another audience');
    }
  }
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
