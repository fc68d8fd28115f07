// authplane/nango: the IntegrationPlane over Nango (@nangohq/node, an optional peer, imported only when
// this adapter is created). The SDK has no timeout, no cache and raw AxiosErrors: this adapter adds a
// per-request timeout and abort signal (an axios request interceptor), a bounded token cache that
// honours each token's expiry, single-flight per connection, and one mapping of Nango errors to reasons.
// Nango connection ids are global: the owning org is read from exactly one configured place
// (`nango.orgBinding`) and checked on every call, and the proxy sends tokens only to allowed origins.
import type { Nango } from '@nangohq/node';
import { ConfigError } from '../../src/core/errors';
import { newTraceId } from '../../src/core/trace';
import type { NangoConfig } from '../../src/integration/config';
import { IntegrationError } from '../../src/integration/errors';
import { builtinApiBases, createOriginPolicy, mergeOrigins } from '../../src/integration/origins';
import type {
  ConnectionAuthType,
  ConnectionFilter,
  ConnectionInfo,
  ConnectionRef,
  GetTokenOptions,
  IntegrationAdapter,
  IntegrationToken,
} from '../../src/integration/types';
import { importVendor } from '../../src/integration/vendor';

type NangoModule = typeof import('@nangohq/node');

/** Non-expiring credentials (API keys) are re-read at most this often, so a deletion is seen. */
const STATIC_MAX_AGE_MS = 60_000;
const PAGE_SIZE = 1000;
const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

interface NangoConnection {
  connection_id: string;
  provider_config_key: string;
  provider?: string;
  created_at?: string;
  created?: string;
  updated_at?: string;
  metadata?: Record<string, unknown> | null;
  end_user?: {
    id?: string;
    organization?: { id?: string } | null;
    tags?: Record<string, string> | null;
  } | null;
  tags?: Record<string, string> | null;
  errors?: { type: string }[];
  credentials?: Record<string, unknown> & { type?: string };
}

interface CacheEntry {
  readonly token: IntegrationToken;
  readonly orgId: string | null;
  /** Epoch ms after which the entry is not served. */
  readonly until: number;
}

/**
 * Creates the Nango adapter from a validated configuration. Normally reached through
 * `createIntegrationPlane({ provider: 'nango', flags: { nango: true }, nango: { secretKey } })`.
 *
 * @throws ConfigError when `@nangohq/node` is not installed (the message names it).
 * @example
 * ```ts
 * import { createNangoAdapter } from 'authplane/nango';
 * const adapter = await createNangoAdapter(nangoConfigSchema.parse({ provider: 'nango', flags: { nango: true }, nango: { secretKey } }));
 * ```
 */
