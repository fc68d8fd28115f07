import { ConfigError } from '../core/errors';
import type { FirstPartyPlaneConfig, NangoPlaneConfig } from './config';
import { type FirstPartyIntegrationPlane, INTEGRATION_PROVIDERS } from './providers';
import type { IntegrationPlane } from './types';

export type { FirstPartyIntegrationPlane } from './providers';

/**
 * What `createIntegrationPlane` accepts: first-party (the default) or Nango (flagged).
 *
 * @example
 * ```ts
 * const config: IntegrationPlaneConfig = process.env.NANGO_SECRET_KEY
 *   ? { provider: 'nango', flags: { nango: true }, nango: { secretKey: process.env.NANGO_SECRET_KEY } }
 *   : { store, encryption, catalog };
 * ```
 */
export type IntegrationPlaneConfig = FirstPartyPlaneConfig | NangoPlaneConfig;

/**
 * Builds the IntegrationPlane a configuration describes. The configuration is validated once with zod
 * (the first bad field becomes a `ConfigError` whose `path` names it); `provider: 'nango'` needs
 * `flags.nango = true` and reaches the Nango adapter, and `@nangohq/node`, through a dynamic import
 * (a missing package is a `ConfigError` naming it). Nothing of Nango is loaded otherwise.
 *
 * @throws ConfigError for every configuration problem.
 * @example
 * ```ts
 * const sqlite = await openSqliteStores({ filename: './authplane.db' });
 * const integrations = await createIntegrationPlane({
 *   store: sqlite.connections,
 *   encryption: { currentKeyId: 'k1', keys: { k1: process.env.AUTHPLANE_ENCRYPTION_KEY! } },
 *   catalog: { github: { clientId: process.env.GITHUB_CLIENT_ID, clientSecret: process.env.GITHUB_CLIENT_SECRET } },
 * });
 * const token = await integrations.getToken({ integration: 'github', connectionId: 'acme', orgId: 'org_acme' });
 * ```
 */
export async function createIntegrationPlane(
  config: FirstPartyPlaneConfig,
): Promise<FirstPartyIntegrationPlane>;
export async function createIntegrationPlane(config: NangoPlaneConfig): Promise<IntegrationPlane>;
export async function createIntegrationPlane(config: IntegrationPlaneConfig): Promise<IntegrationPlane>;
export async function createIntegrationPlane(config: IntegrationPlaneConfig): Promise<IntegrationPlane> {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError('', 'the configuration must be an object');
  }
  const provider = (config as { provider?: unknown }).provider ?? 'first-party';
  const entry =
    typeof provider === 'string' && Object.hasOwn(INTEGRATION_PROVIDERS, provider)
      ? INTEGRATION_PROVIDERS[provider]
      : undefined;
  if (!entry) {
    const shown = typeof provider === 'string' ? `"${provider.slice(0, 40)}"` : `a ${typeof provider}`;
    const valid = Object.keys(INTEGRATION_PROVIDERS).join(', ');
    throw new ConfigError('provider', `unknown provider ${shown}; valid providers: ${valid}`);
  }
  if (entry.flag) {
    const flags = (config as { flags?: Record<string, unknown> }).flags;
    if (flags?.[entry.flag] !== true) {
      throw new ConfigError(
        `flags.${entry.flag}`,
        `provider "${String(provider)}" is behind the feature flag "${entry.flag}", which is off; set flags.${entry.flag} = true (or AUTHPLANE_FLAGS=${entry.flag})`,
      );
    }
  }
  return entry.build(config);
}
