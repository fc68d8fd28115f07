// What the parts of the first-party adapter share: the settings, the bounded token cache, the
// reason-coded store access and the conversions between stored records and what callers see.
import type { ConnectionKey, ConnectionRecord } from '../../stores/contracts';
import { StoreError } from '../../stores/errors';
import type { ResolvedIntegration } from '../catalog';
import { IntegrationError } from '../errors';
import type { ConnectionAuthType, ConnectionInfo, ConnectionRef, IntegrationToken } from '../types';
import type { StoredCredentials } from './credentials';
import type { TokenHttp } from './oauth';
import { openCredentials } from './sealing';
import type { FirstPartyOptions } from './types';

interface CacheEntry {
  readonly token: IntegrationToken;
}

/**
 * The shared helpers of one first-party adapter instance.
 *
 * @internal
 * @example
 * ```ts
 * const ctx = createContext(options);
 * const record = await ctx.load(ref, traceId);
 * ```
 */
export interface AdapterContext {
  readonly options: FirstPartyOptions;
  http(traceId: string): TokenHttp;
  entryFor(integration: string, traceId: string): ResolvedIntegration;
  storeCall<T>(what: string, traceId: string, run: () => Promise<T>): Promise<T>;
  /** The record of `(ref.orgId, integration, id)`, or `connection_not_found`. */
  load(ref: ConnectionRef, traceId: string): Promise<ConnectionRecord>;
  /** The credentials of an active record, or `connection_needs_reauth`. */
  usable(record: ConnectionRecord, ref: ConnectionRef, traceId: string): StoredCredentials;
  fresh(expiresAt: Date | null): boolean;
  tokenOf(creds: StoredCredentials, expiresAt: Date | null): IntegrationToken;
  cached(key: ConnectionKey): IntegrationToken | undefined;
  remember(key: ConnectionKey, token: IntegrationToken): void;
  forget(key: ConnectionKey): void;
  clear(): void;
  toInfo(record: ConnectionRecord): ConnectionInfo;
}

/**
 * The store key of a plane reference: the org is part of it.
 *
 * @internal
 * @example
 * ```ts
 * await store.get(keyOfRef({ integration: 'github', connectionId: 'acme', orgId: 'org_acme' }));
 * ```
 */
export const keyOfRef = (ref: ConnectionRef): ConnectionKey => ({
  orgId: ref.orgId,
  integration: ref.integration,
  id: ref.connectionId,
});

const cacheKey = (k: ConnectionKey) => JSON.stringify([k.orgId, k.integration, k.id]);

/**
 * A record with some fields changed, as a store input.
 *
 * @internal
 * @example
 * ```ts
 * await store.compareAndSet(inputOf(current, { status: 'needs_reauth' }), current.version);
 * ```
 */
export function inputOf(
  record: ConnectionRecord,
  change: Partial<
    Omit<ConnectionRecord, 'version' | 'createdAt' | 'updatedAt' | 'orgId' | 'integration' | 'id'>
  >,
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

/**
 * Refuses a reference without its org: a connection's identity is `(orgId, integration, connectionId)`.
 *
 * @internal
 * @example
 * ```ts
 * checkRef({ integration: 'github', connectionId: 'acme', orgId: 'org_acme' });
 * ```
 */
export function checkRef(ref: ConnectionRef): void {
  const str = (v: unknown) => typeof v === 'string' && v !== '';
  if (!ref || !str(ref.integration) || !str(ref.connectionId)) {
    throw new TypeError('ref must be { integration, connectionId, orgId } with non-empty strings');
  }
  if (!str(ref.orgId)) {
    throw new TypeError(
      "ref.orgId is required: a connection's identity is (orgId, connectionId), and another org may use the same id",
    );
  }
}

/**
 * Builds the shared helpers.
 *
 * @internal
 * @example
 * ```ts
 * const ctx = createContext(options);
 * ```
 */
export function createContext(options: FirstPartyOptions): AdapterContext {
  const { store, keyring, catalog, clock } = options;
  const cache = new Map<string, CacheEntry>();

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

  return {
    options,
    http: (traceId) => ({ fetch: options.fetch, timeoutMs: options.timeoutMs, clock, traceId }),
    entryFor(integration, traceId) {
      const entry = catalog.get(integration);
      if (!entry) {
        throw new IntegrationError(
          'integration_unknown',
          `The integration "${integration.slice(0, 64)}" is not configured`,
          { traceId },
        );
      }
      return entry;
    },
    storeCall,
    async load(ref, traceId) {
      const record = await storeCall('connection lookup', traceId, () => store.get(keyOfRef(ref)));
      if (!record) {
        throw new IntegrationError(
          'connection_not_found',
          `No connection ${ref.integration}/${ref.connectionId}`,
          { traceId },
        );
      }
      return record;
    },
    usable(record, ref, traceId) {
      if (record.status === 'needs_reauth') {
        throw new IntegrationError(
          'connection_needs_reauth',
          `The connection ${ref.integration}/${ref.connectionId} must be authorized again`,
          { traceId },
        );
      }
      return openCredentials(keyring, record);
    },
    fresh: (expiresAt) => expiresAt === null || expiresAt.getTime() - options.refreshSkewMs > clock(),
    tokenOf,
    cached: (key) => cache.get(cacheKey(key))?.token,
    remember(key, token) {
      const k = cacheKey(key);
      cache.delete(k);
      cache.set(k, { token });
      // Bounded: the oldest entry goes first (Map keeps insertion order; a write moves the key to the end).
      while (cache.size > options.cacheMaxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
    },
    forget: (key) => {
      cache.delete(cacheKey(key));
    },
    clear: () => cache.clear(),
    toInfo(record) {
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
    },
  };
}