export async function createNangoAdapter(config: NangoConfig): Promise<IntegrationAdapter> {
  const settings = config.nango;
  const importer =
    (settings.importSdk as (() => Promise<NangoModule>) | undefined) ?? (() => import('@nangohq/node'));
  const sdk = await importVendor('nango', '@nangohq/node', importer);
  const NangoClass = (sdk.Nango ??
    (sdk as unknown as { default?: NangoModule }).default?.Nango) as typeof Nango;
  const clock = (config.clock as (() => number) | undefined) ?? Date.now;
  const skewMs = config.refreshSkewSec * 1000;
  const nango = new NangoClass(
    { secretKey: settings.secretKey, ...(settings.host ? { host: settings.host } : {}) },
    {
      interceptors: {
        // Every SDK call gets a timeout and an abort signal; proxied API calls get the API bound.
        request: (request) => {
          const proxied = typeof request.url === 'string' && request.url.includes('/proxy/');
          const ms = proxied ? config.fetchTimeoutMs : config.timeoutMs;
          request.timeout = ms;
          request.signal ??= AbortSignal.timeout(ms);
          return request;
        },
      },
    },
  );
  const keyFor = (integration: string) => settings.providerConfigKeys?.[integration] ?? integration;
  const reverse = new Map(Object.entries(settings.providerConfigKeys ?? {}).map(([k, v]) => [v, k]));
  const integrationOf = (providerConfigKey: string) => reverse.get(providerConfigKey) ?? providerConfigKey;
  const cache = new Map<string, CacheEntry>();
  const flights = new Map<string, Promise<{ token: IntegrationToken; orgId: string | null }>>();

  const binding = settings.orgBinding ?? (settings.orgTag ? { tag: settings.orgTag } : 'end_user');
  const bindingName =
    binding === 'end_user'
      ? 'end_user.organization.id'
      : 'tag' in binding
        ? `the tag "${binding.tag}"`
        : `the metadata key "${binding.metadata}"`;
  /** The owning org, read from the one configured place only: a second source could be used to claim it. */
  const orgOf = (c: NangoConnection): string | null => {
    const value =
      binding === 'end_user'
        ? c.end_user?.organization?.id
        : 'tag' in binding
          ? (c.tags?.[binding.tag] ?? c.end_user?.tags?.[binding.tag])
          : c.metadata?.[binding.metadata];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const origins = createOriginPolicy(
    mergeOrigins(config.allowedOrigins, builtinApiBases(settings.providerConfigKeys)),
  );

  const notFound = (ref: ConnectionRef, traceId: string) =>
    new IntegrationError('connection_not_found', `No connection ${ref.integration}/${ref.connectionId}`, {
      traceId,
    });

  /** The caller's org must be the connection's; a connection without an org binding belongs to no one. */
  const checkOrg = (orgId: string | null, ref: ConnectionRef, traceId: string): void => {
    if (orgId === null) {
      throw new IntegrationError(
        'connection_unbound',
        `The Nango connection ${ref.integration}/${ref.connectionId} is not bound to any org: ${bindingName} is not set. Create connections through a connect session that sets it, or configure nango.orgBinding`,
        { traceId },
      );
    }
    if (orgId !== ref.orgId) throw notFound(ref, traceId);
  };

  const remember = (key: string, entry: CacheEntry) => {
    cache.delete(key);
    cache.set(key, entry);
    while (cache.size > config.cacheMaxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  };

  const call = async <T>(ref: ConnectionRef | null, traceId: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw toIntegrationError(err, ref, traceId);
    }
  };

  const fetchConnection = async (
    ref: ConnectionRef,
    force: boolean,
    traceId: string,
  ): Promise<NangoConnection> => {
    const connection = (await call(ref, traceId, () =>
      nango.getConnection(keyFor(ref.integration), ref.connectionId, force),
    )) as unknown as NangoConnection;
    checkOrg(orgOf(connection), ref, traceId);
    return connection;
  };

  const getToken = async (ref: ConnectionRef, options: GetTokenOptions = {}): Promise<IntegrationToken> => {
    checkRef(ref);
    const traceId = newTraceId();
    const key = `${ref.integration}\u0000${ref.connectionId}`;
    const force = options.forceRefresh === true;
    if (!force) {
      const hit = cache.get(key);
      if (hit && hit.until > clock()) {
        checkOrg(hit.orgId, ref, traceId);
        return hit.token;
      }
    }
    const flightKey = `${key}\u0000${force}`;
    let flight = flights.get(flightKey);
    if (!flight) {
      flight = (async () => {
        // Fetched without the org check so that one flight serves every caller; checked below.
        const connection = (await call(ref, traceId, () =>
          nango.getConnection(keyFor(ref.integration), ref.connectionId, force),
        )) as unknown as NangoConnection;
        const token = tokenFrom(connection, ref, traceId);
        const orgId = orgOf(connection);
        const expiry = token.expiresAt?.getTime();
        const until = expiry === undefined ? clock() + STATIC_MAX_AGE_MS : expiry - skewMs;
        remember(key, { token, orgId, until });
        return { token, orgId };
      })().finally(() => flights.delete(flightKey));
      flights.set(flightKey, flight);
    }
    const { token, orgId } = await flight;
    checkOrg(orgId, ref, traceId);
    return token;
  };

  const infoFrom = (c: NangoConnection, withCredentials: boolean): ConnectionInfo => {
    const creds = withCredentials ? c.credentials : undefined;
    const expiresAt = typeof creds?.expires_at === 'string' ? new Date(creds.expires_at) : null;
    const raw = creds?.raw as { scope?: unknown } | undefined;
    const { credentials: _omit, ...rest } = c;
    return Object.freeze({
      integration: integrationOf(c.provider_config_key),
      connectionId: c.connection_id,
      orgId: orgOf(c),
      status: c.errors?.some((e) => e.type === 'auth') ? 'needs_reauth' : 'active',
      authType: withCredentials ? authTypeOf(creds?.type) : 'unknown',
      scopes: Object.freeze(typeof raw?.scope === 'string' ? raw.scope.split(/[\s,]+/).filter(Boolean) : []),
      expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : null,
      metadata: Object.freeze({
        ...(rest.metadata ?? {}),
        nango: { provider: rest.provider ?? null, endUserId: rest.end_user?.id ?? null },
      }),
      createdAt: dateOrNull(c.created_at ?? c.created),
      updatedAt: dateOrNull(c.updated_at),
      provider: 'nango',
    });
  };

  const adapter: IntegrationAdapter = {
    provider: 'nango',
    getToken,
    async getConnection(ref: ConnectionRef): Promise<ConnectionInfo> {
      checkRef(ref);
      const traceId = newTraceId();
      return infoFrom(await fetchConnection(ref, false, traceId), true);
    },
    async listConnections(filter: ConnectionFilter = {}): Promise<ConnectionInfo[]> {
      const traceId = newTraceId();
      const all: NangoConnection[] = [];
      for (let page = 0; ; page++) {
        const { connections } = (await call(null, traceId, () =>
          nango.listConnections({
            ...(filter.integration !== undefined ? { integrationId: keyFor(filter.integration) } : {}),
            limit: PAGE_SIZE,
            ...(page > 0 ? { page } : {}),
          }),
        )) as unknown as { connections: NangoConnection[] };
        all.push(...connections);
        if (connections.length < PAGE_SIZE) break;
      }
      return all
        .filter((c) => filter.orgId === undefined || orgOf(c) === filter.orgId)
        .filter(
          (c) => filter.integration === undefined || c.provider_config_key === keyFor(filter.integration),
        )
        .map((c) => infoFrom(c, false));
    },
    async deleteConnection(ref: ConnectionRef): Promise<boolean> {
      checkRef(ref);
      const traceId = newTraceId();
      cache.delete(`${ref.integration}\u0000${ref.connectionId}`);
      try {
        await fetchConnection(ref, false, traceId);
        await call(ref, traceId, () => nango.deleteConnection(keyFor(ref.integration), ref.connectionId));
        return true;
      } catch (err) {
        if (err instanceof IntegrationError && err.reason === 'connection_not_found') return false;
        throw err;
      }
    },
    async close(): Promise<void> {
      cache.clear();
    },
  };

  if (settings.fetchMode === 'proxy') {
    adapter.proxy = async (
      ref: ConnectionRef,
      url: string,
      init: RequestInit | undefined,
    ): Promise<Response> => {
      checkRef(ref);
      const traceId = newTraceId();
      // A token leaves only for an allowed origin; a relative endpoint is resolved by Nango against the
      // provider's own base URL.
      const relative = url.startsWith('/') && !url.startsWith('//') && !url.includes('\\');
      const target = relative ? null : origins.check(ref.integration, url, traceId);
      // The org check holds for proxied calls too (served from the token cache when warm).
      await getToken(ref);
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, name) => {
        if (name !== 'authorization') headers[name] = value;
      });
      try {
        const res = await nango.proxy({
          providerConfigKey: keyFor(ref.integration),
          connectionId: ref.connectionId,
          endpoint: target ? `${target.pathname}${target.search}` : url,
          ...(target ? { baseUrlOverride: target.origin } : {}),
          method: (init?.method ?? 'GET').toUpperCase() as 'GET',
          headers,
          ...(init?.body !== undefined && init.body !== null ? { data: await bodyOf(init.body) } : {}),
          responseType: 'arraybuffer',
        });
        return toResponse(res.status, res.headers as Record<string, unknown>, res.data);
      } catch (err) {
        const response = (
          err as { response?: { status: number; headers: Record<string, unknown>; data: unknown } }
        ).response;
        // The proxied API's own answer (4xx/5xx) is the caller's business, as with a direct fetch.
        if (response && !isNangoError(response.data))
          return toResponse(response.status, response.headers, response.data);
        throw toIntegrationError(err, ref, traceId);
      }
    };
  }
  return Object.freeze(adapter);
}

