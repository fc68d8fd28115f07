import type { AuthFailure } from '../core/failure';
import type { AuthMethod, Principal, PrincipalKind } from '../core/principal';
import { isReason, type Reason } from '../core/reasons';
import { newTraceId } from '../core/trace';
import { type DetailValue, looksLikeCredential, REDACTED, sanitizeDetails } from './redact';

/**
 * The kinds of audit events: a credential accepted or refused, an authorization refused, and a
 * privileged action the application records.
 *
 * @example
 * ```ts
 * const type: AuditEventType = 'authz.denied';
 * ```
 */
export type AuditEventType = 'auth.succeeded' | 'auth.failed' | 'authz.denied' | 'privileged';

/**
 * Who acted, without claims or credentials.
 *
 * @example
 * ```ts
 * const who: PrincipalSummary = { subject: 'user_1', kind: 'user', provider: 'oidc', orgId: 'org_1', authMethod: 'jwt' };
 * ```
 */
export interface PrincipalSummary {
  readonly subject: string;
  readonly kind: PrincipalKind;
  readonly provider: string;
  readonly orgId: string | null;
  readonly authMethod: AuthMethod;
}

/**
 * One audit event. It never carries a credential, a claim set or a free-form message from the request.
 *
 * @example
 * ```ts
 * const audit = (event: AuditEvent) => auditLog.write(JSON.stringify(event));
 * ```
 */
export interface AuditEvent {
  readonly type: AuditEventType;
  /** ISO 8601 time of the event. */
  readonly time: string;
  /** The decision's trace id (also in the `x-trace-id` response header). */
  readonly traceId: string;
  /** The adapter that decided, or null (no adapter reached). */
  readonly provider: string | null;
  readonly principal: PrincipalSummary | null;
  /** The org the request acted on (or the principal's org). */
  readonly orgId: string | null;
  /** The refusal's reason code; null for successes. */
  readonly reason: Reason | null;
  /** HTTP status of a refusal. */
  readonly status?: number;
  /** For `privileged`: what was done, e.g. `execution.start`, `apikey.create`. */
  readonly action?: string;
  /** For `privileged`: what it was done to, e.g. an execution or key id. */
  readonly target?: string;
  /** For `privileged`: how it ended. */
  readonly outcome?: PrivilegedOutcome;
  /** For `privileged`: flat, sanitized extra fields (see `sanitizeDetails`). */
  readonly details?: Readonly<Record<string, DetailValue>>;
}

/**
 * Receives audit events. Called synchronously; errors and rejected promises are swallowed and never
 * change a decision, so a broken audit sink cannot open or close the door.
 *
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, audit: (e) => sink.push(e) });
 * ```
 */
export type AuditHook = (event: AuditEvent) => void | Promise<void>;

/**
 * How a privileged action ended.
 *
 * @example
 * ```ts
 * const outcome: PrivilegedOutcome = 'attempted';
 * ```
 */
export type PrivilegedOutcome = 'attempted' | 'succeeded' | 'failed';

/**
 * A privileged action the application records: execution start/stop, approvals, key creation, role
 * changes, … `action` is a dotted name (letters, digits, `._:-`, at most 128 characters).
 *
 * @example
 * ```ts
 * plane.audit.privileged({ action: 'execution.start', principal, orgId: 'org_1', target: 'ex_42', traceId });
 * ```
 */
