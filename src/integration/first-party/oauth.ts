// Token-endpoint calls (RFC 6749 §4.1.3 code exchange, §6 refresh) with a timeout and an abort
// signal on every request. Outcomes are values: a token set, a refused grant (the caller decides
// between re-reading the store and `connection_needs_reauth`), or a thrown `provider_unavailable`.
import type { ResolvedIntegration } from '../catalog';
import { IntegrationError } from '../errors';

/**
 * What a token endpoint returned, normalised. Secrets stay in here and in the encrypted blob only.
 *
 * @example
 * ```ts
 * const outcome = await requestToken(entry, { grant_type: 'refresh_token', refresh_token }, http);
 * if (outcome.ok) outcome.tokens.accessToken;
 * ```
 */
export interface TokenSet {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly refreshToken: string | null;
  /** Epoch ms, or null when the token does not expire. */
  readonly expiresAt: number | null;
  readonly scopes: readonly string[];
  /** Non-secret facts worth keeping as metadata (Slack team and bot ids). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * The result of one token request.
 *
 * @example
 * ```ts
 * if (!outcome.ok && outcome.grantInvalid) await rereadBeforeReauth();
 * ```
 */
export type TokenOutcome =
  | { readonly ok: true; readonly tokens: TokenSet }
  | { readonly ok: false; readonly grantInvalid: boolean; readonly error: string };

/**
 * The network seams of a token request.
 *
 * @example
 * ```ts
 * const http: TokenHttp = { fetch: globalThis.fetch, timeoutMs: 10_000, clock: Date.now };
 * ```
 */
export interface TokenHttp {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly clock: () => number;
  readonly traceId?: string;
}

const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** An error code from a remote server, only when it is a short identifier (never echo free text). */
export const safeCode = (value: unknown): string =>
  typeof value === 'string' && SAFE_CODE.test(value) ? value : 'unknown_error';

/**
 * One POST to the integration's token endpoint, authenticated as the configured OAuth client.
 *
 * @throws IntegrationError `provider_unavailable` on a timeout, a network error, a 5xx/429, a non-JSON
 * answer or a success without an access token.
 * @example
 * ```ts
 * await requestToken(entry, { grant_type: 'authorization_code', code, redirect_uri, code_verifier }, http);
 * ```
 */
export async function requestToken(
  entry: ResolvedIntegration,
  params: Record<string, string>,
  http: TokenHttp,
): Promise<TokenOutcome> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (entry.clientId !== null) {
    if (entry.tokenEndpointAuthMethod === 'client_secret_basic' && entry.clientSecret !== null) {
      headers.authorization = basicAuth(entry.clientId, entry.clientSecret);
    } else {
      body.set('client_id', entry.clientId);
      if (entry.clientSecret !== null) body.set('client_secret', entry.clientSecret);
    }
  }
  const unavailable = (detail: string, cause?: unknown, retryAfterSec?: number) =>
    new IntegrationError('provider_unavailable', `The token endpoint of ${entry.key} ${detail}`, {
      cause,
      traceId: http.traceId,
      retryAfterSec,
    });

  let status: number;
  let json: Record<string, unknown> | null;
  let retryAfter: string | null = null;
  const signal = AbortSignal.timeout(http.timeoutMs);
  try {
    const res = await http.fetch(entry.tokenEndpoint, {
      method: 'POST',
      headers,
      body,
      signal,
      redirect: 'error',
    });
    status = res.status;
    retryAfter = res.headers.get('retry-after');
    // The same signal bounds the body: a server that sends headers and then stalls still times out.
    const text = await res.text();
    json = parseObject(text);
  } catch (cause) {
    if (signal.aborted) throw unavailable(`did not answer within ${http.timeoutMs} ms`, cause);
    throw unavailable('could not be reached', cause);
  }
  const retryAfterSec = retryAfter && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) : undefined;
  if (status >= 500 || status === 429) throw unavailable(`failed (HTTP ${status})`, undefined, retryAfterSec);
  if (!json) throw unavailable(`answered with a body that is not a JSON object (HTTP ${status})`);

  const slackRefused = entry.tokenResponse === 'slack' && json.ok === false;
  if (typeof json.error === 'string' || slackRefused) {
    const error = safeCode(json.error);
    const grantInvalid = error === 'invalid_grant' || entry.reauthErrors.includes(error);
    return { ok: false, grantInvalid, error };
  }
  if (status < 200 || status >= 300) return { ok: false, grantInvalid: false, error: `http_${status}` };
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    throw unavailable(`answered HTTP ${status} without an access token`);
  }
  return { ok: true, tokens: toTokenSet(entry, json, http.clock()) };
}

function toTokenSet(entry: ResolvedIntegration, json: Record<string, unknown>, now: number): TokenSet {
  const expiresIn = Number(json.expires_in);
  const rawType = typeof json.token_type === 'string' ? json.token_type : 'Bearer';
  // Slack says `bot`/`user`, GitHub `bearer`: every one of them is sent as a Bearer token.
  const tokenType = /^(bearer|bot|user)$/i.test(rawType) ? 'Bearer' : rawType;
  const metadata: Record<string, unknown> = {};
  if (entry.tokenResponse === 'slack') {
    const team = json.team as { id?: unknown; name?: unknown } | undefined;
    if (typeof team?.id === 'string') metadata.teamId = team.id;
    if (typeof team?.name === 'string') metadata.teamName = team.name;
    if (typeof json.bot_user_id === 'string') metadata.botUserId = json.bot_user_id;
    if (typeof json.app_id === 'string') metadata.appId = json.app_id;
  }
  return {
    accessToken: json.access_token as string,
    tokenType,
    refreshToken:
      typeof json.refresh_token === 'string' && json.refresh_token !== '' ? json.refresh_token : null,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : null,
    scopes: typeof json.scope === 'string' ? json.scope.split(/[\s,]+/).filter(Boolean) : [],
    metadata,
  };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64. */
function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}
