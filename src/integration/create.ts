import { AuthplaneError, ConfigError } from '../core/errors';
import { type IntegrationSettings, type ResolvedIntegration, resolveIntegration } from './catalog';
import {
  type FirstPartyPlaneConfig,
  firstPartyConfigSchema,
  type NangoConfig,
  type NangoPlaneConfig,
  nangoConfigSchema,
  toConfigError,
} from './config';
import { createKeyring } from './crypto';
import { type ConnectApi, createFirstPartyAdapter, type FirstPartyAdapter } from './first-party/adapter';
import { createMemoryRefreshLock } from './locks';
import type {
  ConnectionFilter,
  ConnectionRef,
  GetTokenOptions,
  IntegrationAdapter,
  IntegrationPlane,
  IntegrationToken,
} from './types';

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
  /** Re-encrypts every connection still sealed with an older key; returns how many were rewritten. */
  resealAll(): Promise<number>;
}

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
 * const token = await integrations.getToken({ integration: 'github', connectionId: 'acme' });
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
  if (provider === 'first-party') return createFirstParty(config as FirstPartyPlaneConfig);
  if (provider === 'nango') {
    const flags = (config as { flags?: { nango?: unknown } }).flags;
    if (flags?.nango !== true) {
      throw new ConfigError(
        'flags.nango',
        'provider "nango" is behind the feature flag "nango", which is off; set flags.nango = true (or AUTHPLANE_FLAGS=nango)',
      );
    }
    return createNango(config as NangoPlaneConfig);
  }
  const shown = typeof provider === 'string' ? `"${provider.slice(0, 40)}"` : `a ${typeof provider}`;
  throw new ConfigError('provider', `unknown provider ${shown}; valid providers: first-party, nango`);
}

async function createFirstParty(input: FirstPartyPlaneConfig): Promise<FirstPartyIntegrationPlane> {
  const parsed = firstPartyConfigSchema.safeParse(input);
  if (!parsed.success) throw toConfigError(parsed.error, input);
  const c = parsed.data;
  const keyring = createKeyring(c.encryption);
  const catalog = new Map<string, ResolvedIntegration>();
  for (const [key, settings] of Object.entries(c.catalog)) {
    catalog.set(key, resolveIntegration(key, settings as IntegrationSettings));
  }
  const fetchImpl = (c.fetch as typeof fetch | undefined) ?? globalThis.fetch;
  const adapter: FirstPartyAdapter = createFirstPartyAdapter({
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
  return Object.freeze({
    ...planeOver(adapter, fetchImpl, c.fetchTimeoutMs),
    connect: adapter.connect,
    resealAll: () => adapter.resealAll(),
  });
}

async function createNango(input: NangoPlaneConfig): Promise<IntegrationPlane> {
  const parsed = nangoConfigSchema.safeParse(input);
  if (!parsed.success) throw toConfigError(parsed.error, input);
  const config: NangoConfig = parsed.data;
  // The adapter (and through it @nangohq/node) is loaded only now, only for this provider.
  const { createNangoAdapter } = await import('../../providers/nango/index');
  const adapter = await createNangoAdapter(config);
  return Object.freeze(
    planeOver(adapter, (config.fetch as typeof fetch | undefined) ?? globalThis.fetch, config.fetchTimeoutMs),
  );
}

const canReplay = (body: RequestInit['body']): boolean =>
  body === undefined || body === null || !(body instanceof ReadableStream);

/**
 * The plane over one adapter: its operations plus `fetch` with the one-retry-on-401 rule.
 *
 * @internal
 * @example
 * ```ts
 * const plane = planeOver(adapter, globalThis.fetch, 30_000);
 * ```
 */
export function planeOver(
  adapter: IntegrationAdapter,
  fetchImpl: typeof fetch,
  fetchTimeoutMs: number,
): IntegrationPlane {
  const withSignal = (init: RequestInit | undefined): RequestInit => {
    const timeout = AbortSignal.timeout(fetchTimeoutMs);
    return { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout };
  };
  const send = (url: string | URL, init: RequestInit | undefined, token: IntegrationToken) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `${token.tokenType} ${token.accessToken}`);
    return fetchImpl(url, withSignal({ ...init, headers }));
  };
  return {
    provider: adapter.provider,
    getToken: (ref: ConnectionRef, options?: GetTokenOptions) => adapter.getToken(ref, options),
    getConnection: (ref: ConnectionRef) => adapter.getConnection(ref),
    listConnections: (filter?: ConnectionFilter) => adapter.listConnections(filter),
    deleteConnection: (ref: ConnectionRef) => adapter.deleteConnection(ref),
    async fetch(ref: ConnectionRef, url: string | URL, init?: RequestInit): Promise<Response> {
      if (adapter.proxy) {
        const proxy = adapter.proxy.bind(adapter);
        const first = await proxy(ref, String(url), withSignal(init));
        if (first.status !== 401 || !canReplay(init?.body)) return first;
        await first.body?.cancel();
        await adapter.getToken(ref, { forceRefresh: true });
        return proxy(ref, String(url), withSignal(init));
      }
      const first = await send(url, init, await adapter.getToken(ref));
      if (first.status !== 401 || !canReplay(init?.body)) return first;
      await first.body?.cancel();
      // The API refused a token we believed valid (revoked early, rotated elsewhere): refresh once, retry once.
      return send(url, init, await adapter.getToken(ref, { forceRefresh: true }));
    },
    close: () => adapter.close(),
  };
}

/**
 * Whether an import failure means the optional package is not installed.
 *
 * @internal
 * @example
 * ```ts
 * if (isModuleNotFound(err)) throw new ConfigError('provider', 'install @nangohq/node');
 * ```
 */
export function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Imports a vendor SDK; a missing package becomes a `ConfigError` naming it.
 *
 * @internal
 * @example
 * ```ts
 * const sdk = await importVendor('@nangohq/node', () => import('@nangohq/node'));
 * ```
 */
export async function importVendor<T>(pkg: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    if (isModuleNotFound(err)) {
      throw new ConfigError(
        'provider',
        `provider "nango" needs the optional package "${pkg}", which is not installed; run: npm install ${pkg}`,
        { cause: err },
      );
    }
    throw new AuthplaneError('vendor_load_failed', `Loading ${pkg} failed`, { cause: err });
  }
}
