// The first-party IntegrationPlane adapter: connections in a ConnectionStore, credentials sealed with
// the keyring, refreshes single-flight in process and serialised across instances by a RefreshLock,
// written back with the store's compare-and-set so that a rotated refresh token is never lost.
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors';
import { newTraceId } from '../../core/trace';
import type { ConnectionRecord, ConnectionStore } from '../../stores/contracts';
import { StoreError } from '../../stores/errors';
import type { ResolvedIntegration } from '../catalog';
import type { Keyring } from '../crypto';
import { DecryptionError, IntegrationError } from '../errors';
import type { RefreshLock } from '../locks';
import type {
  ConnectionAuthType,
  ConnectionFilter,
  ConnectionInfo,
  ConnectionRef,
  GetTokenOptions,
  IntegrationAdapter,
  IntegrationToken,
} from '../types';
import { parseCredentials, type StoredCredentials } from './credentials';
import { requestToken, safeCode, type TokenHttp, type TokenSet } from './oauth';

/** Pending connect states live in the same store, under an integration name no catalog key can take. */
export const CONNECT_STATE_INTEGRATION = 'authplane:connect-state';

/**
 * Settings of the first-party adapter, already validated by `createIntegrationPlane`.
 *
 * @example
 * ```ts
 * const adapter = createFirstPartyAdapter({ store, keyring, catalog, lock: createMemoryRefreshLock(), … });
 * ```
 */
export interface FirstPartyOptions {
  readonly store: ConnectionStore;
  readonly keyring: Keyring;
  readonly catalog: ReadonlyMap<string, ResolvedIntegration>;
  readonly lock: RefreshLock;
  /** Refresh this long before expiry. */
  readonly refreshSkewMs: number;
  /** Bound of every token-endpoint request. */
  readonly timeoutMs: number;
  /** Longest wait for another instance's refresh of the same connection. */
  readonly lockWaitMs: number;
  readonly stateTtlMs: number;
  readonly cacheMaxEntries: number;
  readonly fetch: typeof globalThis.fetch;
  readonly clock: () => number;
}

/**
 * Starts a connect flow.
 *
 * @example
 * ```ts
 * const { url } = await integrations.connect.start({ integration: 'github', orgId: 'org_acme', userId: 'usr_1',
 *   redirectUri: 'https://app.example/integrations/callback' });
 * ```
 */
export interface ConnectStartOptions {
  readonly integration: string;
  readonly orgId: string;
  readonly userId: string;
  readonly redirectUri: string;
  /** Default: the org id (one connection per org and integration). */
  readonly connectionId?: string;
  /** Default: the catalog's default scopes. */
  readonly scopes?: readonly string[];
}

/**
 * The redirect to send the user to, and the state it carries (also kept server-side, single-use).
 *
 * @example
 * ```ts
 * return Response.redirect(started.url, 302);
 * ```
 */
export interface ConnectStart {
  readonly url: string;
  readonly state: string;
  readonly expiresAt: Date;
}

/**
 * What `finish` may check besides the state: the session that comes back must be the one that started.
 *
 * @example
 * ```ts
 * await integrations.connect.finish(request.url, { orgId: session.orgId, userId: session.userId });
 * ```
 */
export interface ConnectFinishOptions {
  readonly orgId?: string;
  readonly userId?: string;
}

/**
 * A static credential connection (a Jira API token over Basic, an API key).
 *
 * @example
 * ```ts
 * await integrations.connect.saveCredentials({ integration: 'jira', orgId: 'org_acme', connectionId: 'acme-jira',
 *   credentials: { type: 'basic', username: 'bot@acme.test', password: process.env.JIRA_API_TOKEN! } });
 * ```
 */
export interface SaveCredentialsOptions {
  readonly integration: string;
  readonly orgId: string;
  readonly connectionId: string;
  readonly credentials:
    | { readonly type: 'api_key'; readonly apiKey: string; readonly tokenType?: string }
    | { readonly type: 'basic'; readonly username: string; readonly password: string };
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly userId?: string;
}

