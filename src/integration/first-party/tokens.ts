// The token lifecycle of first-party connections: cache, single-flight refresh under the shared lock,
// and the write-back. Every write is a compare-and-set; when it loses, the winner is read: a writer
// that stored another grant (a refresh elsewhere, a reconnect) wins, but a writer that only re-sealed
// or re-labelled the same grant (`resealAll`) never does, so a rotated refresh token is never lost.
import { newTraceId } from '../../core/trace';
import type { ConnectionRecord } from '../../stores/contracts';
import type { ResolvedIntegration } from '../catalog';
import { IntegrationError } from '../errors';
import type { RefreshLock } from '../locks';
import type { ConnectionRef, GetTokenOptions, IntegrationToken } from '../types';
import { type AdapterContext, checkRef, inputOf, keyOfRef } from './context';
import type { StoredCredentials } from './credentials';
import { requestToken, type TokenSet } from './oauth';
import { openCredentials, sealFor } from './sealing';

type OAuthCredentials = Extract<StoredCredentials, { type: 'oauth2' }>;

/** How often a write-back follows a writer that changed nothing of the grant before giving up. */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * `getToken` of the first-party adapter.
 *
 * @internal
 * @example
 * ```ts
 * const getToken = createTokenLifecycle(ctx);
 * const token = await getToken({ integration: 'github', connectionId: 'acme', orgId: 'org_acme' });
 * ```
 */
