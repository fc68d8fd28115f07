// What a provider is to createIdentityPlane: a schema, an optional flag and vendor package, and a lazy
// loader. A leaf module: adapters (the migration plane among them) import these types from here, never
// from create.ts or the registry, so no adapter imports the core back.
import type { z } from 'zod';
import type { ApiKeys } from '../apikeys/keys';
import type { FlagName } from '../config/schema';
import type { TelemetryOptions } from '../telemetry/metrics';
import type { IdentityAdapter, IdentityPlane } from './types';

/**
 * How `createIdentityPlane` reaches one provider: its config schema, the feature flag that gates it
 * (none for first-party adapters), the optional vendor SDK it needs, and a loader that imports the
 * adapter lazily so that the root entry never loads a vendor SDK.
 *
 * @internal Exported for tests and for the registry below; not part of the root API.
 * @example
 * ```ts
 * const auth0 = defineProvider({ schema: auth0PlaneConfigSchema, flag: 'auth0', vendorPackage: 'auth0',
 *   load: async (config) => (await import('../../providers/auth0/index')).createAuth0Adapter(config) });
 * ```
 */
export interface ProviderEntry {
  /** Validates the whole plane configuration of this provider (adapter fields and plane fields). */
  readonly schema: z.ZodType;
  readonly flag?: FlagName;
  readonly vendorPackage?: string;
  /**
   * Receives the validated, frozen configuration without the plane-only fields (`revocation`, `flags`,
   * `audit`, `telemetry`), and what the plane shares with its adapter (the telemetry providers).
   */
  readonly load: (config: unknown, context: ProviderLoadContext) => Promise<IdentityAdapter>;
  /** Turns the plane built around the adapter into a richer one (the migration plane adds `plane.migration`). */
  readonly wrap?: (plane: IdentityPlane, adapter: IdentityAdapter) => IdentityPlane;
  /**
   * How the plane's `apiKeys` join this adapter. Default `routeApiKeys` (in front of it); the migration
   * adapter takes them inside, so keys go through the tenant modes and links as tokens do.
   */
  readonly withApiKeys?: (adapter: IdentityAdapter, keys: ApiKeys) => IdentityAdapter;
}

/**
 * What `createIdentityPlane` hands an adapter loader besides its configuration.
 *
 * @internal
 * @example
 * ```ts
 * load: async (config, { telemetry }) => createOidcAdapter(config, { onJwksFetch: (e) => recordJwksFetch(e, telemetry) })
 * ```
 */
export interface ProviderLoadContext {
  readonly telemetry?: TelemetryOptions;
  /** The plane's validated feature flags (the migration plane gates a flagged side with them). */
  readonly flags?: Readonly<Partial<Record<FlagName, boolean>>>;
  /** The registry the plane is built from (the migration plane builds its two sides with it). */
  readonly registry?: Readonly<Record<string, ProviderEntry>>;
}

/** Fields only the plane uses; adapters never see them. */
export type PlaneOnlyField =
  | 'revocation'
  | 'flags'
  | 'audit'
  | 'telemetry'
  | 'apiKeys'
  | 'apiKeySchemes'
  | 'apiKeyHeader'
  | 'dpop'
  | 'getCertificate'
  | 'resourceMetadata'
  | 'resourceMetadataUrl'
  | 'audienceMode';

/**
 * Types a registry entry against its schema: `load` receives that schema's validated output.
 *
 * @internal
 * @example
 * ```ts
 * const oidc = defineProvider({ schema: oidcPlaneConfigSchema, load: async (c) => makeAdapter(c) });
 * ```
 */
export function defineProvider<S extends z.ZodType>(entry: {
  schema: S;
  flag?: FlagName;
  vendorPackage?: string;
  load: (config: Omit<z.output<S>, PlaneOnlyField>, context: ProviderLoadContext) => Promise<IdentityAdapter>;
  wrap?: (plane: IdentityPlane, adapter: IdentityAdapter) => IdentityPlane;
  withApiKeys?: (adapter: IdentityAdapter, keys: ApiKeys) => IdentityAdapter;
}): ProviderEntry {
  // Sound: createIdentityPlane only calls load with the output of this entry's schema.
  return Object.freeze({ ...entry, load: entry.load as ProviderEntry['load'] });
}
