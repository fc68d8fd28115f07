// authplane/legacy: the home-grown SimpleJWT-style JWT (HS256 secret or RS256 public key) and a helper
// for keys of a pre-authplane API key table. No vendor SDK: node:crypto and the strict core in src/jwt.

export { createLegacyAdapter, LEGACY_PROVIDER_NAME } from './adapter';
export { type LegacyApiKeyRow, legacyApiKeyPrincipal } from './api-keys';
export { type LegacyClaimMapping, legacyClaimsToPrincipal } from './principal';
