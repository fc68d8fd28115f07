import { resolveLegacyPreset } from '../config/legacy-keys';
import type { Flags, LegacyConfig, MigrationPlaneConfig } from '../config/schema';
import { ConfigError } from '../core/errors';
import type { ProviderEntry, ProviderLoadContext } from '../identity/provider-entry';
import type { IdentityAdapter } from '../identity/types';
import type { TelemetryOptions } from '../telemetry/metrics';
import { type OpenedControlStore, openControlStore } from './control/open';
import type { MigrationControlStore } from './control/types';
import { createMigrationAdapter, type MigrationAdapter } from './plane';
import type { RoutingOptions } from './routing';

/** The migration config as `load` receives it: the plane-only fields are gone. */
type MigrationAdapterConfig = Omit<
  MigrationPlaneConfig,
  | 'revocation'
  | 'flags'
  | 'audit'
  | 'telemetry'
  | 'apiKeys'
  | 'apiKeySchemes'
  | 'apiKeyHeader'
  | 'resourceMetadata'
  | 'resourceMetadataUrl'
  | 'audienceMode'
>;

/**
 * What the registry hands the migration loader besides its config: the registry (to build each side with
 * its own loader), the plane's feature flags (a flagged target such as `auth0` needs its flag) and the
 * telemetry providers.
 *
 * @internal
 * @example
 * ```ts
 * await loadMigrationAdapter(config, { registry: PROVIDERS, flags: { auth0: true } });
 * ```
 */
export interface MigrationLoadContext extends ProviderLoadContext {
  readonly registry?: Readonly<Record<string, ProviderEntry>>;
  readonly flags?: Flags;
  readonly telemetry?: TelemetryOptions;
}

/**
 * Builds the migration adapter from a validated `provider: 'migration'` config: each side through its
 * registry loader (flag-gated like a top-level provider), routing defaults derived from the sides
 * (their `issuer`, an Auth0 `domain`), then `createMigrationAdapter`.
 *
 * @internal Called by `createIdentityPlane`.
 * @throws ConfigError naming the field (`target.issuer`, `flags.auth0`, `routing.targetIssuers`).
 * @example
 * ```ts
 * const adapter = await loadMigrationAdapter(validated, { registry: PROVIDERS, flags: {} });
 * ```
 */
export async function loadMigrationAdapter(
  config: MigrationAdapterConfig,
  context: MigrationLoadContext,
): Promise<MigrationAdapter> {
  const registry = context.registry;
  if (!registry) throw new ConfigError('provider', 'the migration plane needs the provider registry');
  const loadSide = async (which: 'legacy' | 'target'): Promise<IdentityAdapter> => {
    const side = config[which] as { provider: string };
    const entry = registry[side.provider];
    if (!entry || side.provider === 'migration') {
      throw new ConfigError(`${which}.provider`, `cannot be "${String(side.provider).slice(0, 40)}"`);
    }
    if (entry.flag && context.flags?.[entry.flag] !== true) {
      throw new ConfigError(
        `flags.${entry.flag}`,
        `the ${which} provider "${side.provider}" is behind the feature flag "${entry.flag}", which is off; set flags.${entry.flag} = true`,
      );
    }
    try {
      return await entry.load(side, { telemetry: context.telemetry });
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new ConfigError(
          err.path ? `${which}.${err.path}` : which,
          err.message.replace(/^[^:]*: /, ''),
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  };
  const legacy = await loadSide('legacy');
  let target: IdentityAdapter;
  try {
    target = await loadSide('target');
  } catch (err) {
    await legacy.close?.().catch(() => {});
    throw err;
  }
  if (legacy.name === target.name) {
    await Promise.allSettled([legacy.close?.(), target.close?.()]);
    throw new ConfigError(
      'target.provider',
      'must differ from the legacy provider (links are keyed by provider)',
    );
  }

  const routing: RoutingOptions = {
    ...config.routing,
    legacyIssuers: config.routing?.legacyIssuers ?? issuersOf(config.legacy),
    targetIssuers: config.routing?.targetIssuers ?? issuersOf(config.target),
    // A legacy side without `iss` is recognised by its token-type claim (SimpleJWT's `token_type`,
    // allauth's `token_use`: one per legacy verifier).
    legacyMarkerClaim:
      config.routing?.legacyMarkerClaim !== undefined
        ? config.routing.legacyMarkerClaim
        : config.legacy.provider === 'legacy'
          ? legacyMarkerClaims(config.legacy)
          : null,
  };
  if (
    (routing.targetIssuers ?? []).length === 0 &&
    (routing.targetPrefixes ?? []).length === 0 &&
    routing.opaque !== 'target'
  ) {
    await Promise.allSettled([legacy.close?.(), target.close?.()]);
    throw new ConfigError('routing.targetIssuers', 'cannot be derived from the target configuration; set it');
  }

  // A store given by spec is opened here and closed with the adapter.
  let opened: OpenedControlStore | null = null;
  if (typeof config.control?.store === 'string') {
    try {
      opened = await openControlStore(config.control.store, { listen: true });
    } catch (err) {
      await Promise.allSettled([legacy.close?.(), target.close?.()]);
      throw err instanceof ConfigError
        ? err
        : new ConfigError('control.store', 'cannot be opened', { cause: err });
    }
  }
  const control = config.control
    ? {
        ...config.control,
        store: opened ? opened.store : (config.control.store as MigrationControlStore),
        channel: config.control.channel ?? opened?.channel,
      }
    : undefined;
  const adapter = createMigrationAdapter(
    { legacy, target },
    {
      mode: config.mode,
      tenants: config.tenants,
      modeFlag: config.modeFlag,
      control,
      links: config.links,
      routing,
      shadow: config.shadow,
      tenantOf: config.tenantOf,
      apiKeysSide: config.apiKeysSide,
      meterProvider: context.telemetry?.meterProvider,
      clock: config.clock,
    },
  );
  if (!opened) return adapter;
  const owned = opened;
  return Object.freeze({
    ...adapter,
    async close(): Promise<void> {
      try {
        await adapter.close();
      } finally {
        await owned.close();
      }
    },
  });
}

// The token-type claims of a legacy side's verifiers (preset-resolved), for routing tokens without `iss`.
function legacyMarkerClaims(side: LegacyConfig): string | string[] {
  const claims = [...new Set((side.verifiers ?? [side]).map((v) => resolveLegacyPreset(v).claims.tokenType))];
  return claims.length === 1 ? (claims[0] as string) : claims;
}

// The `iss` values a side's tokens carry, from its own configuration.
function issuersOf(side: { provider: string } & Record<string, unknown>): string[] {
  if (typeof side.issuer === 'string') return [side.issuer];
  if (side.provider === 'legacy' && Array.isArray(side.verifiers)) {
    return (side.verifiers as Array<{ issuer?: unknown }>)
      .map((v) => v.issuer)
      .filter((iss): iss is string => typeof iss === 'string');
  }
  if (side.provider === 'auth0' && typeof side.domain === 'string') {
    const domains = [
      side.domain,
      ...(Array.isArray(side.customDomains) ? (side.customDomains as string[]) : []),
    ];
    return domains.map((d) => `https://${d}/`);
  }
  return [];
}
