// The root entry: core model and the identity plane. It loads no vendor SDK; adapters are reached
// through dynamic imports from createIdentityPlane.

export { ENV_VARIABLES, loadConfig } from './config/env';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  FLAG_NAMES,
  type FlagName,
  type Flags,
  flagsSchema,
  type IdentityConfig,
  type IdentityConfigInput,
  identityConfigSchema,
  type OidcConfig,
  type OidcConfigInput,
  type OidcPlaneConfig,
  oidcPlaneConfigSchema,
  PROVIDER_NAMES,
  type ProviderName,
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
} from './core/failure';
export { type AuthMethod, freezePrincipal, type Principal, type PrincipalKind } from './core/principal';
export { isReason, REASON_CODES, REASONS, type Reason, type Rfc6750Error } from './core/reasons';
export { type HttpFailure, TRACE_ID_HEADER, toHttp, toResponse } from './core/response';
export { newTraceId, parseTraceparent, traceIdFrom } from './core/trace';
export { type AuthorizeResult, authorize, type Requirements } from './identity/authorize';
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
  createMemoryRevocationStore,
  type MemoryRevocationStoreOptions,
  type RevocationKey,
  type RevocationLookup,
  type RevocationStore,
} from './identity/revocation';
export type {
  AdapterContext,
  IdentityAdapter,
  IdentityPlane,
  NodeRequestLike,
  RequestLike,
  RevocationTarget,
  VerifyOptions,
} from './identity/types';
