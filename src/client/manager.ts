import type { Configuration } from 'openid-client';
import { ConfigError } from '../core/errors';
import { ClientError, type ClientErrorCode, isClientError } from './errors';
import type { FlowSettings, LoginOptions } from './flows';
import type { SessionStorage, SessionUser, StoredSession } from './types';

/**
 * Options of `createTokenManager`, validated once.
 *
 * @example
 * ```ts
 * const tokens = createTokenManager({
 *   issuer: 'https://id.example.com', clientId: 'mycli', scopes: ['openid', 'offline_access', 'read'],
 *   resource: 'https://api.example.com', storage: createEncryptedFileStorage({ path }),
 * });
 * ```
 */
export interface TokenManagerOptions {
  /** The issuer URL (discovery). https, or http on loopback with `allowInsecureRequests`. */
  readonly issuer: string;
  /** A public (native) client: no secret, PKCE. */
  readonly clientId: string;
  /** Scopes to request, an array or a space-separated string. Default `openid offline_access`
   * (`offline_access` is what yields a refresh token: leave it in to stay logged in). */
  readonly scopes?: readonly string[] | string;
  /** RFC 8707 resource indicator (the API's audience), sent with every authorization and token request. */
  readonly resource?: string;
  /**
   * OIDC `login_hint` sent with every login (browser and device): which account to sign in as, e.g.
   * a dev issuer user id (`'carol'`) or an email. The issuer decides what it does with it.
   */
  readonly loginHint?: string;
  /** Where the session lives: `createEncryptedFileStorage` or `createMemoryStorage`. */
  readonly storage: SessionStorage;
  /** fetch for the issuer and for `manager.fetch`. Default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`; tests move it forward to reach expiry. */
  readonly clock?: () => number;
  /** Allows a plain-http issuer, only on loopback (127.0.0.1, ::1, localhost): the dev issuer. */
  readonly allowInsecureRequests?: boolean;
  /** Refresh this many seconds before the access token expires (at most half its lifetime). Default 60. */
  readonly refreshSkewSec?: number;
  /** Timeout of each request to the issuer, in ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Loopback redirect URI of the browser flow. Default `http://127.0.0.1/callback` on an ephemeral
   * port; only `http://127.0.0.1[:port]/path` is accepted (RFC 8252 §7.3). */
  readonly redirectUri?: string;
}

/**
 * What `status()` reports. No network request is made; tokens are never included.
 *
 * @example
 * ```ts
 * const s = await tokens.status();
 * if (s.loggedIn) console.log(`${s.user.email ?? s.user.subject} until ${new Date(s.expiresAt * 1000).toISOString()}`);
 * ```
 */
export type SessionStatus =
  | {
      readonly loggedIn: false;
      readonly issuer: string;
      readonly clientId: string;
      readonly storage: string;
    }
  | {
      readonly loggedIn: true;
      readonly issuer: string;
      readonly clientId: string;
      readonly storage: string;
      readonly user: SessionUser;
      /** Access-token expiry, epoch seconds. */
      readonly expiresAt: number;
      /** Whether the current access token is still valid (it is refreshed on demand either way). */
      readonly accessTokenValid: boolean;
      /** Whether the session has a refresh token (it outlives the access token). */
      readonly refreshable: boolean;
      readonly scopes: readonly string[];
    };

/**
 * Why the session ended: `invalidated` (the issuer refused the refresh token: revoked, expired, or
 * reuse detected), `logged_out` (`logout()` here or in another process).
 *
 * @example
 * ```ts
 * tokens.onSessionEnded(({ reason }) => { if (reason === 'invalidated') console.error('Session ended: run `mycli login`'); });
 * ```
 */
export interface SessionEndedEvent {
  readonly reason: 'invalidated' | 'logged_out';
}

/**
 * What `logout()` did. `revoked` is false when there was nothing to revoke or the issuer could not
 * be reached; the local session is deleted either way.
 *
 * @example
 * ```ts
 * const { revoked, revocationError } = await tokens.logout();
 * if (!revoked && revocationError) console.error(`not revoked at the issuer: ${revocationError.message}`);
 * ```
 */
export interface LogoutResult {
  /** Whether there was a session (or an unreadable session file) to delete. */
  readonly loggedOut: boolean;
  /** Whether the refresh token was revoked at the issuer (RFC 7009). */
  readonly revoked: boolean;
  readonly revocationError?: { readonly code: ClientErrorCode; readonly message: string };
}

