// The migration plane's configuration (two sides, modes, links, shadow, control store) and the union of
// every plane configuration createIdentityPlane accepts.
import { z } from 'zod';
import type { Principal } from '../../core/principal';
import type { MigrationControlStore } from '../../migration/control/types';
import type { FirstSightHook, OrgFirstSightHook } from '../../migration/links';
import type { ModeFlagClient } from '../../migration/modes';
import type { ShadowOptions } from '../../migration/shadow';
import type { IdentityLinkStore, InvalidationChannel } from '../../stores/contracts';

import { legacyConfigSchema } from './legacy';
import { oidcConfigSchema } from './oidc';
import { legacyPlaneConfigSchema, mustBeFunction, oidcPlaneConfigSchema, planeFieldsShape } from './plane';
import { clockFn } from './primitives';
import {
  auth0ConfigSchema,
  auth0PlaneConfigSchema,
  clerkConfigSchema,
  clerkPlaneConfigSchema,
} from './vendors';

// ---------------------------------------------------------------------------------------------
// The migration plane (`provider: 'migration'`): two adapters side by side, modes per tenant. Its code
// lives in src/migration and is reached through a dynamic import.

export const migrationModeSchema = z.enum(['legacy', 'shadow', 'dual', 'target']);
export const fn = <T>() => z.custom<T>((v) => typeof v === 'function', mustBeFunction);

/**
 * One side of a migration: the adapter configuration of any provider but `migration` (without plane
 * fields such as `revocation`, `audit` or `flags`, which belong to the migration plane).
 *
 * @example
 * ```ts
 * migrationSideSchema.parse({ provider: 'legacy', secret });
 * ```
 */
export const migrationSideSchema = z.discriminatedUnion('provider', [
  legacyConfigSchema,
  oidcConfigSchema,
  auth0ConfigSchema,
  clerkConfigSchema,
]);

/**
 * Configuration of the migration plane. `legacy` and `target` are full adapter configurations; `mode` is
 * the default mode, `tenants` the static per-org overrides and percentage rollout, `modeFlag` an
 * OpenFeature client that overrides them at runtime; see `authplane/migration` for every field.
 *
 * @example
 * ```ts
 * migrationConfigSchema.parse({ provider: 'migration', legacy: { provider: 'legacy', secret },
 *   target: { provider: 'oidc', issuer, audience }, mode: 'legacy', tenants: { orgs: { org_acme: 'dual' } } });
 * ```
 */