/**
 * The first-party connect flow: OAuth authorization code with PKCE (S256), or static credentials.
 *
 * @example
 * ```ts
 * const { url } = await integrations.connect.start({ integration: 'slack', orgId, userId, redirectUri });
 * // … the user approves; the integration redirects to redirectUri?code=…&state=…
 * const connection = await integrations.connect.finish(callbackUrl, { orgId, userId });
 * ```
 */
export interface ConnectApi {
  start(options: ConnectStartOptions): Promise<ConnectStart>;
  /**
   * Consumes the state (single-use, across instances), exchanges the code and stores the connection.
   *
   * @throws IntegrationError `state_invalid` (unknown, expired, replayed, other redirect, other org or
   * user), `connect_failed` (the user or server refused), `provider_unavailable`.
   */
  finish(callbackUrl: string | URL, expected?: ConnectFinishOptions): Promise<ConnectionInfo>;
  saveCredentials(options: SaveCredentialsOptions): Promise<ConnectionInfo>;
}

/**
 * The first-party adapter: the IntegrationPlane operations plus the connect flow and key rotation.
 *
 * @example
 * ```ts
 * const adapter = createFirstPartyAdapter(options);
 * await adapter.resealAll(); // after adding a new current key
 * ```
 */
export interface FirstPartyAdapter extends IntegrationAdapter {
  readonly connect: ConnectApi;
  /**
   * Re-encrypts every connection sealed with a key other than the current one (compare-and-set, so a
   * concurrent refresh wins). Returns how many were rewritten; afterwards old keys can be removed.
   */
  resealAll(): Promise<number>;
}

interface CacheEntry {
  readonly token: IntegrationToken;
  readonly orgId: string | null;
}

interface PendingConnect {
  readonly integration: string;
  readonly connectionId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  readonly scopes: readonly string[];
}

