// The provider-neutral identity plane. Only createIdentityPlane reaches adapters, through dynamic
// imports, so importing this folder loads no provider and no vendor SDK.
export { type AuthorizeResult, authorize, type Requirements } from './authorize';
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
} from './authorizer';
export { createIdentityPlane } from './create';
export {
  type CredentialSource,
  checkToken,
  DEFAULT_MAX_TOKEN_BYTES,
  type ExtractedCredential,
  type ExtractOptions,
  extractCredential,
} from './extract';
export { createPlane, type PlaneOptions } from './plane';
export {
  type ProtectedResourceMetadata,
  RESOURCE_METADATA_PREFIX,
  type ResourceDescription,
  type ResourceMetadataOptions,
  resourceMetadataPath,
  resourceMetadataUrlFor,
} from './resource-metadata';
export {
  createMemoryRevocationStore,
  type MemoryRevocationStoreOptions,
  type RevocationKey,
  type RevocationLookup,
  type RevocationStore,
} from './revocation';
export type { DpopOptions } from './sender/binding';
export { createDpopNonces, type DpopNonceOptions, type DpopNonces } from './sender/dpop-nonce';
export { DPOP_ALGORITHMS, type DpopAlgorithm, MAX_DPOP_PROOF_BYTES } from './sender/dpop-proof';
export {
  createMemoryDpopReplayStore,
  type DpopReplayStore,
  type MemoryDpopReplayStoreOptions,
} from './sender/dpop-replay';
export { type ClientCertificate, certificateThumbprint, type GetCertificate } from './sender/mtls';
export type { PublicUrl } from './sender/request-target';
export { jwkThumbprint } from './sender/thumbprint';
export type { AuthenticationRequirements } from './step-up';
export type {
  AdapterContext,
  IdentityAdapter,
  IdentityPlane,
  NodeRequestLike,
  RequestLike,
  RevocationTarget,
  VerifyOptions,
} from './types';