export const migrationConfigSchema = z
  .object({
    provider: z.literal('migration'),
    legacy: migrationSideSchema,
    target: migrationSideSchema,
    /** Default mode of every tenant without an override. */
    mode: migrationModeSchema.default('legacy'),
    tenants: z
      .object({
        orgs: z.record(z.string().min(1), migrationModeSchema).optional(),
        rollout: z
          .object({
            mode: migrationModeSchema,
            percent: z.number().finite().min(0).max(100),
            seed: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    modeFlag: z
      .object({
        client: z.custom<ModeFlagClient>(
          (v) => !!v && typeof (v as Record<string, unknown>).getStringDetails === 'function',
          { message: 'must be an OpenFeature client (getStringDetails)' },
        ),
        key: z.string().min(1).optional(),
        errorMode: z.union([migrationModeSchema, z.literal('static')]).optional(),
        timeoutMs: z.number().int().positive().max(10_000).optional(),
        cacheUntilChanged: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /** Modes from a shared control store (or its spec: `sqlite:…`, `postgres://…`, `redis://…`). */
    control: z
      .object({
        store: z.union([
          z.string().min(1),
          z.custom<MigrationControlStore>(
            (v) =>
              !!v &&
              typeof (v as Record<string, unknown>).read === 'function' &&
              typeof (v as Record<string, unknown>).version === 'function',
            { message: 'must be a MigrationControlStore or a store spec' },
          ),
        ]),
        pollSec: z.number().finite().positive().max(86_400).optional(),
        channel: z
          .custom<InvalidationChannel>(
            (v) => !!v && typeof (v as Record<string, unknown>).subscribe === 'function',
            {
              message: 'must be an InvalidationChannel',
            },
          )
          .optional(),
        record: z.boolean().optional(),
        flushSec: z.number().finite().positive().max(86_400).optional(),
        bucketSec: z.number().finite().positive().max(86_400).optional(),
        readiness: z
          .object({
            windowSec: z.number().finite().positive().optional(),
            minComparisons: z.number().int().nonnegative().optional(),
            targetWindowSec: z.number().finite().positive().optional(),
            minTargetRequests: z.number().int().nonnegative().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    links: z
      .object({
        store: z
          .custom<IdentityLinkStore>(
            (v) =>
              !!v &&
              typeof (v as Record<string, unknown>).resolve === 'function' &&
              typeof (v as Record<string, unknown>).resolveOrg === 'function' &&
              typeof (v as Record<string, unknown>).link === 'function',
            { message: 'must be an IdentityLinkStore (resolve, resolveOrg, link)' },
          )
          .optional(),
        onFirstSight: fn<FirstSightHook>().optional(),
        onFirstSightOrg: fn<OrgFirstSightHook>().optional(),
        require: z.boolean().optional(),
        hookTimeoutMs: z.number().int().positive().max(60_000).optional(),
        cacheTtlSec: z.number().finite().nonnegative().optional(),
        cacheSize: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** The tenant of a credential without an org claim (its mode is then checked at verification). */
    tenantOf: fn<(principal: Principal) => string | null | Promise<string | null>>().optional(),
    /** The side authplane-issued API keys (plane option `apiKeys`) belong to. Default `target`. */
    apiKeysSide: z.enum(['legacy', 'target']).optional(),
    routing: z
      .object({
        legacyIssuers: z.array(z.string().min(1)).optional(),
        targetIssuers: z.array(z.string().min(1)).optional(),
        legacyPrefixes: z.array(z.string().min(1)).optional(),
        targetPrefixes: z.array(z.string().min(1)).optional(),
        legacyMarkerClaim: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)])
          .nullable()
          .optional(),
        opaque: z.enum(['legacy', 'target', 'reject']).optional(),
      })
      .strict()
      .optional(),
    shadow: z
      .object({
        header: z.string().min(1).nullable().optional(),
        exchange: fn<NonNullable<ShadowOptions['exchange']>>().optional(),
        sampleRate: z.number().finite().min(0).max(1).optional(),
        queueSize: z.number().int().positive().optional(),
        concurrency: z.number().int().positive().max(64).optional(),
        ignore: z.array(z.enum(['decision', 'subject', 'org', 'scopes', 'roles'])).optional(),
        onEvent: fn<NonNullable<ShadowOptions['onEvent']>>().optional(),
        samples: z.number().int().nonnegative().max(1000).optional(),
        random: fn<() => number>().optional(),
      })
      .strict()
      .optional(),
    maxTokenBytes: z.number().int().positive().default(8192),
    realm: z.string().optional(),
    clock: clockFn.optional(),
  })
  .strict();

/**
 * `createIdentityPlane` configuration for `provider: 'migration'`.
 *
 * @example
 * ```ts
 * migrationPlaneConfigSchema.parse({ provider: 'migration', legacy, target, audit: (e) => sink(e) });
 * ```
 */
export const migrationPlaneConfigSchema = migrationConfigSchema.extend(planeFieldsShape);

/**
 * The validated migration plane configuration.
 *
 * @example
 * ```ts
 * const config: MigrationPlaneConfig = migrationPlaneConfigSchema.parse(input);
 * ```
 */
export type MigrationPlaneConfig = z.output<typeof migrationPlaneConfigSchema>;
/** What a caller writes for the migration plane. */
export type MigrationPlaneConfigInput = z.input<typeof migrationPlaneConfigSchema>;

/**
 * Every provider `createIdentityPlane` knows, in the order error messages list them.
 *
 * @example
 * ```ts
 * PROVIDER_NAMES.includes('oidc'); // true
 * ```
 */
export const PROVIDER_NAMES = ['oidc', 'legacy', 'auth0', 'clerk'] as const;

/**
 * A provider name `createIdentityPlane` accepts.
 *
 * @example
 * ```ts
 * const provider: ProviderName = 'oidc';
 * ```
 */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * The whole `createIdentityPlane` configuration, discriminated on `provider`. New providers
 * (`auth0`, `clerk`, `legacy`, `migration`) join as further members of this union.
 *
 * @example
 * ```ts
 * identityConfigSchema.safeParse({ provider: 'oidc', issuer: 'https://id.example', audience: 'api' }).success; // true
 * ```
 */
export const identityConfigSchema = z.discriminatedUnion('provider', [
  oidcPlaneConfigSchema,
  legacyPlaneConfigSchema,
  auth0PlaneConfigSchema,
  clerkPlaneConfigSchema,
]);

/**
 * The validated plane configuration (defaults applied).
 *
 * @example
 * ```ts
 * const config: IdentityConfig = identityConfigSchema.parse(input);
 * ```
 */
export type IdentityConfig = z.output<typeof identityConfigSchema>;
/**
 * What a caller passes to `createIdentityPlane`.
 *
 * @example
 * ```ts
 * const config: IdentityConfigInput = { provider: 'oidc', issuer: 'https://id.example', audience: 'api' };
 * ```
 */
export type IdentityConfigInput = z.input<typeof identityConfigSchema>;
/**
 * The validated plane configuration of the OIDC provider.
 *
 * @example
 * ```ts
 * const config: OidcPlaneConfig = oidcPlaneConfigSchema.parse(input);
 * ```
 */
export type OidcPlaneConfig = z.output<typeof oidcPlaneConfigSchema>;