export function createTokenLifecycle(
  ctx: AdapterContext,
): (ref: ConnectionRef, options?: GetTokenOptions) => Promise<IntegrationToken> {
  const { options } = ctx;
  const { store, keyring, lock, clock } = options;
  const flights = new Map<string, Promise<IntegrationToken>>();

  /** True when `record` still holds exactly the grant `creds` (it was re-sealed or re-labelled only). */
  const holdsSameGrant = (record: ConnectionRecord, creds: OAuthCredentials): boolean => {
    try {
      const theirs = openCredentials(keyring, record);
      return (
        theirs.type === 'oauth2' &&
        theirs.accessToken === creds.accessToken &&
        theirs.refreshToken === creds.refreshToken
      );
    } catch {
      return false;
    }
  };

  const getToken = async (ref: ConnectionRef, opts: GetTokenOptions = {}): Promise<IntegrationToken> => {
    const traceId = newTraceId();
    checkRef(ref);
    const key = keyOfRef(ref);
    if (!opts.forceRefresh) {
      const hit = ctx.cached(key);
      if (hit && ctx.fresh(hit.expiresAt)) return hit;
    }
    const entry = ctx.entryFor(ref.integration, traceId);
    const record = await ctx.load(ref, traceId);
    const creds = ctx.usable(record, ref, traceId);
    if (creds.type !== 'oauth2' || (!opts.forceRefresh && ctx.fresh(record.expiresAt))) {
      const token = ctx.tokenOf(creds, record.expiresAt);
      ctx.remember(key, token);
      return token;
    }
    const flightKey = JSON.stringify([key.orgId, key.integration, key.id]);
    let flight = flights.get(flightKey);
    if (!flight) {
      flight = refreshUnderLock(entry, ref, record, opts.forceRefresh === true, traceId).finally(() =>
        flights.delete(flightKey),
      );
      flights.set(flightKey, flight);
    }
    return flight;
  };

  const refreshUnderLock = async (
    entry: ResolvedIntegration,
    ref: ConnectionRef,
    seen: ConnectionRecord,
    force: boolean,
    traceId: string,
  ): Promise<IntegrationToken> => {
    const key = keyOfRef(ref);
    let release: Awaited<ReturnType<RefreshLock['acquire']>>;
    try {
      release = await lock.acquire(JSON.stringify([key.orgId, key.integration, key.id]), {
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
      const current = await ctx.load(ref, traceId);
      const creds = ctx.usable(current, ref, traceId);
      if (creds.type !== 'oauth2') return ctx.tokenOf(creds, null);
      // Another caller or instance refreshed while we waited: use its token, even when forced.
      const rotatedMeanwhile = current.version !== seen.version && !holdsSameGrant(seen, creds);
      if ((rotatedMeanwhile || !force) && ctx.fresh(current.expiresAt)) {
        const token = ctx.tokenOf(creds, current.expiresAt);
        ctx.remember(key, token);
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
          return await markNeedsReauth(current, creds, ref, traceId);
        }
        // Nothing to refresh with and still valid: the current token is the best there is.
        return ctx.tokenOf(creds, current.expiresAt);
      }
      const outcome = await requestToken(
        entry,
        { grant_type: 'refresh_token', refresh_token: creds.refreshToken },
        ctx.http(traceId),
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
        const latest = await ctx.storeCall('connection lookup', traceId, () => store.get(key));
        if (latest && latest.status === 'active' && !holdsSameGrant(latest, creds)) {
          const token = ctx.tokenOf(ctx.usable(latest, ref, traceId), latest.expiresAt);
          ctx.remember(key, token);
          return token;
        }
        return await markNeedsReauth(latest ?? current, creds, ref, traceId);
      }
      return await persistRefresh(current, creds, outcome.tokens, ref, traceId);
    } finally {
      await release?.();
    }
  };

  const markNeedsReauth = async (
    current: ConnectionRecord,
    creds: OAuthCredentials,
    ref: ConnectionRef,
    traceId: string,
  ): Promise<never> => {
    ctx.forget(keyOfRef(ref));
    let base = current;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const result = await ctx.storeCall('connection write', traceId, () =>
        store.compareAndSet(inputOf(base, { status: 'needs_reauth' }), base.version),
      );
      if (result.ok || !result.current) break;
      // A writer that only re-sealed the same dead grant changes nothing: mark its version instead.
      if (holdsSameGrant(result.current, creds)) {
        base = result.current;
        continue;
      }
      if (result.current.status === 'active' && ctx.fresh(result.current.expiresAt)) {
        // Lost to a writer that did refresh: nothing to re-authorize after all. Callers retry and get it.
        throw new IntegrationError(
          'provider_unavailable',
          `The connection ${ref.integration}/${ref.connectionId} changed during the refresh; retry`,
          { traceId },
        );
      }
      break;
    }
    throw new IntegrationError(
      'connection_needs_reauth',
      `The grant of ${ref.integration}/${ref.connectionId} was refused; the connection must be authorized again`,
      { traceId },
    );
  };

  const persistRefresh = async (
    current: ConnectionRecord,
    creds: OAuthCredentials,
    tokens: TokenSet,
    ref: ConnectionRef,
    traceId: string,
  ): Promise<IntegrationToken> => {
    const key = keyOfRef(ref);
    const next: StoredCredentials = {
      type: 'oauth2',
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      // Rotation: keep the new refresh token; providers that do not rotate send none, keep the old.
      refreshToken: tokens.refreshToken ?? creds.refreshToken,
      scopes: tokens.scopes.length > 0 ? tokens.scopes : creds.scopes,
    };
    const expiresAt = tokens.expiresAt === null ? null : new Date(tokens.expiresAt);
    const token = ctx.tokenOf(next, expiresAt);
    let base = current;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const result = await ctx.storeCall('connection write', traceId, () =>
        store.compareAndSet(
          inputOf(base, {
            status: 'active',
            credentials: sealFor(keyring, base, JSON.stringify(next)),
            expiresAt,
            metadata: { ...base.metadata, ...tokens.metadata, scopes: [...next.scopes] },
          }),
          base.version,
        ),
      );
      if (result.ok) {
        ctx.remember(key, token);
        return token;
      }
      const winner = result.current;
      // Deleted meanwhile: hand out what we got, store nothing.
      if (!winner) return token;
      // The winner holds the grant we refreshed from (a reseal, a metadata write): our tokens are newer,
      // and the old refresh token is already dead at the provider. Write ours over its version.
      if (holdsSameGrant(winner, creds)) {
        base = winner;
        continue;
      }
      // Only without a shared lock (or after it lapsed) can another refresh win: prefer its stored token.
      if (winner.status === 'active' && ctx.fresh(winner.expiresAt)) {
        const theirs = ctx.tokenOf(ctx.usable(winner, ref, traceId), winner.expiresAt);
        ctx.remember(key, theirs);
        return theirs;
      }
      return token;
    }
    throw new IntegrationError(
      'provider_unavailable',
      `The connection ${ref.integration}/${ref.connectionId} kept changing during the refresh; retry`,
      { traceId },
    );
  };

  return getToken;
}
