import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import { AuthplaneError, ConfigError } from '../core/errors';
import { DevStorage } from './adapter';
import { tokenEndpointProof } from './dpop';
import { headlessInteraction } from './interactions';
import { generateKeySet, toPublicJwk } from './keys';
import { DevStateSaver, readDevState, resetDevState } from './persistence';
import { API_SCOPES, OIDC_SCOPES, providerConfiguration, ROUTES } from './provider-config';
import {
  DEV_SIGNING_ALGORITHMS,
  type DevClients,
  type DevIssuer,
  type DevIssuerOptions,
  type DevLogger,
  type DevSigningAlgorithm,
  type DevUser,
  type DevWebClient,
} from './types';

type OidcProviderModule = typeof import('oidc-provider');

/**
 * The users seeded when `options.users` is omitted: alice (org_acme, admin), bob (org_acme, member),
 * carol (org_globex, admin).
 *
 * @example
 * ```ts
 * await startDevIssuer({ users: [...DEFAULT_DEV_USERS, { id: 'dave', email: 'dave@acme.test', name: 'Dave', orgId: 'org_acme', roles: [] }] });
 * ```
 */
export const DEFAULT_DEV_USERS: readonly DevUser[] = Object.freeze([
  { id: 'alice', email: 'alice@acme.test', name: 'Alice Admin', orgId: 'org_acme', roles: ['admin'] },
  { id: 'bob', email: 'bob@acme.test', name: 'Bob Member', orgId: 'org_acme', roles: ['member'] },
  { id: 'carol', email: 'carol@globex.test', name: 'Carol Admin', orgId: 'org_globex', roles: ['admin'] },
]);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const REQUEST_TIMEOUT_MS = 5000;

let loading: Promise<OidcProviderModule> | undefined;

/**
 * Loads the optional peer dependency once. oidc-provider warns "Unsupported runtime" at import on
 * Node 20 although it works there; that one line is filtered while the import runs, nothing else.
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } catch (cause) {
      loading = undefined;
      const code = (cause as { code?: unknown } | null)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new AuthplaneError(
          'dependency_missing',
          'authplane/dev needs the optional peer dependency "oidc-provider": npm i -D oidc-provider',
          { cause },
        );
      }
      throw cause;
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

interface Settings {
  port: number;
  host: string;
  audience: string;
  accessTokenTtlSec: number;
  users: readonly DevUser[];
  deviceIntervalSec: number;
  logger: DevLogger;
  webClients: readonly DevWebClient[];
  extraAudiences: readonly string[];
  stateDir: string | undefined;
  reset: boolean;
}

function positiveInteger(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(path, 'must be a positive integer');
  }
  return value;
}

function settingsFrom(options: DevIssuerOptions): Settings {
  const port = options.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('port', 'must be an integer between 0 and 65535');
  }
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new ConfigError('host', 'the dev issuer only binds a loopback address (127.0.0.1, ::1, localhost)');
  }
  const audience = options.audience ?? 'https://api.authplane.local';
  if (typeof audience !== 'string' || !URL.canParse(audience)) {
    throw new ConfigError('audience', 'must be an absolute URI (it is the resource indicator)');
  }
  const extraAudiences = options.extraAudiences ?? [];
  if (
    !Array.isArray(extraAudiences) ||
    !extraAudiences.every((a) => typeof a === 'string' && URL.canParse(a))
  ) {
    throw new ConfigError('extraAudiences', 'must be absolute URIs (they are resource indicators)');
  }
  if (options.stateDir !== undefined && (typeof options.stateDir !== 'string' || options.stateDir === ''))
    throw new ConfigError('stateDir', 'must be a directory path');
  if (options.reset !== undefined && typeof options.reset !== 'boolean')
    throw new ConfigError('reset', 'must be a boolean');
  if (options.reset && options.stateDir === undefined)
    throw new ConfigError('reset', 'only applies with stateDir (without it nothing is saved)');
  const users = options.users ?? DEFAULT_DEV_USERS;
  if (users.length === 0) throw new ConfigError('users', 'must contain at least one user');
  if (new Set(users.map((u) => u.id)).size !== users.length)
    throw new ConfigError('users', 'ids must be unique');
  return {
    port,
    host,
    audience,
    accessTokenTtlSec: positiveInteger('accessTokenTtlSec', options.accessTokenTtlSec, 600),
    users: Object.freeze(users.map((u) => Object.freeze({ ...u, roles: Object.freeze([...u.roles]) }))),
    deviceIntervalSec: positiveInteger('deviceIntervalSec', options.deviceIntervalSec, 1),
    extraAudiences: Object.freeze([...extraAudiences]),
    logger: options.logger ?? {},
    webClients: Object.freeze(
      (options.webClients ?? []).map((w) =>
        Object.freeze({ ...w, redirectUris: Object.freeze([...w.redirectUris]) }),
      ),
    ),
    stateDir: options.stateDir,
    reset: options.reset ?? false,
  };
}

function makeClients(savedSecret: string | undefined): DevClients {
  const serviceId = 'authplane-service';
  return Object.freeze({
    service: Object.freeze({
      clientId: serviceId,
      // Random per start, unless a state directory carries it over (it must outlive the process then).
      clientSecret: savedSecret ?? `dev_${randomBytes(24).toString('base64url')}`,
      tokenEndpointAuthMethod: 'client_secret_basic' as const,
      orgId: 'org_acme',
      roles: Object.freeze(['service']),
      scopes: Object.freeze([...API_SCOPES]),
      variants: Object.freeze({
        RS256: serviceId,
        ES256: `${serviceId}-es256`,
        EdDSA: `${serviceId}-eddsa`,
        opaque: `${serviceId}-opaque`,
      }),
      dpopClientId: `${serviceId}-dpop`,
    }),
    cli: Object.freeze({
      clientId: 'authplane-cli',
      tokenEndpointAuthMethod: 'none' as const,
      redirectUri: 'http://127.0.0.1/callback',
      scopes: Object.freeze([...OIDC_SCOPES, ...API_SCOPES]),
    }),
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64. */
function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * Starts a first-party OIDC issuer (oidc-provider) on a loopback port, for development, demos and as
 * the real peer in tests. **NOT FOR PRODUCTION**: users log in without a password, consent is
 * automatic, keys and storage live in memory, CORS is open.
 *
 * It issues RFC 9068 JWT access tokens (`typ: at+jwt`) for one API audience, with `org_id` and `roles`
 * claims, signed with RS256, ES256 or EdDSA; opaque tokens and refresh tokens for introspection and
 * revocation; auth code + PKCE and device flow for the CLI client; key rotation and outage on demand.
 * `oidc-provider` is an optional peer dependency: install it with `npm i -D oidc-provider`.
 *
 * @example
 * ```ts
 * import { startDevIssuer } from 'authplane/dev';
 *
 * const dev = await startDevIssuer();
 * const token = await dev.mintServiceToken({ scope: 'read write', alg: 'EdDSA' });
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer: dev.issuer, audience: dev.audience, allowInsecureRequests: true });
 * await dev.rotateKeys();      // new keys sign, the old ones stay published
 * await dev.setOnline(false);  // connection refused until setOnline(true)
 * await dev.stop();
 * ```
 */
