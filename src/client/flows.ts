// Everything that talks OAuth, through openid-client. The token manager imports this module lazily:
// a command that only reads a fresh session (`authplane token`) never loads openid-client.
import * as client from 'openid-client';
import { ClientError } from './errors';
import { startLoopbackListener } from './loopback';
import { defaultOpen } from './opener';
import type { SessionUser, StoredSession } from './types';

/** What the flows need from the validated manager options. */
export interface FlowSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string | undefined;
  readonly fetch: typeof fetch | undefined;
  readonly clock: () => number;
  readonly allowInsecureRequests: boolean;
  readonly timeoutMs: number;
  readonly redirectUri: URL;
  /** OIDC `login_hint`, sent with browser and device logins when set. */
  readonly loginHint: string | undefined;
}

/**
 * What `onCode` receives in the device flow: show `userCode` and `verificationUri` to the user (or
 * `verificationUriComplete`, which carries the code, e.g. as a QR code).
 *
 * @example
 * ```ts
 * await tokens.login({ flow: 'device', onCode: ({ userCode, verificationUri }) => console.error(`${verificationUri}: ${userCode}`) });
 * ```
 */
export interface DeviceCodePrompt {
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete?: string;
  /** Seconds until the code expires. */
  readonly expiresIn: number;
}

/**
 * Options of a browser login (Authorization Code + PKCE through a loopback redirect).
 *
 * @example
 * ```ts
 * await tokens.login({ flow: 'browser', open: (url) => console.error(`open ${url}`), timeoutMs: 120_000 });
 * ```
 */
export interface BrowserLoginOptions {
  readonly flow: 'browser';
  /** Shows the authorization URL to the user. Default: print it to stderr and start the platform's opener. */
  readonly open?: (url: string) => void | Promise<void>;
  /** How long to wait for the browser to come back, in ms. Default 300 000 (5 minutes). */
  readonly timeoutMs?: number;
  /** Cancels the login (for example on Ctrl+C). */
  readonly signal?: AbortSignal;
}

/**
 * Options of a device login (RFC 8628), for SSH sessions and headless shells.
 *
 * @example
 * ```ts
 * await tokens.login({ flow: 'device', onCode: ({ verificationUriComplete }) => showQrCode(verificationUriComplete) });
 * ```
 */
export interface DeviceLoginOptions {
  readonly flow: 'device';
  /** Shows the user code and the verification URL. Default: print them to stderr. */
  readonly onCode?: (prompt: DeviceCodePrompt) => void | Promise<void>;
  /** Cancels the login (for example on Ctrl+C). */
  readonly signal?: AbortSignal;
}

/**
 * How to log in: in the browser (default) or with a device code.
 *
 * @example
 * ```ts
 * const options: LoginOptions = process.env.SSH_CONNECTION ? { flow: 'device' } : { flow: 'browser' };
 * ```
 */
export type LoginOptions = BrowserLoginOptions | DeviceLoginOptions;

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

const DEFAULT_BROWSER_TIMEOUT_MS = 300_000;

function oauthError(err: unknown): { error: string; status: number } | undefined {
  if (err instanceof client.ResponseBodyError) return { error: err.error, status: err.status };
  return undefined;
}

/** Network failures, timeouts and 5xx answers: the issuer is unavailable, nothing is wrong with the session. */
function isUnavailable(err: unknown): boolean {
  const oauth = oauthError(err);
  if (oauth) return oauth.status >= 500;
  if (err instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof Response) return cause.status >= 500;
  return false;
}

function unavailable(what: string, err: unknown): ClientError {
  return new ClientError('provider_unavailable', `${what}: the issuer is unavailable (${describe(err)})`, {
    cause: err,
  });
}

