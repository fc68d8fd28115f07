// The root entry: core model and the identity plane. It loads no vendor SDK; adapters are reached
// through dynamic imports from createIdentityPlane.
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
export type {
  AdapterContext,
  IdentityAdapter,
  IdentityPlane,
  NodeRequestLike,
  RequestLike,
  RevocationTarget,
  VerifyOptions,
} from './identity/types';
