// The root entry: core model and the identity plane. It loads no vendor SDK; adapters are reached
// through dynamic imports from createIdentityPlane.

export { ENV_VARIABLES, loadConfig, loadMigrationConfig } from './config/env';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type Auth0Config,
  type Auth0ConfigInput,
  auth0PlaneConfigSchema,
  type ClerkConfig,
  type ClerkConfigInput,
  clerkPlaneConfigSchema,
  FLAG_NAMES,
  type FlagName,
  type Flags,
  flagsSchema,
  HMAC_ALGORITHMS,
  type IdentityConfig,
  type IdentityConfigInput,
  identityConfigSchema,
  type LegacyConfig,
  type LegacyConfigInput,
  type LegacyPlaneConfig,
  legacyPlaneConfigSchema,
  type MigrationPlaneConfig,
  type MigrationPlaneConfigInput,
  migrationPlaneConfigSchema,
  type OidcConfig,
  type OidcConfigInput,
  type OidcPlaneConfig,
  oidcPlaneConfigSchema,
  PROVIDER_NAMES,
  type ProviderName,
  tokenCacheSchema,
} from './config/schema';
export { AuthplaneError, ConfigError } from './core/errors';
export {
  type AuthFailure,
  AuthRejection,
  type AuthResult,
  bearerChallenge,
  createFailure,
  DEFAULT_MESSAGES,
  type FailureInit,
  failureFromError,
  withResourceMetadata,
} from './core/failure';
export { type AuthMethod, freezePrincipal, type Principal, type PrincipalKind } from './core/principal';
export { isReason, REASON_CODES, REASONS, type Reason, type Rfc6750Error } from './core/reasons';
export { type HttpFailure, TRACE_ID_HEADER, toHttp, toResponse } from './core/response';
export { newTraceId, parseTraceparent, traceIdFrom } from './core/trace';
export { type AuthorizeResult, authorize, type Requirements } from './identity/authorize';
export {
  type AccessTarget,
  type AuthorizationDecision,
  type Authorizer,
  type AuthorizerOptions,
  createAuthorizer,
  type HookContext,
  type MembershipAnswer,
  type MembershipHook,
  type OrgRequirements,
  type VisibilityHook,
} from './identity/authorizer';
export { createIdentityPlane } from './identity/create';
export {
  type CredentialSource,
  checkToken,
  DEFAULT_MAX_TOKEN_BYTES,
  type ExtractedCredential,
  type ExtractOptions,
  extractCredential,
} from './identity/extract';
export { createPlane, type PlaneOptions } from './identity/plane';
export {
  type ProtectedResourceMetadata,
  RESOURCE_METADATA_PREFIX,
  type ResourceDescription,
  type ResourceMetadataOptions,
  resourceMetadataPath,
  resourceMetadataUrlFor,
} from './identity/resource-metadata';
export {
  createMemoryRevocationStore,
  type MemoryRevocationStoreOptions,
  type RevocationKey,
  type RevocationLookup,
  type RevocationStore,
} from './identity/revocation';
export type { DpopOptions } from './identity/sender/binding';
export { createDpopNonces, type DpopNonceOptions, type DpopNonces } from './identity/sender/dpop-nonce';
export { DPOP_ALGORITHMS, type DpopAlgorithm, MAX_DPOP_PROOF_BYTES } from './identity/sender/dpop-proof';
export {
  createMemoryDpopReplayStore,
  type DpopReplayStore,
  type MemoryDpopReplayStoreOptions,
} from './identity/sender/dpop-replay';
export { type ClientCertificate, certificateThumbprint, type GetCertificate } from './identity/sender/mtls';
export type { PublicUrl } from './identity/sender/request-target';
export { jwkThumbprint } from './identity/sender/thumbprint';
export type { AuthenticationRequirements } from './identity/step-up';
export type {
  AdapterContext,
  IdentityAdapter,
  IdentityPlane,
  NodeRequestLike,
  RequestLike,
  RevocationTarget,
  VerifyOptions,
} from './identity/types';
export {
  type AuditEvent,
  type AuditEventType,
  type AuditHook,
  type Auditor,
  type AuditorOptions,
  createAuditor,
  type JwksFetchOutcome,
  looksLikeCredential,
  type PrincipalSummary,
  type PrivilegedAction,
  type PrivilegedOutcome,
  REDACTED,
  recordJwksFetch,
  sanitizeDetails,
  type TelemetryOptions,
} from './telemetry/index';