/**
 * The only way a CLI gets a token. See `createTokenManager`.
 *
 * @example
 * ```ts
 * const res = await tokens.fetch('https://api.example.com/items');
 * ```
 */
export interface TokenManager {
  /** Logs in and stores the session (replacing any previous one); resolves with the new status. */
  login(options?: LoginOptions): Promise<SessionStatus & { loggedIn: true }>;
  /** A valid access token, refreshed when it is about to expire. */
  getAccessToken(): Promise<string>;
  /** fetch with `Authorization: Bearer`; on a 401 refreshes once and retries once (replayable bodies only). */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Revokes the refresh token at the issuer (best effort) and deletes the local session. */
  logout(): Promise<LogoutResult>;
  /** Who is logged in, until when, and where the session is stored. Reads the storage, no network. */
  status(): Promise<SessionStatus>;
  /** Calls `listener` when the session ends; returns a function that removes it. */
  onSessionEnded(listener: (event: SessionEndedEvent) => void): () => void;
}

interface Settings extends FlowSettings {
  readonly storage: SessionStorage;
  readonly refreshSkewSec: number;
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', '[::1]', 'localhost']);
const DEFAULT_SCOPES = Object.freeze(['openid', 'offline_access']);

function integer(path: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(path, `must be an integer >= ${min}`);
  }
  return value;
}

