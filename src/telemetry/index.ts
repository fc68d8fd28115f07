// Telemetry: OpenTelemetry metrics and spans (no-ops until the application installs an SDK), the
// audit-event hook, and the redaction helpers every emitted field goes through.
export {
  type AuditEvent,
  type AuditEventType,
  type AuditHook,
  type Auditor,
  type AuditorOptions,
  createAuditor,
  type PrincipalSummary,
  type PrivilegedAction,
  type PrivilegedOutcome,
  summarize,
} from './audit';
export {
  INSTRUMENTATION_SCOPE,
  type JwksFetchOutcome,
  type Outcome,
  recordAuthzDecision,
  recordDecision,
  recordJwksFetch,
  type TelemetryOptions,
} from './metrics';
export { type DetailValue, looksLikeCredential, REDACTED, sanitizeDetails } from './redact';
