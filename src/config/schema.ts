// The configuration schema, one file per concern under ./schemas (shared validators, the OIDC adapter,
// the legacy adapter, the plane fields, the vendor adapters, the migration plane). The rest of the tree
// imports them from here.

export {
  HMAC_ALGORITHMS,
  type LegacyConfig,
  type LegacyConfigInput,
  type LegacyVerifierConfig,
  legacyClaimMappingSchema,
  legacyConfigSchema,
} from './schemas/legacy';
export {
  type IdentityConfig,
  type IdentityConfigInput,
  identityConfigSchema,
  type MigrationPlaneConfig,
  type MigrationPlaneConfigInput,
  migrationConfigSchema,
  migrationPlaneConfigSchema,
  migrationSideSchema,
  type OidcPlaneConfig,
  PROVIDER_NAMES,
  type ProviderName,
} from './schemas/migration';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  claimMappingSchema,
  introspectionSchema,
  jwksCacheSchema,
  type OidcConfig,
  type OidcConfigInput,
  oidcConfigSchema,
  tokenCacheSchema,
} from './schemas/oidc';
export {
  FLAG_NAMES,
  type FlagName,
  type Flags,
  flagsSchema,
  type LegacyPlaneConfig,
  legacyPlaneConfigSchema,
  oidcPlaneConfigSchema,
  planeFieldsShape,
} from './schemas/plane';
export {
  type Auth0Config,
  type Auth0ConfigInput,
  auth0ConfigSchema,
  auth0PlaneConfigSchema,
  type ClerkConfig,
  type ClerkConfigInput,
  clerkConfigSchema,
  clerkPlaneConfigSchema,
} from './schemas/vendors';
