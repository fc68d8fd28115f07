// The first-party IntegrationPlane adapter, assembled from its parts: connections in a ConnectionStore
// keyed by (org, integration, id) and sealed with the keyring bound to that key (sealing.ts), the token
// lifecycle (tokens.ts), the connect flow (connect.ts) and key rotation (reseal.ts).
import { newTraceId } from '../../core/trace';
import type { ConnectionFilter, ConnectionInfo, ConnectionRef } from '../types';
import { CONNECT_STATE_INTEGRATION, createConnectApi } from './connect';
import { checkRef, createContext, keyOfRef } from './context';
import { resealAll } from './reseal';
import { createTokenLifecycle } from './tokens';
import type { FirstPartyAdapter, FirstPartyOptions } from './types';

export { CONNECT_STATE_INTEGRATION } from './connect';
export type {
  ConnectApi,
  ConnectFinishOptions,
  ConnectStart,
  ConnectStartOptions,
  FirstPartyAdapter,
  FirstPartyOptions,
  SaveCredentialsOptions,
} from './types';

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
  const { store } = options;
  const ctx = createContext(options);
  const getToken = createTokenLifecycle(ctx);

  return Object.freeze({
    provider: 'first-party',
    connect: createConnectApi(ctx),
    getToken,
    async getConnection(ref: ConnectionRef): Promise<ConnectionInfo> {
      const traceId = newTraceId();
      checkRef(ref);
      ctx.entryFor(ref.integration, traceId);
      return ctx.toInfo(await ctx.load(ref, traceId));
    },
    async listConnections(filter: ConnectionFilter = {}): Promise<ConnectionInfo[]> {
      const traceId = newTraceId();
      const rows = await ctx.storeCall('connection list', traceId, () =>
        store.list({
          ...(filter.orgId !== undefined ? { orgId: filter.orgId } : {}),
          ...(filter.integration !== undefined ? { integration: filter.integration } : {}),
        }),
      );
      return rows.filter((r) => r.integration !== CONNECT_STATE_INTEGRATION).map(ctx.toInfo);
    },
    async deleteConnection(ref: ConnectionRef): Promise<boolean> {
      const traceId = newTraceId();
      checkRef(ref);
      const key = keyOfRef(ref);
      ctx.forget(key);
      return ctx.storeCall('connection delete', traceId, () => store.delete(key));
    },
    resealAll: () => resealAll(ctx),
    async close(): Promise<void> {
      ctx.clear();
    },
  });
}