export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const settings = settingsFrom(options);
  const { audience, users, logger } = settings;
  const oidc = await loadOidcProvider();

  if (settings.stateDir && settings.reset) resetDevState(settings.stateDir);
  const saved = settings.stateDir ? readDevState(settings.stateDir) : undefined;
  const storage = new DevStorage();
  const cookieKeys = saved ? [...saved.cookieKeys] : [randomBytes(32).toString('base64url')];
  const clients = makeClients(saved?.serviceSecret);
  const counters = { jwksRequests: 0, tokenRequests: 0 };

  let generation = saved?.generation ?? 1;
  let current = saved
    ? new Map(saved.current.map((jwk) => [jwk.alg as DevSigningAlgorithm, jwk]))
    : await generateKeySet(DEV_SIGNING_ALGORITHMS, generation);
  // Keys that no longer sign but are still published, newest first.
  let previous: JWK[] = saved ? [...saved.previous] : [];
  if (saved) storage.restore(saved.records);

  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await listen(server, settings.port, settings.host);
  const port = (server.address() as AddressInfo).port;
  const urlHost = settings.host === '::1' ? '[::1]' : settings.host;
  const issuer = `http://${urlHost}:${port}`;
  let online = true;
  let stopped = false;
  if (saved && saved.issuer !== issuer) {
    logger.warn?.(
      `authplane dev issuer: the saved state was issued by ${saved.issuer}; tokens from it name that issuer and will not verify against ${issuer} (use the same --port)`,
    );
  }
  const saver = settings.stateDir
    ? new DevStateSaver(settings.stateDir, () => ({
        version: 1,
        issuer,
        generation,
        current: [...current.values()],
        previous,
        serviceSecret: clients.service.clientSecret,
        cookieKeys,
        records: storage.records(),
      }))
    : undefined;
  if (saver) {
    storage.onChange = () => saver.schedule();
    saver.flush();
  }

  const build = (): { provider: Provider; handle: ReturnType<Provider['callback']> } => {
    const provider = new oidc.default(
      issuer,
      providerConfiguration({
        audience,
        accessTokenTtlSec: settings.accessTokenTtlSec,
        users,
        clients,
        jwks: [...current.values(), ...previous],
        currentKids: new Map([...current].map(([alg, jwk]) => [alg, jwk.kid as string])),
        storage,
        cookieKeys,
        errors: oidc.errors,
        webClients: settings.webClients,
        extraAudiences: settings.extraAudiences,
      }),
    );
    // oidc-provider sends no `interval`; clients then poll every 5 s. Tests want it short.
    provider.use(async (ctx, next) => {
      await next();
      if (
        ctx.oidc?.route === 'device_authorization' &&
        ctx.status === 200 &&
        ctx.body &&
        typeof ctx.body === 'object'
      ) {
        (ctx.body as Record<string, unknown>).interval = settings.deviceIntervalSec;
      }
    });
    provider.on('server_error', (_ctx, err: Error) =>
      logger.error?.(`authplane dev issuer: server error (${err.name}: ${err.message})`),
    );
    return { provider, handle: provider.callback() };
  };
  let active = build();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === ROUTES.jwks) counters.jwksRequests++;
    if (req.method === 'POST' && path === ROUTES.token) counters.tokenRequests++;
    logger.debug?.(`authplane dev issuer: ${req.method} ${path}`);
    const { provider, handle } = active;
    if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(path)) {
      void headlessInteraction(provider, users, req, res, logger);
      return;
    }
    // RFC 8414: the same metadata at the OAuth well-known path, where MCP clients look first.
    if (path === '/.well-known/oauth-authorization-server') {
      req.url = `/.well-known/openid-configuration${(req.url ?? '').slice(path.length)}`;
    }
    void handle(req, res);
  };
  server.on('request', onRequest);

  const closeListener = async (): Promise<void> => {
    if (!online) return;
    online = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await closed;
    // Let in-process clients see their pooled keep-alive sockets close, so their next request opens a
    // new connection (refused) rather than writing to a dead socket.
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };

  const requestToken = async (
    clientId: string,
    scope: string | undefined,
    dpopKey?: JWK,
  ): Promise<string> => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      resource: audience,
      scope: scope ?? clients.service.scopes.join(' '),
    });
    const res = await fetch(`${issuer}${ROUTES.token}`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(clientId, clients.service.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        ...(dpopKey ? { dpop: await tokenEndpointProof(dpopKey, `${issuer}${ROUTES.token}`) } : {}),
      },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const json = (await res.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
    if (!res.ok || typeof json.access_token !== 'string') {
      throw new AuthplaneError(
        'dev_issuer_error',
        `dev issuer token request failed: ${typeof json.error === 'string' ? json.error : `HTTP ${res.status}`}`,
      );
    }
    return json.access_token;
  };

  const dev: DevIssuer = {
    issuer,
    port,
    audience,
    jwksUri: `${issuer}${ROUTES.jwks}`,
    tokenEndpoint: `${issuer}${ROUTES.token}`,
    introspectionEndpoint: `${issuer}${ROUTES.introspection}`,
    revocationEndpoint: `${issuer}${ROUTES.revocation}`,
    clients,
    users,
    get stats() {
      return { ...counters };
    },
    get online() {
      return online;
    },
    signingKeys: () => [...current.values()].map((k) => structuredClone(k)),
    publishedKeys: () => [...current.values(), ...previous].map(toPublicJwk),
    mintServiceToken: async ({ scope, alg = 'RS256' } = {}) => {
      if (!DEV_SIGNING_ALGORITHMS.includes(alg))
        throw new ConfigError('alg', `must be one of ${DEV_SIGNING_ALGORITHMS}`);
      return requestToken(clients.service.variants[alg as DevSigningAlgorithm], scope);
    },
    mintOpaqueToken: ({ scope } = {}) => requestToken(clients.service.variants.opaque, scope),
    mintDpopToken: ({ key, scope }) => requestToken(clients.service.dpopClientId, scope, key),
    async rotateKeys({ retireOld = false } = {}) {
      const next = await generateKeySet(DEV_SIGNING_ALGORITHMS, generation + 1);
      generation++;
      previous = retireOld ? [] : [...current.values(), ...previous];
      current = next;
      saver?.flush();
      // The keystore is fixed per Provider: a new one on the same storage and server takes over.
      active = build();
      logger.info?.(`authplane dev issuer: keys rotated (generation ${generation})`);
    },
    async retireOldKeys() {
      if (previous.length === 0) return;
      previous = [];
      saver?.flush();
      active = build();
    },
    async setOnline(next) {
      if (stopped) throw new AuthplaneError('dev_issuer_stopped', 'the dev issuer was stopped');
      if (!next) return closeListener();
      if (online) return;
      await listen(server, port, settings.host);
      online = true;
    },
    env: () => ({
      AUTHPLANE_PROVIDER: 'oidc',
      AUTHPLANE_ISSUER: issuer,
      AUTHPLANE_AUDIENCE: audience,
      AUTHPLANE_JWKS_URI: `${issuer}${ROUTES.jwks}`,
      // The issuer is plain http on loopback; the oidc adapter refuses http unless told otherwise.
      AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'true',
      AUTHPLANE_INTROSPECTION_ENDPOINT: `${issuer}${ROUTES.introspection}`,
      AUTHPLANE_INTROSPECTION_CLIENT_ID: clients.service.clientId,
      AUTHPLANE_INTROSPECTION_CLIENT_SECRET: clients.service.clientSecret,
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeListener();
      server.off('request', onRequest);
      saver?.flush();
    },
  };
  return dev;
}
