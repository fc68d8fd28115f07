// The registry of IntegrationPlane providers. Each entry validates its configuration and builds the
// plane; vendor adapters are reached through a dynamic import by name, so the core never imports an
// adapter statically and no adapter imports the core's entry point back (no import cycle).
import type { FlagName } from '../config/schema';
import { ConfigError } from '../core/errors';
import { type IntegrationSettings, type ResolvedIntegration, resolveIntegration } from './catalog';
import { firstPartyConfigSchema, nangoConfigSchema, toConfigError } from './config';
import { createKeyring } from './crypto';
import { planeOver } from './fetch';
import { createFirstPartyAdapter } from './first-party/adapter';
import type { ConnectApi } from './first-party/types';
import { createMemoryRefreshLock } from './locks';
import { builtinApiBases, createOriginPolicy, mergeOrigins } from './origins';
import type { IntegrationPlane } from './types';

/**
 * The first-party plane: the IntegrationPlane plus the connect flow and encryption key rotation.
 *
 * @example
 * ```ts
 * const integrations = await createIntegrationPlane({ store, encryption, catalog: { github: { clientId, clientSecret } } });
 * const { url } = await integrations.connect.start({ integration: 'github', orgId, userId, redirectUri });
 * ```
 */
export interface FirstPartyIntegrationPlane extends IntegrationPlane {
  readonly connect: ConnectApi;
  /** Re-encrypts every connection still sealed with an older key or format; returns how many were rewritten. */
  resealAll(): Promise<number>;
}

/**
 * One provider `createIntegrationPlane` can build.
 *
 * @internal
 * @example
 * ```ts
 * const plane = await INTEGRATION_PROVIDERS.nango?.build(config);
 * ```
 */
export interface IntegrationProviderEntry {
  /** The feature flag that must be on (vendor adapters). */
  readonly flag?: FlagName;
  /** Validates the whole configuration (a `ConfigError` naming the field) and builds the plane. */
  build(input: unknown): Promise<IntegrationPlane>;
}

const firstParty: IntegrationProviderEntry = {
  async build(input: unknown): Promise<FirstPartyIntegrationPlane> {
    const parsed = firstPartyConfigSchema.safeParse(input);
    if (!parsed.success) throw toConfigError(parsed.error, input);
    const c = parsed.data;
    const keyring = createKeyring(c.encryption);
    const catalog = new Map<string, ResolvedIntegration>();
    const apiBases: Record<string, string | null> = {};
    for (const [key, settings] of Object.entries(c.catalog)) {
      const entry = resolveIntegration(key, settings as IntegrationSettings);
      catalog.set(key, entry);
      apiBases[key] = entry.apiBaseUrl;
    }
    const fetchImpl = (c.fetch as typeof fetch | undefined) ?? globalThis.fetch;
    const adapter = createFirstPartyAdapter({
      store: c.store,
      keyring,
      catalog,
      lock: c.lock ?? createMemoryRefreshLock(),
      refreshSkewMs: c.refreshSkewSec * 1000,
      timeoutMs: c.timeoutMs,
      lockWaitMs: c.lockWaitMs ?? c.timeoutMs + 5_000,
      stateTtlMs: c.stateTtlSec * 1000,
      cacheMaxEntries: c.cacheMaxEntries,
      fetch: fetchImpl,
      clock: (c.clock as (() => number) | undefined) ?? Date.now,
    });
    const origins = createOriginPolicy(mergeOrigins(c.allowedOrigins, apiBases));
    return Object.freeze({
      ...planeOver(adapter, { fetch: fetchImpl, fetchTimeoutMs: c.fetchTimeoutMs, origins }),
      connect: adapter.connect,
      resealAll: () => adapter.resealAll(),
    });
  },
};

const nango: IntegrationProviderEntry = {
  flag: 'nango',
  async build(input: unknown): Promise<IntegrationPlane> {
    const secretKey = (input as { nango?: { secretKey?: unknown } }).nango?.secretKey;
    if (typeof secretKey !== 'string' || secretKey === '') {
      throw new ConfigError(
        'nango.secretKey',
        'The Nango adapter needs the secret key of your Nango environment (Environment settings in the Nango dashboard); pass it as nango.secretKey, for example from process.env.NANGO_SECRET_KEY',
      );
    }
    const parsed = nangoConfigSchema.safeParse(input);
    if (!parsed.success) throw toConfigError(parsed.error, input);
    const config = parsed.data;
    // The adapter (and through it @nangohq/node) is loaded only now, only for this provider.
    const { createNangoAdapter } = await import('../../providers/nango/index');
    const adapter = await createNangoAdapter(config);
    const origins = createOriginPolicy(
      mergeOrigins(config.allowedOrigins, builtinApiBases(config.nango.providerConfigKeys)),
    );
    return Object.freeze(
      planeOver(adapter, {
        fetch: (config.fetch as typeof fetch | undefined) ?? globalThis.fetch,
        fetchTimeoutMs: config.fetchTimeoutMs,
        origins,
      }),
    );
  },
};

/**
 * Every provider `createIntegrationPlane` can build, by name.
 *
 * @internal
 * @example
 * ```ts
 * Object.keys(INTEGRATION_PROVIDERS); // ['first-party', 'nango']
 * ```
 */
export const INTEGRATION_PROVIDERS: Readonly<Record<string, IntegrationProviderEntry>> = Object.freeze({
  'first-party': firstParty,
  nango,
});