export interface PrivilegedAction {
  readonly action: string;
  readonly principal: Principal | PrincipalSummary | null;
  /** The org acted on; the principal's org when omitted. */
  readonly orgId?: string | null;
  readonly target?: string;
  /** Default `succeeded`. */
  readonly outcome?: PrivilegedOutcome;
  /** A reason code when the action was refused. */
  readonly reason?: Reason;
  /** The request's trace id (`result.traceId`); a new one when omitted. */
  readonly traceId?: string;
  /** Flat extra fields; credential-looking values are redacted, nested values dropped. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Emits audit events to a hook. Every method is cheap and a no-op when there is no hook.
 *
 * @example
 * ```ts
 * const auditor = createAuditor((e) => sink.push(e));
 * auditor.privileged({ action: 'apikey.create', principal, target: record.id });
 * ```
 */
export interface Auditor {
  /** Whether a hook is installed. */
  readonly enabled: boolean;
  /** `auth.succeeded`. */
  succeeded(principal: Principal, traceId: string): void;
  /** `auth.failed`. */
  failed(failure: AuthFailure): void;
  /** `authz.denied`: `orgId` is the org the request acted on. */
  denied(principal: Principal, failure: AuthFailure, orgId?: string | null): void;
  /** `privileged`: returns the emitted event (also when no hook is installed). */
  privileged(action: PrivilegedAction): AuditEvent;
}

/**
 * Options of {@link createAuditor}.
 *
 * @example
 * ```ts
 * createAuditor(hook, { clock: () => fixedNow });
 * ```
 */
export interface AuditorOptions {
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

const ACTION = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds an {@link Auditor} over a hook. The plane builds one from its `audit` option and exposes it as
 * `plane.audit`; use this directly for code that has no plane.
 *
 * @example
 * ```ts
 * const auditor = createAuditor((event) => logger.info(event, 'audit'));
 * auditor.privileged({ action: 'execution.stop', principal, orgId: 'org_1', target: 'ex_42' });
 * ```
 */
export function createAuditor(hook?: AuditHook, options: AuditorOptions = {}): Auditor {
  if (hook !== undefined && typeof hook !== 'function')
    throw new TypeError('createAuditor: hook must be a function');
  const clock = options.clock ?? Date.now;
  const emit = (event: AuditEvent): void => {
    if (!hook) return;
    try {
      const out = hook(event);
      if (out && typeof (out as Promise<void>).then === 'function')
        (out as Promise<void>).then(undefined, () => {});
    } catch {
      // Swallowed by contract: auditing never changes a decision.
    }
  };
  const time = () => new Date(clock()).toISOString();

  return Object.freeze({
    enabled: hook !== undefined,
    succeeded(principal: Principal, traceId: string): void {
      if (!hook) return;
      emit(
        Object.freeze({
          type: 'auth.succeeded' as const,
          time: time(),
          traceId,
          provider: principal.provider,
          principal: summarize(principal),
          orgId: principal.orgId,
          reason: null,
        }),
      );
    },
    failed(failure: AuthFailure): void {
      if (!hook) return;
      emit(
        Object.freeze({
          type: 'auth.failed' as const,
          time: time(),
          traceId: failure.traceId,
          provider: failure.provider,
          principal: null,
          orgId: null,
          reason: failure.reason,
          status: failure.status,
        }),
      );
    },
    denied(principal: Principal, failure: AuthFailure, orgId?: string | null): void {
      if (!hook) return;
      emit(
        Object.freeze({
          type: 'authz.denied' as const,
          time: time(),
          traceId: failure.traceId,
          provider: principal.provider,
          principal: summarize(principal),
          orgId: orgId ?? principal.orgId,
          reason: failure.reason,
          status: failure.status,
        }),
      );
    },
    privileged(action: PrivilegedAction): AuditEvent {
      if (
        !action ||
        typeof action !== 'object' ||
        typeof action.action !== 'string' ||
        !ACTION.test(action.action)
      ) {
        throw new TypeError('audit.privileged: action must be a dotted name such as "execution.start"');
      }
      const principal = action.principal ? summarize(action.principal) : null;
      const outcome = action.outcome ?? 'succeeded';
      if (outcome !== 'attempted' && outcome !== 'succeeded' && outcome !== 'failed') {
        throw new TypeError('audit.privileged: outcome must be attempted, succeeded or failed');
      }
      const details = sanitizeDetails(action.details);
      const event: AuditEvent = Object.freeze({
        type: 'privileged' as const,
        time: time(),
        traceId: typeof action.traceId === 'string' && action.traceId ? action.traceId : newTraceId(),
        provider: principal?.provider ?? null,
        principal,
        orgId: action.orgId !== undefined ? safeString(action.orgId) : (principal?.orgId ?? null),
        reason: isReason(action.reason) ? action.reason : null,
        action: action.action,
        outcome,
        ...(typeof action.target === 'string' ? { target: safeString(action.target) ?? '' } : {}),
        ...(details ? { details } : {}),
      });
      emit(event);
      return event;
    },
  });
}

/**
 * The claim-free summary of a principal used in audit events.
 *
 * @example
 * ```ts
 * summarize(result.principal); // { subject, kind, provider, orgId, authMethod }
 * ```
 */
export function summarize(principal: Principal | PrincipalSummary): PrincipalSummary {
  return Object.freeze({
    subject: principal.subject,
    kind: principal.kind,
    provider: principal.provider,
    orgId: principal.orgId,
    authMethod: principal.authMethod,
  });
}

function safeString(value: string | null): string | null {
  if (typeof value !== 'string') return null;
  return looksLikeCredential(value) ? REDACTED : value.slice(0, 256);
}
