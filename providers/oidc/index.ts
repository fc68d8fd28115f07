// authplane/oidc: the first-party OIDC adapter (resource server) and RFC 7009 revocation.
export {
  createOidcAdapter,
  OIDC_PROVIDER_NAME,
  type OidcAdapter,
  type OidcAdapterHooks,
} from './adapter';
export { toAuthRejection } from './errors';
export { type ClaimMapping, claimsToPrincipal } from './principal';
export { type RevokeTokenOptions, revokeToken } from './revoke';
export { assertSecureUrl, isLoopbackHost } from './urls';