const keyOf = (integration: string, id: string) => `${integration}\u0000${id}`;
const stateId = (state: string) => createHash('sha256').update(state).digest('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/**
 * Builds the first-party adapter. `createIntegrationPlane({ provider: 'first-party', … })` calls this.
 *
 * @example
 * ```ts
 * const adapter = createFirstPartyAdapter({ store, keyring, catalog, lock, refreshSkewMs: 60_000, timeoutMs: 10_000,
 *   lockWaitMs: 15_000, stateTtlMs: 600_000, cacheMaxEntries: 1000, fetch: globalThis.fetch, clock: Date.now });
 * ```
 */
export function createFirstPartyAdapter(options: FirstPartyOptions): FirstPartyAdapter {
  const { store, keyring, catalog, lock, clock } = options;
  const cache = new Map<string, CacheEntry>();
  const flights = new Map<string, Promise<IntegrationToken>>();
  let lastPurge = 0;

  const http = (traceId: string): TokenHttp => ({
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    clock,
    traceId,
  });

  const entryFor = (integration: string, traceId: string): ResolvedIntegration => {
    const entry = catalog.get(integration);
    if (!entry) {
      throw new IntegrationError(
        'integration_unknown',
        `The integration "${integration.slice(0, 64)}" is not configured`,
        {
          traceId,
        },
      );
    }
    return entry;
  };

  const notFound = (ref: ConnectionRef, traceId: string) =>
    new IntegrationError('connection_not_found', `No connection ${ref.integration}/${ref.connectionId}`, {
      traceId,
    });

  const storeCall = async <T>(what: string, traceId: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof StoreError) {
        throw new IntegrationError('provider_unavailable', `The connection store failed during ${what}`, {
          cause,
          traceId,
        });
      }
      throw cause;
    }
  };

  /** The record, or the reason-coded refusal; a record of another org is indistinguishable from none. */
  const load = async (ref: ConnectionRef, traceId: string): Promise<ConnectionRecord> => {
    const record = await storeCall('connection lookup', traceId, () =>
      store.get(ref.integration, ref.connectionId),
    );
    if (!record || (ref.orgId !== undefined && record.orgId !== ref.orgId)) throw notFound(ref, traceId);
    return record;
  };

  const context = (integration: string, id: string) => `${integration}\u0000${id}`;

  const open = (record: ConnectionRecord): StoredCredentials => {
    if (record.credentials === null) {
      throw new DecryptionError(
        `The connection ${record.integration}/${record.id} has no stored credentials`,
        null,
      );
    }
    const creds = parseCredentials(keyring.open(record.credentials, context(record.integration, record.id)));
    if (!creds) {
      throw new DecryptionError(
        `The stored credentials of ${record.integration}/${record.id} are not in a known shape`,
        keyring.keyIdOf(record.credentials),
      );
    }
    return creds;
  };

  const seal = (integration: string, id: string, creds: StoredCredentials | PendingConnect) =>
    keyring.seal(JSON.stringify(creds), context(integration, id));

  const fresh = (expiresAt: Date | null) =>
    expiresAt === null || expiresAt.getTime() - options.refreshSkewMs > clock();

  const tokenOf = (creds: StoredCredentials, expiresAt: Date | null): IntegrationToken => {
    switch (creds.type) {
      case 'oauth2':
        return Object.freeze({
          accessToken: creds.accessToken,
          tokenType: creds.tokenType,
          expiresAt: expiresAt ? new Date(expiresAt.getTime()) : null,
          scopes: Object.freeze([...creds.scopes]),
        });
      case 'api_key':
        return Object.freeze({
          accessToken: creds.apiKey,
          tokenType: creds.tokenType ?? 'Bearer',
          expiresAt: null,
          scopes: Object.freeze([]),
        });
      case 'basic':
        return Object.freeze({
          accessToken: Buffer.from(`${creds.username}:${creds.password}`).toString('base64'),
          tokenType: 'Basic',
          expiresAt: null,
          scopes: Object.freeze([]),
        });
    }
  };

  const remember = (key: string, token: IntegrationToken, orgId: string | null) => {
    cache.delete(key);
    cache.set(key, { token, orgId });
    // Bounded: the oldest entry goes first (Map keeps insertion order; a write moves the key to the end).
    while (cache.size > options.cacheMaxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  };

  const usable = (record: ConnectionRecord, ref: ConnectionRef, traceId: string): StoredCredentials => {
    if (record.status === 'needs_reauth') {
      throw new IntegrationError(
        'connection_needs_reauth',
        `The connection ${ref.integration}/${ref.connectionId} must be authorized again`,
        { traceId },
      );
    }
    return open(record);
  };

  const getToken = async (ref: ConnectionRef, opts: GetTokenOptions = {}): Promise<IntegrationToken> => {
    const traceId = newTraceId();
    checkRef(ref);
    const key = keyOf(ref.integration, ref.connectionId);
    if (!opts.forceRefresh) {
      const hit = cache.get(key);
      if (hit && (ref.orgId === undefined || hit.orgId === ref.orgId) && fresh(hit.token.expiresAt))
        return hit.token;
    }
    const entry = entryFor(ref.integration, traceId);
    const record = await load(ref, traceId);
    const creds = usable(record, ref, traceId);
    if (creds.type !== 'oauth2' || (!opts.forceRefresh && fresh(record.expiresAt))) {
      const token = tokenOf(creds, record.expiresAt);
      remember(key, token, record.orgId);
      return token;
    }
    let flight = flights.get(key);
    if (!flight) {
      flight = refreshUnderLock(entry, ref, record, opts.forceRefresh === true, traceId).finally(() =>
        flights.delete(key),
      );
      flights.set(key, flight);
    }
    // `load` above already applied this caller's org restriction.
    return flight;
  };

  const refreshUnderLock = async (
    entry: ResolvedIntegration,
    ref: ConnectionRef,
    seen: ConnectionRecord,
    force: boolean,
    traceId: string,
  ): Promise<IntegrationToken> => {
    const key = keyOf(ref.integration, ref.connectionId);
    let release: Awaited<ReturnType<RefreshLock['acquire']>>;
    try {
      release = await lock.acquire(key, {
        waitMs: options.lockWaitMs,
        holdMs: options.timeoutMs * 2 + 5_000,
      });
    } catch (cause) {
      throw new IntegrationError('provider_unavailable', 'The refresh lock is unavailable', {
        cause,
        traceId,
      });
    }
    try {
      const current = await load(ref, traceId);
      const creds = usable(current, ref, traceId);
      if (creds.type !== 'oauth2') return tokenOf(creds, null);
      // Another caller or instance refreshed while we waited: use its token, even when forced.
      if ((current.version !== seen.version || !force) && fresh(current.expiresAt)) {
        const token = tokenOf(creds, current.expiresAt);
        remember(key, token, current.orgId);
        return token;
      }
      if (!release) {
        throw new IntegrationError(
          'provider_unavailable',
          `Another instance is still refreshing ${ref.integration}/${ref.connectionId}`,
          { traceId },
        );
      }
      if (creds.refreshToken === null) {
        if (current.expiresAt !== null && current.expiresAt.getTime() <= clock()) {
          return await markNeedsReauth(current, ref, traceId);
        }
        // Nothing to refresh with and still valid: the current token is the best there is.
        return tokenOf(creds, current.expiresAt);
      }
      const outcome = await requestToken(
        entry,
        { grant_type: 'refresh_token', refresh_token: creds.refreshToken },
        http(traceId),
      );
      if (!outcome.ok) {
        if (!outcome.grantInvalid) {
          throw new IntegrationError(
            'provider_unavailable',
            `The token endpoint of ${entry.key} refused the refresh (${outcome.error})`,
            { traceId },
          );
        }
        // invalid_grant: maybe another instance rotated the refresh token after we read it.
        const latest = await storeCall('connection lookup', traceId, () =>
          store.get(ref.integration, ref.connectionId),
        );
        if (latest && latest.version !== current.version && latest.status === 'active') {
          const token = tokenOf(usable(latest, ref, traceId), latest.expiresAt);
          remember(key, token, latest.orgId);
          return token;
        }
        return await markNeedsReauth(current, ref, traceId);
      }
      return await persistRefresh(current, creds, outcome.tokens, ref, traceId);
    } finally {
      await release?.();
    }
  };

  const markNeedsReauth = async (
    current: ConnectionRecord,
    ref: ConnectionRef,
    traceId: string,
  ): Promise<never> => {
    const key = keyOf(ref.integration, ref.connectionId);
    cache.delete(key);
    const result = await storeCall('connection write', traceId, () =>
      store.compareAndSet(inputOf(current, { status: 'needs_reauth' }), current.version),
    );
    if (!result.ok && result.current?.status === 'active' && fresh(result.current.expiresAt)) {
      // Lost to a writer that did refresh: nothing to re-authorize after all. Callers retry and get it.
      throw new IntegrationError(
        'provider_unavailable',
        `The connection ${ref.integration}/${ref.connectionId} changed during the refresh; retry`,
        { traceId },
      );
    }
    throw new IntegrationError(
      'connection_needs_reauth',
      `The grant of ${ref.integration}/${ref.connectionId} was refused; the connection must be authorized again`,
      { traceId },
    );
  };

  const persistRefresh = async (
    current: ConnectionRecord,
    creds: Extract<StoredCredentials, { type: 'oauth2' }>,
    tokens: TokenSet,
    ref: ConnectionRef,
    traceId: string,
  ): Promise<IntegrationToken> => {
    const key = keyOf(ref.integration, ref.connectionId);
    const next: StoredCredentials = {
      type: 'oauth2',
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      // Rotation: keep the new refresh token; providers that do not rotate send none, keep the old.
      refreshToken: tokens.refreshToken ?? creds.refreshToken,
      scopes: tokens.scopes.length > 0 ? tokens.scopes : creds.scopes,
    };
    const expiresAt = tokens.expiresAt === null ? null : new Date(tokens.expiresAt);
    const result = await storeCall('connection write', traceId, () =>
      store.compareAndSet(
        inputOf(current, {
          credentials: seal(current.integration, current.id, next),
          expiresAt,
          metadata: { ...current.metadata, ...tokens.metadata, scopes: [...next.scopes] },
        }),
        current.version,
      ),
    );
    const token = tokenOf(next, expiresAt);
    if (result.ok) {
      remember(key, token, current.orgId);
      return token;
    }
    // Only without a shared lock (or after it lapsed) can another writer win: prefer its stored token.
    const winner = result.current;
    if (winner && winner.status === 'active' && fresh(winner.expiresAt)) {
      const theirs = tokenOf(usable(winner, ref, traceId), winner.expiresAt);
      remember(key, theirs, winner.orgId);
      return theirs;
    }
    return token;
  };

  const toInfo = (record: ConnectionRecord): ConnectionInfo => {
    const meta = record.metadata;
    const authType: ConnectionAuthType =
      meta.authType === 'api_key' || meta.authType === 'basic' ? meta.authType : 'oauth2';
    const scopes = Array.isArray(meta.scopes)
      ? meta.scopes.filter((s): s is string => typeof s === 'string')
      : [];
    return Object.freeze({
      integration: record.integration,
      connectionId: record.id,
      orgId: record.orgId,
      status: record.status,
      authType,
      scopes: Object.freeze(scopes),
      expiresAt: record.expiresAt,
      metadata: record.metadata,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      provider: 'first-party',
    });
  };

  const purgeStates = async () => {
    const now = clock();
    if (now - lastPurge < 60_000) return;
    lastPurge = now;
    const pending = await store.list({ integration: CONNECT_STATE_INTEGRATION });
    for (const p of pending) {
      if (p.expiresAt && p.expiresAt.getTime() <= now) await store.delete(CONNECT_STATE_INTEGRATION, p.id);
    }
  };

  const stateInvalid = (traceId: string, why: string) =>
    new IntegrationError('state_invalid', `The connect callback was refused: ${why}`, { traceId });

  const connect: ConnectApi = Object.freeze({
    async start(o: ConnectStartOptions): Promise<ConnectStart> {
      const traceId = newTraceId();
      for (const field of ['integration', 'orgId', 'userId', 'redirectUri'] as const) {
        if (typeof o?.[field] !== 'string' || o[field] === '')
          throw new TypeError(`connect.start: ${field} is required`);
      }
      const entry = entryFor(o.integration, traceId);
      if (entry.clientId === null) {
        throw new ConfigError(`catalog.${o.integration}.clientId`, 'is required for the OAuth connect flow');
      }
      if (!entry.authorizationEndpoint || !entry.tokenEndpoint) {
        throw new ConfigError(
          `catalog.${o.integration}`,
          'needs authorizationEndpoint and tokenEndpoint for the connect flow',
        );
      }
      if (!URL.canParse(o.redirectUri))
        throw new TypeError('connect.start: redirectUri must be an absolute URL');
      const state = randomBytes(32).toString('base64url');
      const codeVerifier = randomBytes(32).toString('base64url');
      const scopes = [...(o.scopes ?? entry.defaultScopes)];
      const pending: PendingConnect = {
        integration: o.integration,
        connectionId: o.connectionId ?? o.orgId,
        orgId: o.orgId,
        userId: o.userId,
        redirectUri: o.redirectUri,
        codeVerifier,
        scopes,
      };
      const expiresAt = new Date(clock() + options.stateTtlMs);
      const id = stateId(state);
      await storeCall('connect state write', traceId, async () => {
        await purgeStates();
        await store.put({
          integration: CONNECT_STATE_INTEGRATION,
          id,
          orgId: null,
          status: 'active',
          metadata: {},
          credentials: seal(CONNECT_STATE_INTEGRATION, id, pending),
          expiresAt,
        });
      });
      const url = new URL(entry.authorizationEndpoint);
      for (const [k, v] of Object.entries(entry.authorizationParams)) url.searchParams.set(k, v);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', entry.clientId);
      url.searchParams.set('redirect_uri', o.redirectUri);
      if (scopes.length > 0) url.searchParams.set('scope', scopes.join(entry.scopeSeparator));
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', s256(codeVerifier));
      url.searchParams.set('code_challenge_method', 'S256');
      return Object.freeze({ url: url.href, state, expiresAt });
    },

    async finish(callbackUrl: string | URL, expected: ConnectFinishOptions = {}): Promise<ConnectionInfo> {
      const traceId = newTraceId();
      const callback = new URL(callbackUrl);
      const state = callback.searchParams.get('state');
      if (!state) throw stateInvalid(traceId, 'no state');
      const id = stateId(state);
      const record = await storeCall('connect state lookup', traceId, () =>
        store.get(CONNECT_STATE_INTEGRATION, id),
      );
      if (!record) throw stateInvalid(traceId, 'unknown or already used state');
      // Single use across instances: only the caller whose delete removed the row may continue.
      const consumed = await storeCall('connect state delete', traceId, () =>
        store.delete(CONNECT_STATE_INTEGRATION, id),
      );
      if (!consumed) throw stateInvalid(traceId, 'unknown or already used state');
      if (!record.expiresAt || record.expiresAt.getTime() <= clock())
        throw stateInvalid(traceId, 'expired state');
      let pending: PendingConnect;
      try {
        pending = JSON.parse(keyring.open(record.credentials ?? '', context(CONNECT_STATE_INTEGRATION, id)));
      } catch (cause) {
        throw new IntegrationError('state_invalid', 'The connect state cannot be read', { cause, traceId });
      }
      const registered = new URL(pending.redirectUri);
      if (callback.origin !== registered.origin || callback.pathname !== registered.pathname) {
        throw stateInvalid(traceId, 'the callback is not the redirect URI the flow started with');
      }
      if (expected.orgId !== undefined && expected.orgId !== pending.orgId) {
        throw stateInvalid(traceId, 'the flow was started for another org');
      }
      if (expected.userId !== undefined && expected.userId !== pending.userId) {
        throw stateInvalid(traceId, 'the flow was started by another user');
      }
      const error = callback.searchParams.get('error');
      if (error !== null) {
        throw new IntegrationError('connect_failed', `The authorization server answered ${safeCode(error)}`, {
          traceId,
        });
      }
      const code = callback.searchParams.get('code');
      if (!code)
        throw new IntegrationError('connect_failed', 'The callback carries no authorization code', {
          traceId,
        });
      const entry = entryFor(pending.integration, traceId);
      const outcome = await requestToken(
        entry,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: pending.redirectUri,
          code_verifier: pending.codeVerifier,
        },
        http(traceId),
      );
      if (!outcome.ok) {
        throw new IntegrationError(
          'connect_failed',
          `The token endpoint of ${entry.key} refused the code (${outcome.error})`,
          { traceId },
        );
      }
      const { tokens } = outcome;
      const scopes = tokens.scopes.length > 0 ? tokens.scopes : pending.scopes;
      const creds: StoredCredentials = {
        type: 'oauth2',
        accessToken: tokens.accessToken,
        tokenType: tokens.tokenType,
        refreshToken: tokens.refreshToken,
        scopes,
      };
      const stored = await storeCall('connection write', traceId, () =>
        store.put({
          integration: pending.integration,
          id: pending.connectionId,
          orgId: pending.orgId,
          status: 'active',
          metadata: {
            ...tokens.metadata,
            authType: 'oauth2',
            scopes: [...scopes],
            connectedBy: pending.userId,
          },
          credentials: seal(pending.integration, pending.connectionId, creds),
          expiresAt: tokens.expiresAt === null ? null : new Date(tokens.expiresAt),
        }),
      );
      const key = keyOf(stored.integration, stored.id);
      remember(key, tokenOf(creds, stored.expiresAt), stored.orgId);
      return toInfo(stored);
    },

    async saveCredentials(o: SaveCredentialsOptions): Promise<ConnectionInfo> {
      const traceId = newTraceId();
      entryFor(o.integration, traceId);
      const c = o.credentials;
      const creds: StoredCredentials =
        c?.type === 'api_key' && typeof c.apiKey === 'string' && c.apiKey !== ''
          ? { type: 'api_key', apiKey: c.apiKey, ...(c.tokenType ? { tokenType: c.tokenType } : {}) }
          : c?.type === 'basic' &&
              typeof c.username === 'string' &&
              typeof c.password === 'string' &&
              c.password !== ''
            ? { type: 'basic', username: c.username, password: c.password }
            : (() => {
                throw new TypeError(
                  'connect.saveCredentials: credentials must be { type: "api_key", apiKey } or { type: "basic", username, password }',
                );
              })();
      const stored = await storeCall('connection write', traceId, () =>
        store.put({
          integration: o.integration,
          id: o.connectionId,
          orgId: o.orgId,
          status: 'active',
          metadata: {
            ...(o.metadata ?? {}),
            authType: creds.type,
            scopes: [],
            ...(o.userId ? { connectedBy: o.userId } : {}),
          },
          credentials: seal(o.integration, o.connectionId, creds),
          expiresAt: null,
        }),
      );
      cache.delete(keyOf(stored.integration, stored.id));
      return toInfo(stored);
    },
  });

  return Object.freeze({
    provider: 'first-party',
    connect,
    getToken,
    async getConnection(ref: ConnectionRef): Promise<ConnectionInfo> {
      const traceId = newTraceId();
      checkRef(ref);
      entryFor(ref.integration, traceId);
      return toInfo(await load(ref, traceId));
    },
    async listConnections(filter: ConnectionFilter = {}): Promise<ConnectionInfo[]> {
      const traceId = newTraceId();
      const rows = await storeCall('connection list', traceId, () =>
        store.list({
          ...(filter.orgId !== undefined ? { orgId: filter.orgId } : {}),
          ...(filter.integration !== undefined ? { integration: filter.integration } : {}),
        }),
      );
      return rows.filter((r) => r.integration !== CONNECT_STATE_INTEGRATION).map(toInfo);
    },
    async deleteConnection(ref: ConnectionRef): Promise<boolean> {
      const traceId = newTraceId();
      checkRef(ref);
      const key = keyOf(ref.integration, ref.connectionId);
      if (ref.orgId !== undefined) {
        const record = await storeCall('connection lookup', traceId, () =>
          store.get(ref.integration, ref.connectionId),
        );
        if (!record || record.orgId !== ref.orgId) return false;
      }
      cache.delete(key);
      return storeCall('connection delete', traceId, () => store.delete(ref.integration, ref.connectionId));
    },
    async resealAll(): Promise<number> {
      const traceId = newTraceId();
      const rows = await storeCall('connection list', traceId, () => store.list({}));
      let rewritten = 0;
      for (const row of rows) {
        if (row.credentials === null || keyring.keyIdOf(row.credentials) === keyring.currentKeyId) continue;
        const plaintext = keyring.open(row.credentials, context(row.integration, row.id));
        const result = await storeCall('connection write', traceId, () =>
          store.compareAndSet(
            inputOf(row, { credentials: keyring.seal(plaintext, context(row.integration, row.id)) }),
            row.version,
          ),
        );
        if (result.ok) rewritten++;
      }
      return rewritten;
    },
    async close(): Promise<void> {
      cache.clear();
    },
  });
}

function inputOf(
  record: ConnectionRecord,
  change: Partial<Omit<ConnectionRecord, 'version' | 'createdAt' | 'updatedAt'>>,
) {
  return {
    integration: record.integration,
    id: record.id,
    orgId: record.orgId,
    status: record.status,
    metadata: record.metadata,
    credentials: record.credentials,
    expiresAt: record.expiresAt,
    ...change,
  };
}

function checkRef(ref: ConnectionRef): void {
  if (
    !ref ||
    typeof ref.integration !== 'string' ||
    ref.integration === '' ||
    typeof ref.connectionId !== 'string' ||
    ref.connectionId === ''
  ) {
    throw new TypeError('ref must be { integration, connectionId } with non-empty strings');
  }
  if (ref.orgId !== undefined && typeof ref.orgId !== 'string')
    throw new TypeError('ref.orgId must be a string');
}
