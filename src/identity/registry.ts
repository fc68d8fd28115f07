// The built-in providers. Each adapter is reached through a dynamic import, so the root entry loads
// none of them (nor any vendor SDK) until a configuration selects it.

import type { ApiKeys } from '../apikeys/keys';
import {
  auth0PlaneConfigSchema,
  clerkPlaneConfigSchema,
  legacyPlaneConfigSchema,
  migrationPlaneConfigSchema,
  type OidcConfig,
  oidcPlaneConfigSchema,
} from '../config/schema';
import { recordJwksFetch } from '../telemetry/metrics';
import { defineProvider, type ProviderEntry } from './provider-entry';
import type { IdentityAdapter, IdentityPlane } from './types';

/**
 * Every provider `createIdentityPlane` can build. Add `auth0`, `clerk`, `legacy`, `migration` here,
 * each with its own schema (also added to `identityConfigSchema`) and its own dynamic import.
 *
 * @internal
 * @example
 * ```ts
 * Object.keys(PROVIDERS); // ['oidc']
 * ```
 */
export const PROVIDERS: Readonly<Record<string, ProviderEntry>> = Object.freeze({
  oidc: defineProvider({
    schema: oidcPlaneConfigSchema,
    load: async (config: OidcConfig, { telemetry }) => {
      const { createOidcAdapter } = await import('../../providers/oidc/index');
      // Every JWKS fetch becomes an `authplane.jwks.fetches` data point.
      return createOidcAdapter(config, { onJwksFetch: (event) => recordJwksFetch(event, telemetry) });
    },
  }),
  legacy: defineProvider({
    schema: legacyPlaneConfigSchema,
    load: async (config, { telemetry }) => {
      const { createLegacyAdapter } = await import('../../providers/legacy/index');
      return createLegacyAdapter(config, { meterProvider: telemetry?.meterProvider });
    },
  }),
  // Vendor adapters: behind their flag, and their SDK (an optional peer) is loaded only here.
  auth0: defineProvider({
    schema: auth0PlaneConfigSchema,
    flag: 'auth0',
    vendorPackage: 'auth0',
    load: async (config, { telemetry }) => {
      const { createAuth0Adapter } = await import('../../providers/auth0/index');
      return createAuth0Adapter(config, { onJwksFetch: (event) => recordJwksFetch(event, telemetry) });
    },
  }),
  clerk: defineProvider({
    schema: clerkPlaneConfigSchema,
    flag: 'clerk',
    vendorPackage: '@clerk/backend',
    load: async (config, { telemetry }) => {
      const { createClerkAdapter } = await import('../../providers/clerk/index');
      return createClerkAdapter(config, { onJwksFetch: (event) => recordJwksFetch(event, telemetry) });
    },
  }),
  // Two providers side by side (src/migration): each side is built by its own entry of this registry.
  migration: defineProvider({
    schema: migrationPlaneConfigSchema,
    load: async (config, context) =>
      (await import('../migration/config')).loadMigrationAdapter(config, context),
    wrap: (plane, adapter) =>
      (adapter as unknown as { decorate(p: IdentityPlane): IdentityPlane }).decorate(plane),
    withApiKeys: (adapter, keys) =>
      (adapter as unknown as { withApiKeys(k: ApiKeys): IdentityAdapter }).withApiKeys(keys),
  }),
});
