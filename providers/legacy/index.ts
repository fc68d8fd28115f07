// authplane/legacy: the home-grown SimpleJWT-style JWT (HS256 secret or RS256 public key) and a helper
// for keys of a pre-authplane API key table (drf-api-key read straight from the Django database; pg and
// better-sqlite3 are optional peers loaded on first use). No vendor SDK: node:crypto and src/jwt.

export { createLegacyAdapter, LEGACY_PROVIDER_NAME, type LegacyAdapterOptions } from './adapter';
export { type LegacyApiKeyRow, legacyApiKeyPrincipal } from './api-keys';
export {
  createDrfApiKeyVerifier,
  type DrfApiKeyRow,
  type DrfApiKeyVerifier,
  type DrfApiKeyVerifierOptions,
} from './drf-api-key';
export type { DrfDatabase, DrfSqliteDatabase, DrfSqlPool } from './drf-database';
export { type LegacyClaimMapping, legacyClaimsToPrincipal } from './principal';
