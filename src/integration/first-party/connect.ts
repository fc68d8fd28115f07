// The first-party connect flow: OAuth authorization code with PKCE (S256) and a single-use state, or
// static credentials. The pending flow (org, user, redirect, verifier) is kept server-side, sealed, in
// the connection store; the callback must come back to the same redirect URI, within the TTL, in a
// session of the same org and user. Every connection it writes is keyed by its org.
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors';
import { newTraceId } from '../../core/trace';
import type { ConnectionKey } from '../../stores/contracts';
import { IntegrationError } from '../errors';
import type { ConnectionInfo } from '../types';
import type { AdapterContext } from './context';
import type { StoredCredentials } from './credentials';
import { requestToken, safeCode } from './oauth';
import { openFor, sealFor } from './sealing';
import type {
  ConnectApi,
  ConnectFinishOptions,
  ConnectStart,
  ConnectStartOptions,
  SaveCredentialsOptions,
} from './types';

/**
 * Pending connect states live in the same store, org-less, under an integration name no catalog key
 * can take (`authplane:` is reserved).
 *
 * @example
 * ```ts
 * await store.list({ integration: CONNECT_STATE_INTEGRATION }); // flows started and not yet finished
 * ```
 */
export const CONNECT_STATE_INTEGRATION = 'authplane:connect-state';

interface PendingConnect {
  readonly integration: string;
  readonly connectionId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  readonly scopes: readonly string[];
}

const stateKey = (state: string): ConnectionKey => ({
  orgId: null,
  integration: CONNECT_STATE_INTEGRATION,
  id: createHash('sha256').update(state).digest('base64url'),
});
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

function parsePending(text: string): PendingConnect | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const fields = ['integration', 'connectionId', 'orgId', 'userId', 'redirectUri', 'codeVerifier'] as const;
  if (!v || typeof v !== 'object' || !fields.every((f) => nonEmpty(v[f])) || !Array.isArray(v.scopes)) {
    return null;
  }
  return v as unknown as PendingConnect;
}

/**
 * The connect API of one adapter.
 *
 * @internal
 * @example
 * ```ts
 * const connect = createConnectApi(ctx);
 * ```
 */
