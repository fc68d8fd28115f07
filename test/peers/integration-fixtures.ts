// Fixtures that put each IntegrationPlane adapter in front of its real peer on loopback.
import { randomBytes } from 'node:crypto';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import {
  createIntegrationPlane,
  type FirstPartyIntegrationPlane,
  type RefreshLock,
} from '../../src/integration/index';
import type { ConnectionStore } from '../../src/stores/contracts';
import { createMemoryConnectionStore } from '../../src/stores/memory';
import type { IntegrationFixture } from '../contract/integration-plane.contract';
import { type LoopbackApi, startLoopbackApi } from './loopback-api';
import { type NangoFake, startNangoFake } from './nango-fake';
import { startTokenProxy, type TokenProxy } from './token-proxy';
import { completeBrowserLogin } from './user-agent';

// axios (inside @nangohq/node) honours http_proxy: keep loopback traffic off any proxy.
process.env.no_proxy = '127.0.0.1,localhost';
process.env.NO_PROXY = '127.0.0.1,localhost';

export const REDIRECT_URI = 'http://127.0.0.1:53999/integrations/callback';
export const CLIENT_ID = 'connector-app';
export const CLIENT_SECRET = `connector-secret-${randomBytes(8).toString('hex')}`;
export const newKey = () => randomBytes(32).toString('base64');

export interface FirstPartyPeers {
  readonly dev: DevIssuer;
  readonly tokens: TokenProxy;
  readonly api: LoopbackApi;
  stop(): Promise<void>;
}

export async function startFirstPartyPeers(): Promise<FirstPartyPeers> {
  const dev = await startDevIssuer({
    webClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
  });
  const tokens = await startTokenProxy(dev.tokenEndpoint);
  const api = await startLoopbackApi();
  return {
    dev,
    tokens,
    api,
    async stop() {
      await Promise.all([api.stop(), tokens.stop(), dev.stop()]);
    },
  };
}

/** The `github` catalog entry pointed at the dev issuer (through the counting token proxy). */
export function githubOnLoopback(peers: FirstPartyPeers) {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    authorizationEndpoint: `${peers.dev.issuer}/auth`,
    tokenEndpoint: peers.tokens.url,
    tokenEndpointAuthMethod: 'client_secret_basic' as const,
    // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
    defaultScopes: ['openid', 'offline_access', 'read'],
    authorizationParams: { prompt: 'consent' },
    // The loopback API stands in for api.github.com: the only origin that receives github tokens.
    apiBaseUrl: peers.api.url,
  };
}

export interface PlaneOptions {
  store?: ConnectionStore;
  keys?: Record<string, string>;
  currentKeyId?: string;
  lock?: RefreshLock;
  timeoutMs?: number;
  clock?: () => number;
  fetch?: typeof fetch;
}

export async function firstPartyPlane(
  peers: FirstPartyPeers,
  o: PlaneOptions = {},
): Promise<FirstPartyIntegrationPlane> {
  return createIntegrationPlane({
    store: o.store ?? createMemoryConnectionStore(),
    encryption: { currentKeyId: o.currentKeyId ?? 'k1', keys: o.keys ?? { k1: newKey() } },
    catalog: {
      github: githubOnLoopback(peers),
      jira: {},
    },
    timeoutMs: o.timeoutMs ?? 2_000,
    allowedOrigins: { jira: [peers.api.url] },
    ...(o.lock ? { lock: o.lock } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
}

/** Runs the real connect flow: authorization URL, headless login and consent at the issuer, callback. */
export async function connectViaBrowser(
  plane: FirstPartyIntegrationPlane,
  orgId: string,
  connectionId: string,
  login = 'alice',
) {
  const started = await plane.connect.start({
    integration: 'github',
    orgId,
    userId: login,
    redirectUri: REDIRECT_URI,
    connectionId,
  });
  const callback = await completeBrowserLogin(started.url, { login });
  return plane.connect.finish(callback, { orgId, userId: login });
}

export async function firstPartyFixture(
  storeFactory: () => Promise<{ store: ConnectionStore; close(): Promise<void> }>,
): Promise<IntegrationFixture> {
  const peers = await startFirstPartyPeers();
  const { store, close } = await storeFactory();
  let offset = 0;
  // Generous enough for a loaded 2-core CI machine; the hang tests still prove the bound holds.
  const timeoutMs = 1500;
  const plane = await firstPartyPlane(peers, { store, timeoutMs, clock: () => Date.now() + offset });
  return {
    plane,
    api: peers.api,
    timeoutMs,
    async seed(orgId, connectionId) {
      const info = await connectViaBrowser(plane, orgId, connectionId);
      return { integration: info.integration, connectionId: info.connectionId, orgId };
    },
    refreshes: () => peers.tokens.refreshes,
    expireAll() {
      offset += 2 * 3600_000;
    },
    fault(mode) {
      peers.tokens.fault = mode;
    },
    async stored(ref) {
      const r = await store.get({ orgId: ref.orgId, integration: ref.integration, id: ref.connectionId });
      return (
        r && { credentials: r.credentials, version: r.version, expiresAt: r.expiresAt, status: r.status }
      );
    },
    async cleanup() {
      await plane.close();
      await close();
      await peers.stop();
    },
  };
}

export async function nangoFixture(
  fetchMode: 'direct' | 'proxy',
): Promise<IntegrationFixture & { fake: NangoFake }> {
  const fake = await startNangoFake();
  const api = await startLoopbackApi();
  let offset = 0;
  fake.now = () => Date.now() + offset;
  // Generous enough for a loaded 2-core CI machine; the hang tests still prove the bound holds.
  const timeoutMs = 1500;
  const plane = await createIntegrationPlane({
    provider: 'nango',
    flags: { nango: true },
    nango: { secretKey: fake.secretKey, host: fake.host, fetchMode },
    allowedOrigins: { github: [api.url], jira: [api.url], slack: [api.url] },
    timeoutMs,
    clock: () => Date.now() + offset,
  });
  return {
    fake,
    plane,
    api,
    timeoutMs,
    async seed(orgId, connectionId) {
      fake.add({ connection_id: connectionId, provider_config_key: 'github', orgId });
      return { integration: 'github', connectionId, orgId };
    },
    refreshes: () => fake.refreshes,
    expireAll() {
      offset += 2 * 3600_000;
    },
    fault(mode) {
      fake.fault =
        mode === 'none'
          ? 'none'
          : mode === 'fail'
            ? 'server_error'
            : mode === 'hang'
              ? 'hang'
              : 'refresh_revoked';
    },
    async stored(ref) {
      const c = fake.connections.get(`${ref.integration}\u0000${ref.connectionId}`);
      return c && { access_token: c.access_token, refresh_token: c.refresh_token, expires_at: c.expires_at };
    },
    async cleanup() {
      await plane.close();
      await Promise.all([api.stop(), fake.stop()]);
    },
  };
}