/** A short, credential-free description of a lower-level error. */
function describe(err: unknown): string {
  const oauth = oauthError(err);
  if (oauth) return `${oauth.error}, HTTP ${oauth.status}`;
  const code = (err as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

function insecureAllowed(settings: FlowSettings): client.DiscoveryRequestOptions {
  return {
    ...(settings.allowInsecureRequests ? { execute: [client.allowInsecureRequests] } : {}),
    ...(settings.fetch ? { [client.customFetch]: settings.fetch as client.CustomFetch } : {}),
    timeout: Math.max(1, Math.ceil(settings.timeoutMs / 1000)),
  };
}

/**
 * Discovers the issuer (OpenID Connect discovery, then RFC 8414) and returns the client configuration.
 *
 * @example
 * ```ts
 * const config = await discover(settings);
 * ```
 */
export async function discover(settings: FlowSettings): Promise<client.Configuration> {
  try {
    return await client.discovery(
      new URL(settings.issuer),
      settings.clientId,
      undefined,
      client.None(),
      insecureAllowed(settings),
    );
  } catch (err) {
    if (isUnavailable(err) || oauthError(err) === undefined) throw unavailable('discovery failed', err);
    throw new ClientError('provider_unavailable', `discovery failed (${describe(err)})`, { cause: err });
  }
}

function resourceParams(settings: FlowSettings): Record<string, string> {
  return settings.resource ? { resource: settings.resource } : {};
}

function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Turns a token response into a session. Who the user is comes from the ID token (validated by
 * openid-client) and, for `org_id`, from the access token's payload (decoded for display only: the
 * API verifies it). A response without a new refresh token keeps the previous one.
 */
export function toSession(settings: FlowSettings, tokens: Tokens, previous?: StoredSession): StoredSession {
  const now = Math.floor(settings.clock() / 1000);
  const idClaims = tokens.id_token ? (tokens.claims() as Record<string, unknown> | undefined) : undefined;
  const atClaims = decodeJwtPayload(tokens.access_token);
  const pick = (name: string) => str(idClaims?.[name]) ?? str(atClaims?.[name]);
  const subject = pick('sub') ?? previous?.user.subject ?? 'unknown';
  const email = pick('email') ?? previous?.user.email;
  const name = pick('name') ?? previous?.user.name;
  const orgId = pick('org_id') ?? previous?.user.orgId;
  const user: SessionUser = {
    subject,
    ...(email ? { email } : {}),
    ...(name ? { name } : {}),
    ...(orgId ? { orgId } : {}),
  };
  const atExp =
    typeof atClaims?.exp === 'number' && typeof atClaims.iat === 'number'
      ? atClaims.exp - atClaims.iat
      : undefined;
  // expires_in is relative, so it is right whatever the skew between our clock and the issuer's.
  const lifetime = tokens.expires_in ?? atExp ?? 300;
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  const scope = tokens.scope ?? previous?.scope;
  return {
    version: 1,
    issuer: settings.issuer,
    clientId: settings.clientId,
    accessToken: tokens.access_token,
    tokenType: (tokens.token_type ?? 'bearer').toLowerCase(),
    expiresAt: now + lifetime,
    obtainedAt: now,
    ...(refreshToken ? { refreshToken } : {}),
    ...(scope ? { scope } : {}),
    user,
  };
}

/**
 * Refreshes a session with its refresh token. `invalid_grant` becomes `session_invalidated` (the
 * caller has re-read the storage under the lock, so the token it used is the newest one there is).
 */
export async function refresh(
  settings: FlowSettings,
  config: client.Configuration,
  session: StoredSession,
): Promise<StoredSession> {
  if (!session.refreshToken) {
    throw new ClientError('not_logged_in', 'the session expired and has no refresh token: log in again');
  }
  try {
    const tokens = await client.refreshTokenGrant(config, session.refreshToken, resourceParams(settings));
    return toSession(settings, tokens, session);
  } catch (err) {
    const oauth = oauthError(err);
    if (oauth?.error === 'invalid_grant') {
      throw new ClientError(
        'session_invalidated',
        'the issuer ended this session (refresh token revoked or expired): log in again',
        { cause: err },
      );
    }
    if (isUnavailable(err)) throw unavailable('refresh failed', err);
    throw new ClientError(
      'provider_unavailable',
      `refresh failed: the issuer refused it (${describe(err)})`,
      {
        cause: err,
      },
    );
  }
}

/** Revokes a token (RFC 7009). Errors are ClientErrors; the caller decides whether they matter. */
export async function revoke(config: client.Configuration, token: string, hint: string): Promise<void> {
  try {
    await client.tokenRevocation(config, token, { token_type_hint: hint });
  } catch (err) {
    if (isUnavailable(err)) throw unavailable('revocation failed', err);
    throw new ClientError('provider_unavailable', `revocation failed (${describe(err)})`, { cause: err });
  }
}

function abortError(signal: AbortSignal | undefined): ClientError | undefined {
  return signal?.aborted ? new ClientError('login_failed', 'the login was cancelled') : undefined;
}

function htmlPage(ok: boolean, message: string): string {
  const title = ok ? 'Signed in' : 'Sign-in failed';
  const escaped = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32em;margin:4em auto;color:#222}</style></head><body><h1>${title}</h1><p>${escaped}</p></body></html>`;
}

/** An OAuth error code or description from a callback, made safe to print (no control characters, short). */
function clean(value: string | null): string {
  return (value ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
}

/**
 * Authorization Code + PKCE (S256) + state through a loopback redirect on 127.0.0.1 (RFC 8252): the
 * listener takes exactly one request on the redirect path carrying this login's `state` (other paths
 * get 404), then closes. A callback with a wrong or missing state gets an error page and is ignored
 * (its code never used); the login keeps waiting for its own callback until `timeoutMs`.
 */
export async function browserLogin(
  settings: FlowSettings,
  config: client.Configuration,
  options: BrowserLoginOptions,
): Promise<StoredSession> {
  const methods = config.serverMetadata().code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new ClientError(
      'login_failed',
      'the issuer does not support PKCE with S256; refusing to log in without it',
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_BROWSER_TIMEOUT_MS;
  const cancelled = abortError(options.signal);
  if (cancelled) throw cancelled;

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  // A callback without this login's state (another local process, an attacker's link, a stale tab)
  // gets an error page and is ignored: it never ends the login, which waits for its own callback.
  const listener = await startLoopbackListener(settings.redirectUri, {
    refuse: (url) =>
      url.searchParams.get('state') === state
        ? undefined
        : htmlPage(
            false,
            url.searchParams.has('state')
              ? 'This sign-in response is not from the login in progress (wrong state). It was ignored; you can close this window.'
              : 'This sign-in response carries no state. It was ignored; you can close this window.',
          ),
  });
  try {
    const params: Record<string, string> = {
      redirect_uri: listener.redirectUri,
      scope: settings.scopes.join(' '),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...resourceParams(settings),
      ...(settings.loginHint === undefined ? {} : { login_hint: settings.loginHint }),
    };
    // OIDC Core §11: a refresh token for offline_access is only issued after explicit consent.
    if (settings.scopes.includes('offline_access')) params.prompt = 'consent';
    const url = client.buildAuthorizationUrl(config, params).href;

    const callback = listener.next(timeoutMs, options.signal);
    // `open` runs beside the wait: an opener that only resolves once the page loaded (a test's user
    // agent) must not block the callback it triggers. An opener that throws ends the login.
    const opening = Promise.resolve()
      .then(() => (options.open ?? defaultOpen)(url))
      .then(
        () => new Promise<never>(() => undefined),
        (err: unknown) => {
          throw new ClientError('login_failed', 'could not show the login page (open failed)', {
            cause: err,
          });
        },
      );
    const { url: callbackUrl, respond } = await Promise.race([callback, opening]);

    const fail = async (message: string, cause?: unknown): Promise<never> => {
      await respond(400, htmlPage(false, `${message} You can close this window.`));
      throw new ClientError('login_failed', `login failed: ${message}`, { cause });
    };
    const params2 = callbackUrl.searchParams;
    if (params2.get('state') !== state) {
      return await fail(
        params2.has('state')
          ? 'the callback carried the wrong state (not from this login: possible CSRF or code injection).'
          : 'the callback carried no state (not from this login: possible CSRF or code injection).',
      );
    }
    if (params2.has('error')) {
      const description = clean(params2.get('error_description'));
      return await fail(
        `the issuer answered ${clean(params2.get('error'))}${description ? `: ${description}` : ''}.`,
      );
    }
    let tokens: Tokens;
    try {
      // Checks state again and the RFC 9207 `iss` parameter, sends the PKCE verifier.
      tokens = await client.authorizationCodeGrant(
        config,
        callbackUrl,
        { pkceCodeVerifier: verifier, expectedState: state },
        resourceParams(settings),
      );
    } catch (err) {
      if (isUnavailable(err)) {
        await respond(502, htmlPage(false, 'The issuer could not be reached. You can close this window.'));
        throw unavailable('login failed', err);
      }
      const oauth = oauthError(err);
      const why = oauth
        ? `the issuer refused the code (${oauth.error}).`
        : `the authorization response was rejected (${describe(err)}).`;
      return await fail(why, err);
    }
    const session = toSession(settings, tokens);
    await respond(
      200,
      htmlPage(true, 'You are signed in. You can close this window and return to the terminal.'),
    );
    return session;
  } finally {
    await listener.close();
  }
}

/**
 * The device authorization grant (RFC 8628). openid-client polls at the server's `interval` (5 s when
 * absent) and adds 5 s on every `slow_down`; `access_denied` and `expired_token` end the login.
 */
export async function deviceLogin(
  settings: FlowSettings,
  config: client.Configuration,
  options: DeviceLoginOptions,
): Promise<StoredSession> {
  const cancelled = abortError(options.signal);
  if (cancelled) throw cancelled;
  let da: client.DeviceAuthorizationResponse;
  try {
    da = await client.initiateDeviceAuthorization(config, {
      scope: settings.scopes.join(' '),
      ...resourceParams(settings),
      ...(settings.loginHint === undefined ? {} : { login_hint: settings.loginHint }),
    });
  } catch (err) {
    if (isUnavailable(err)) throw unavailable('device authorization failed', err);
    throw new ClientError('login_failed', `device authorization failed (${describe(err)})`, { cause: err });
  }
  const prompt: DeviceCodePrompt = {
    userCode: da.user_code,
    verificationUri: da.verification_uri,
    ...(da.verification_uri_complete ? { verificationUriComplete: da.verification_uri_complete } : {}),
    expiresIn: da.expires_in,
  };
  await (options.onCode ?? defaultOnCode)(prompt);

  const expiry = AbortSignal.timeout(da.expires_in * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, expiry]) : expiry;
  try {
    const tokens = await client.pollDeviceAuthorizationGrant(config, da, resourceParams(settings), {
      signal,
    });
    return toSession(settings, tokens);
  } catch (err) {
    if (options.signal?.aborted)
      throw new ClientError('login_failed', 'the login was cancelled', { cause: err });
    if (expiry.aborted)
      throw new ClientError('login_timeout', 'the device code expired before it was approved', {
        cause: err,
      });
    const oauth = oauthError(err);
    if (oauth?.error === 'access_denied') {
      throw new ClientError('login_failed', 'the login was denied on the verification page', { cause: err });
    }
    if (oauth?.error === 'expired_token') {
      throw new ClientError('login_timeout', 'the device code expired before it was approved', {
        cause: err,
      });
    }
    if (isUnavailable(err)) throw unavailable('device login failed', err);
    throw new ClientError('login_failed', `device login failed (${describe(err)})`, { cause: err });
  }
}

function defaultOnCode(prompt: DeviceCodePrompt): void {
  process.stderr.write(
    `To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}` +
      `${prompt.verificationUriComplete ? `\n(or open ${prompt.verificationUriComplete})` : ''}\n`,
  );
}