function settingsFrom(options: TokenManagerOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new ConfigError('', 'options are required');
  const { issuer, clientId, storage } = options;
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) throw new ConfigError('issuer', 'must be a URL');
  const issuerUrl = new URL(issuer);
  const loopback = LOOPBACK_HOSTNAMES.has(issuerUrl.hostname);
  const allowInsecureRequests = options.allowInsecureRequests ?? false;
  if (typeof allowInsecureRequests !== 'boolean')
    throw new ConfigError('allowInsecureRequests', 'must be a boolean');
  if (allowInsecureRequests && !loopback) {
    throw new ConfigError(
      'allowInsecureRequests',
      'is only allowed for a loopback issuer (127.0.0.1, ::1, localhost); use https everywhere else',
    );
  }
  if (issuerUrl.protocol === 'http:' && !allowInsecureRequests) {
    throw new ConfigError(
      'issuer',
      loopback
        ? 'is plain http: set allowInsecureRequests for a loopback development issuer'
        : 'must be https (plain http is only allowed on loopback, with allowInsecureRequests)',
    );
  }
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:')
    throw new ConfigError('issuer', 'must be https');
  if (typeof clientId !== 'string' || clientId.trim() === '')
    throw new ConfigError('clientId', 'must be a non-empty string');

  const rawScopes = options.scopes ?? DEFAULT_SCOPES;
  const scopes = typeof rawScopes === 'string' ? rawScopes.split(/\s+/).filter(Boolean) : [...rawScopes];
  if (
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
  ) {
    throw new ConfigError('scopes', 'must be one or more scope tokens');
  }
  const resource = options.resource;
  if (
    resource !== undefined &&
    (typeof resource !== 'string' || !URL.canParse(resource) || resource.includes('#'))
  ) {
    throw new ConfigError('resource', 'must be an absolute URI without a fragment (RFC 8707)');
  }
  const loginHint = options.loginHint;
  if (
    loginHint !== undefined &&
    (typeof loginHint !== 'string' ||
      loginHint === '' ||
      loginHint.length > 256 ||
      ![...loginHint].every((c) => c >= ' ' && c !== '\x7f'))
  ) {
    throw new ConfigError('loginHint', 'must be a non-empty string of at most 256 printable characters');
  }
  if (
    typeof storage !== 'object' ||
    storage === null ||
    !['read', 'write', 'clear', 'withLock'].every(
      (m) => typeof (storage as unknown as Record<string, unknown>)[m] === 'function',
    )
  ) {
    throw new ConfigError(
      'storage',
      'must be a SessionStorage (createEncryptedFileStorage or createMemoryStorage)',
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw new ConfigError('fetch', 'must be a function');
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw new ConfigError('clock', 'must be a function');

  const redirect = options.redirectUri ?? 'http://127.0.0.1/callback';
  if (typeof redirect !== 'string' || !URL.canParse(redirect))
    throw new ConfigError('redirectUri', 'must be a URL');
  const redirectUri = new URL(redirect);
  // RFC 8252 §7.3 / RFC 9700 §4.1: the code must only ever be delivered to this machine, to the IP
  // literal we bind (`localhost` may resolve to another interface; any other host is an open redirect).
  if (
    redirectUri.protocol !== 'http:' ||
    redirectUri.hostname !== '127.0.0.1' ||
    redirectUri.username ||
    redirectUri.password ||
    redirectUri.search ||
    redirectUri.hash
  ) {
    throw new ConfigError(
      'redirectUri',
      'must be http://127.0.0.1[:port]/path: the loopback redirect of a native app',
    );
  }

  return Object.freeze({
    issuer,
    clientId,
    scopes: Object.freeze(scopes),
    resource,
    loginHint,
    storage,
    fetch: options.fetch,
    clock: options.clock ?? Date.now,
    allowInsecureRequests,
    refreshSkewSec: integer('refreshSkewSec', options.refreshSkewSec, 60, 0),
    timeoutMs: integer('timeoutMs', options.timeoutMs, 10_000, 1),
    redirectUri,
  });
}

/** A stream passed in `init.body` is consumed by the first attempt; a Request is cloned instead. */
function hasReplayableBody(init?: RequestInit): boolean {
  return !(init?.body instanceof ReadableStream);
}

/**
 * Creates the token manager of a CLI or desktop tool: it logs the user in (browser with PKCE, or
 * device code), keeps the session in `storage`, hands out fresh access tokens, and ends the session
 * cleanly when the issuer invalidates it.
 *
 * - Refresh happens `refreshSkewSec` before expiry, once per process however many callers wait, and
 *   once across processes: under the storage's lock, the session is re-read and a refresh another
 *   process already made is reused. With refresh-token rotation and reuse detection (oidc-provider,
 *   Auth0, Okta…), concurrent CLI processes therefore never present a rotated-out token.
 * - `invalid_grant` on refresh (after that re-read) means the issuer ended the session: the local
 *   session is deleted, `onSessionEnded` listeners get `{ reason: 'invalidated' }`, the caller gets
 *   `ClientError('session_invalidated')`.
 * - If the issuer is unreachable while the access token is still valid (inside the skew window), that
 *   token is returned; otherwise `provider_unavailable`.
 *
 * @example
 * ```ts
 * import { createEncryptedFileStorage, createTokenManager } from 'authplane/client';
 *
 * const tokens = createTokenManager({
 *   issuer: 'https://id.example.com', clientId: 'mycli',
 *   scopes: 'openid offline_access read', resource: 'https://api.example.com',
 *   storage: createEncryptedFileStorage({ path: `${process.env.HOME}/.config/mycli/session` }),
 * });
 * tokens.onSessionEnded(() => console.error('Your session ended: run `mycli login`'));
 * if (!(await tokens.status()).loggedIn) await tokens.login({ flow: 'browser' });
 * const res = await tokens.fetch('https://api.example.com/items');
 * ```
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const settings = settingsFrom(options);
  const { storage } = settings;
  const listeners = new Set<(event: SessionEndedEvent) => void>();
  const doFetch: typeof fetch = (...args) => (settings.fetch ?? globalThis.fetch)(...args);

  // undefined: not read yet; null: no session.
  let cached: StoredSession | null | undefined;
  let loading: Promise<StoredSession | null> | undefined;
  let refreshing: Promise<StoredSession> | undefined;
  let configuration: Promise<Configuration> | undefined;

  const nowSec = () => Math.floor(settings.clock() / 1000);
  const belongsHere = (s: StoredSession) => s.issuer === settings.issuer && s.clientId === settings.clientId;
  // A short-lived token is not refreshed on every call: the skew is at most half its lifetime.
  const isFresh = (s: StoredSession) =>
    s.expiresAt - nowSec() > Math.min(settings.refreshSkewSec, Math.floor((s.expiresAt - s.obtainedAt) / 2));

  const emit = (event: SessionEndedEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not turn into the caller's error
      }
    }
  };

  const flows = () => import('./flows');
  const config = (): Promise<Configuration> => {
    configuration ??= flows()
      .then((f) => f.discover(settings))
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  };

  const notLoggedIn = (s: StoredSession | null) =>
    new ClientError(
      'not_logged_in',
      s === null
        ? 'not logged in: run `authplane login`'
        : `the stored session belongs to another issuer or client (${s.issuer}): run \`authplane login\``,
    );

  const load = async (): Promise<StoredSession> => {
    if (cached === undefined) {
      loading ??= storage.read().finally(() => {
        loading = undefined;
      });
      const read = await loading;
      if (cached === undefined) cached = read && belongsHere(read) ? read : null;
      if (cached === null) throw notLoggedIn(read);
    }
    if (cached === null) throw notLoggedIn(null);
    return cached;
  };

  /** Single-flight refresh; `rejected` is an access token the API just refused (from `fetch`). */
  const refreshOnce = (rejected?: string): Promise<StoredSession> => {
    refreshing ??= storage
      .withLock(async () => {
        const latest = await storage.read();
        if (latest === null || !belongsHere(latest)) {
          const hadSession = cached !== null && cached !== undefined;
          cached = null;
          if (hadSession) emit({ reason: 'logged_out' });
          throw notLoggedIn(latest);
        }
        // Another process (or an earlier call) refreshed already: use its result, never our old token.
        if (latest.accessToken !== rejected && isFresh(latest)) {
          cached = latest;
          return latest;
        }
        try {
          const f = await flows();
          const next = await f.refresh(settings, await config(), latest);
          await storage.write(next);
          cached = next;
          return next;
        } catch (err) {
          if (isClientError(err, 'session_invalidated')) {
            await storage.clear();
            cached = null;
            emit({ reason: 'invalidated' });
          } else if (
            isClientError(err, 'provider_unavailable') &&
            rejected === undefined &&
            latest.expiresAt > nowSec()
          ) {
            // Issuer down, token still valid for a little while: keep working on it.
            cached = latest;
            return latest;
          }
          throw err;
        }
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  const getAccessToken = async (): Promise<string> => {
    const session = await load();
    if (isFresh(session)) return session.accessToken;
    return (await refreshOnce()).accessToken;
  };

  const statusOf = (s: StoredSession | null): SessionStatus => {
    const base = { issuer: settings.issuer, clientId: settings.clientId, storage: storage.location };
    if (s === null || !belongsHere(s)) return { loggedIn: false, ...base };
    return {
      loggedIn: true,
      ...base,
      user: s.user,
      expiresAt: s.expiresAt,
      accessTokenValid: s.expiresAt > nowSec(),
      refreshable: s.refreshToken !== undefined,
      scopes: s.scope ? s.scope.split(' ').filter(Boolean) : [],
    };
  };

  return Object.freeze({
    async login(loginOptions: LoginOptions = { flow: 'browser' }) {
      const f = await flows();
      const cfg = await config();
      const session =
        loginOptions.flow === 'device'
          ? await f.deviceLogin(settings, cfg, loginOptions)
          : await f.browserLogin(settings, cfg, loginOptions);
      await storage.withLock(async () => {
        await storage.write(session);
        cached = session;
      });
      return statusOf(session) as SessionStatus & { loggedIn: true };
    },

    getAccessToken,

    async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
      const replayable = hasReplayableBody(init);
      const spare = input instanceof Request ? input.clone() : input;
      const send = (request: string | URL | Request, token: string) => {
        const headers = new Headers(
          init?.headers ?? (request instanceof Request ? request.headers : undefined),
        );
        headers.set('authorization', `Bearer ${token}`);
        return doFetch(request, { ...init, headers });
      };
      const token = await getAccessToken();
      const first = await send(input, token);
      if (first.status !== 401 || !replayable) return first;
      await first.body?.cancel().catch(() => undefined);
      const next = await refreshOnce(token);
      return send(spare, next.accessToken);
    },

    async logout(): Promise<LogoutResult> {
      return storage.withLock(async () => {
        let session: StoredSession | null;
        try {
          session = await storage.read();
        } catch (err) {
          if (!isClientError(err, 'session_corrupt')) throw err;
          await storage.clear();
          cached = null;
          return {
            loggedOut: true,
            revoked: false,
            revocationError: { code: err.code, message: 'the session file was unreadable; it was deleted' },
          };
        }
        const hadSession = cached !== null && cached !== undefined;
        cached = null;
        if (session === null || !belongsHere(session)) {
          if (hadSession) emit({ reason: 'logged_out' });
          return { loggedOut: false, revoked: false };
        }
        let revoked = false;
        let revocationError: LogoutResult['revocationError'];
        if (session.refreshToken) {
          try {
            const f = await flows();
            await f.revoke(await config(), session.refreshToken, 'refresh_token');
            revoked = true;
          } catch (err) {
            const e = err instanceof ClientError ? err : new ClientError('provider_unavailable', String(err));
            revocationError = { code: e.code, message: e.message };
          }
        }
        await storage.clear();
        emit({ reason: 'logged_out' });
        return { loggedOut: true, revoked, ...(revocationError ? { revocationError } : {}) };
      });
    },

    async status(): Promise<SessionStatus> {
      const s = await storage.read();
      return statusOf(s);
    },

    onSessionEnded(listener: (event: SessionEndedEvent) => void) {
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  });
}