function checkRef(ref: ConnectionRef): void {
  if (
    !ref ||
    typeof ref.integration !== 'string' ||
    ref.integration === '' ||
    typeof ref.connectionId !== 'string' ||
    ref.connectionId === ''
  ) {
    throw new TypeError('ref must be { integration, connectionId, orgId } with non-empty strings');
  }
  if (typeof ref.orgId !== 'string' || ref.orgId === '') {
    throw new TypeError(
      "ref.orgId is required: a connection's identity is (orgId, connectionId), and another org may use the same id",
    );
  }
}

function authTypeOf(type: unknown): ConnectionAuthType {
  switch (type) {
    case 'OAUTH2':
    case 'OAUTH2_CC':
      return 'oauth2';
    case 'API_KEY':
      return 'api_key';
    case 'BASIC':
      return 'basic';
    default:
      return 'other';
  }
}

function dateOrNull(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The usable token of a Nango connection; missing credentials mean the grant is gone. */
function tokenFrom(c: NangoConnection, ref: ConnectionRef, traceId: string): IntegrationToken {
  const creds = c.credentials;
  const raw = creds?.raw as { scope?: unknown; token_type?: unknown } | undefined;
  const scopes = Object.freeze(
    typeof raw?.scope === 'string' ? raw.scope.split(/[\s,]+/).filter(Boolean) : [],
  );
  const expires = typeof creds?.expires_at === 'string' ? new Date(creds.expires_at) : null;
  const expiresAt = expires && !Number.isNaN(expires.getTime()) ? expires : null;
  switch (creds?.type) {
    case 'OAUTH2':
    case 'APP':
      if (typeof creds.access_token === 'string' && creds.access_token !== '') {
        return Object.freeze({ accessToken: creds.access_token, tokenType: 'Bearer', expiresAt, scopes });
      }
      break;
    case 'OAUTH2_CC':
      if (typeof creds.token === 'string' && creds.token !== '') {
        return Object.freeze({ accessToken: creds.token, tokenType: 'Bearer', expiresAt, scopes });
      }
      break;
    case 'API_KEY':
      if (typeof creds.apiKey === 'string' && creds.apiKey !== '') {
        return Object.freeze({ accessToken: creds.apiKey, tokenType: 'Bearer', expiresAt: null, scopes });
      }
      break;
    case 'BASIC':
      if (typeof creds.username === 'string' && typeof creds.password === 'string') {
        const basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
        return Object.freeze({ accessToken: basic, tokenType: 'Basic', expiresAt: null, scopes });
      }
      break;
  }
  throw new IntegrationError(
    'connection_needs_reauth',
    `The connection ${ref.integration}/${ref.connectionId} has no usable credentials in Nango`,
    { traceId },
  );
}

function isNangoError(data: unknown): boolean {
  const parsed = parseBody(data);
  return (
    !!parsed &&
    typeof parsed === 'object' &&
    'error' in parsed &&
    typeof (parsed as { error?: unknown }).error === 'object'
  );
}

function parseBody(data: unknown): unknown {
  if (data && typeof data === 'object' && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data))
    return data;
  const text =
    typeof data === 'string'
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? Buffer.from(data as ArrayBuffer).toString('utf8')
        : '';
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * One mapping of every SDK failure (AxiosError shapes) to a reason: 404 -> `connection_not_found`,
 * `unknown_provider_config` -> `integration_unknown`, 401/403 from Nango -> `ConfigError` (the secret
 * key is wrong), a failed refresh -> `connection_needs_reauth`, 5xx/429/timeouts/network ->
 * `provider_unavailable`. Messages carry the HTTP status and Nango's error code only.
 */
function toIntegrationError(err: unknown, ref: ConnectionRef | null, traceId: string): Error {
  if (err instanceof IntegrationError || err instanceof ConfigError) return err;
  const e = err as {
    response?: { status?: number; data?: unknown; headers?: Record<string, unknown> };
    code?: unknown;
  };
  const what = ref ? `${ref.integration}/${ref.connectionId}` : 'the connection list';
  if (!e?.response) {
    const code = typeof e?.code === 'string' && SAFE_CODE.test(e.code) ? e.code : 'network_error';
    return new IntegrationError('provider_unavailable', `Nango did not answer for ${what} (${code})`, {
      cause: err,
      traceId,
    });
  }
  const status = e.response.status ?? 0;
  const body = parseBody(e.response.data) as {
    error?: { code?: unknown; message?: unknown } | string;
  } | null;
  const errorObj = body && typeof body.error === 'object' ? body.error : null;
  const code =
    typeof errorObj?.code === 'string' && SAFE_CODE.test(errorObj.code) ? errorObj.code : `http_${status}`;
  const text = `${typeof errorObj?.message === 'string' ? errorObj.message : ''} ${typeof body?.error === 'string' ? body.error : ''}`;
  const detail = `Nango answered HTTP ${status} (${code}) for ${what}`;
  if (code === 'unknown_provider_config') {
    return new IntegrationError(
      'integration_unknown',
      `The integration of ${what} is not configured in Nango`,
      { cause: err, traceId },
    );
  }
  if (status === 401 || status === 403) {
    return new ConfigError(
      'nango.secretKey',
      `Nango refused the secret key (HTTP ${status}); check the Nango configuration`,
      { cause: err },
    );
  }
  if (status === 404) return new IntegrationError('connection_not_found', detail, { cause: err, traceId });
  if (status >= 500 || status === 429) {
    const retryAfter = e.response.headers?.['retry-after'];
    return new IntegrationError('provider_unavailable', detail, {
      cause: err,
      traceId,
      ...(typeof retryAfter === 'string' && /^\d{1,6}$/.test(retryAfter)
        ? { retryAfterSec: Number(retryAfter) }
        : {}),
    });
  }
  if (/refresh|invalid_credentials|invalid_grant/.test(code) || /invalid_grant/.test(text)) {
    return new IntegrationError('connection_needs_reauth', detail, { cause: err, traceId });
  }
  return new IntegrationError('provider_unavailable', detail, { cause: err, traceId });
}

async function bodyOf(body: NonNullable<RequestInit['body']>): Promise<unknown> {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer) return body;
  if (body instanceof URLSearchParams) return body.toString();
  return Buffer.from(await new Response(body).arrayBuffer());
}

function toResponse(status: number, headers: Record<string, unknown>, data: unknown): Response {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (
      value === undefined ||
      value === null ||
      /^(content-length|transfer-encoding|connection)$/i.test(name)
    )
      continue;
    h.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  }
  const bytes =
    data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? Buffer.from(data as ArrayBuffer)
      : typeof data === 'string'
        ? Buffer.from(data)
        : data === undefined || data === null
          ? null
          : Buffer.from(JSON.stringify(data));
  const nullBody = status === 204 || status === 304 || status < 200;
  return new Response(nullBody ? null : bytes, { status, headers: h });
}