export function createConnectApi(ctx: AdapterContext): ConnectApi {
  const { store, keyring, clock } = ctx.options;
  let lastPurge = 0;

  const purgeStates = async () => {
    const now = clock();
    if (now - lastPurge < 60_000) return;
    lastPurge = now;
    const pending = await store.list({ integration: CONNECT_STATE_INTEGRATION });
    for (const p of pending) {
      if (p.expiresAt && p.expiresAt.getTime() <= now) await store.delete(p);
    }
  };

  const stateInvalid = (traceId: string, why: string) =>
    new IntegrationError('state_invalid', `The connect callback was refused: ${why}`, { traceId });

  return Object.freeze({
    async start(o: ConnectStartOptions): Promise<ConnectStart> {
      const traceId = newTraceId();
      for (const field of ['integration', 'orgId', 'userId', 'redirectUri'] as const) {
        if (!nonEmpty(o?.[field])) throw new TypeError(`connect.start: ${field} is required`);
      }
      if (o.connectionId !== undefined && !nonEmpty(o.connectionId)) {
        throw new TypeError('connect.start: connectionId must be a non-empty string');
      }
      const entry = ctx.entryFor(o.integration, traceId);
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
      const expiresAt = new Date(clock() + ctx.options.stateTtlMs);
      const key = stateKey(state);
      await ctx.storeCall('connect state write', traceId, async () => {
        await purgeStates();
        await store.put({
          ...key,
          status: 'active',
          metadata: {},
          credentials: sealFor(keyring, key, JSON.stringify(pending)),
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

    async finish(callbackUrl: string | URL, expected: ConnectFinishOptions): Promise<ConnectionInfo> {
      // The org and user of the finishing session are not optional: without them any session could
      // complete a flow another one started (the attacker's grant lands in the victim's org, or back).
      if (!expected || !nonEmpty(expected.orgId) || !nonEmpty(expected.userId)) {
        throw new TypeError(
          'connect.finish: pass { orgId, userId } of the session the callback arrived in; the flow is bound to them',
        );
      }
      const traceId = newTraceId();
      const callback = new URL(callbackUrl);
      const state = callback.searchParams.get('state');
      if (!state) throw stateInvalid(traceId, 'no state');
      const key = stateKey(state);
      const record = await ctx.storeCall('connect state lookup', traceId, () => store.get(key));
      if (!record) throw stateInvalid(traceId, 'unknown or already used state');
      // Single use across instances: only the caller whose delete removed the row may continue.
      const consumed = await ctx.storeCall('connect state delete', traceId, () => store.delete(key));
      if (!consumed) throw stateInvalid(traceId, 'unknown or already used state');
      if (!record.expiresAt || record.expiresAt.getTime() <= clock())
        throw stateInvalid(traceId, 'expired state');
      let pending: PendingConnect | null;
      try {
        pending = parsePending(openFor(keyring, key, record.credentials ?? ''));
      } catch (cause) {
        throw new IntegrationError('state_invalid', 'The connect state cannot be read', { cause, traceId });
      }
      if (!pending) throw stateInvalid(traceId, 'the stored state is not in a known shape');
      const registered = new URL(pending.redirectUri);
      if (callback.origin !== registered.origin || callback.pathname !== registered.pathname) {
        throw stateInvalid(traceId, 'the callback is not the redirect URI the flow started with');
      }
      if (expected.orgId !== pending.orgId)
        throw stateInvalid(traceId, 'the flow was started for another org');
      if (expected.userId !== pending.userId) {
        throw stateInvalid(traceId, 'the flow was started by another user');
      }
      const error = callback.searchParams.get('error');
      if (error !== null) {
        throw new IntegrationError('connect_failed', `The authorization server answered ${safeCode(error)}`, {
          traceId,
        });
      }
      const code = callback.searchParams.get('code');
      if (!code) {
        throw new IntegrationError('connect_failed', 'The callback carries no authorization code', {
          traceId,
        });
      }
      const entry = ctx.entryFor(pending.integration, traceId);
      const outcome = await requestToken(
        entry,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: pending.redirectUri,
          code_verifier: pending.codeVerifier,
        },
        ctx.http(traceId),
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
      const target: ConnectionKey = {
        orgId: pending.orgId,
        integration: pending.integration,
        id: pending.connectionId,
      };
      const stored = await ctx.storeCall('connection write', traceId, () =>
        store.put({
          ...target,
          status: 'active',
          metadata: {
            ...tokens.metadata,
            authType: 'oauth2',
            scopes: [...scopes],
            connectedBy: pending.userId,
          },
          credentials: sealFor(keyring, target, JSON.stringify(creds)),
          expiresAt: tokens.expiresAt === null ? null : new Date(tokens.expiresAt),
        }),
      );
      ctx.remember(target, ctx.tokenOf(creds, stored.expiresAt));
      return ctx.toInfo(stored);
    },

    async saveCredentials(o: SaveCredentialsOptions): Promise<ConnectionInfo> {
      const traceId = newTraceId();
      for (const field of ['integration', 'orgId', 'connectionId'] as const) {
        if (!nonEmpty(o?.[field])) throw new TypeError(`connect.saveCredentials: ${field} is required`);
      }
      ctx.entryFor(o.integration, traceId);
      const c = o.credentials;
      const creds: StoredCredentials =
        c?.type === 'api_key' && nonEmpty(c.apiKey)
          ? { type: 'api_key', apiKey: c.apiKey, ...(c.tokenType ? { tokenType: c.tokenType } : {}) }
          : c?.type === 'basic' && typeof c.username === 'string' && nonEmpty(c.password)
            ? { type: 'basic', username: c.username, password: c.password }
            : (() => {
                throw new TypeError(
                  'connect.saveCredentials: credentials must be { type: "api_key", apiKey } or { type: "basic", username, password }',
                );
              })();
      const target: ConnectionKey = { orgId: o.orgId, integration: o.integration, id: o.connectionId };
      const stored = await ctx.storeCall('connection write', traceId, () =>
        store.put({
          ...target,
          status: 'active',
          metadata: {
            ...(o.metadata ?? {}),
            authType: creds.type,
            scopes: [],
            ...(o.userId ? { connectedBy: o.userId } : {}),
          },
          credentials: sealFor(keyring, target, JSON.stringify(creds)),
          expiresAt: null,
        }),
      );
      ctx.forget(target);
      return ctx.toInfo(stored);
    },
  });
}
