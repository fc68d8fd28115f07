// In-process stores: tests, single-instance development, and the default when nothing is configured.
// They are bounded: a full store refuses new records (`store_full`) instead of evicting, because
// evicting a key or a link would silently lose data. The same holds for revocations (the identity
// plane's own memory store, re-exported here): only an expired entry makes room.
import type {
  ApiKeyFilter,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyUpdate,
  ApiKeyUsage,
  CompareAndSetResult,
  ConnectionInput,
  ConnectionKey,
  ConnectionRecord,
  ConnectionStore,
  IdentityLink,
  IdentityLinkStore,
  InvalidationChannel,
  InvalidationEvent,
  LinkImportBatch,
  LinkImportResult,
  NewIdentityLink,
  NewOrgLink,
  OrgLink,
} from './contracts';
import { StoreError } from './errors';
import {
  checkConnectionInput,
  checkConnectionKey,
  checkLinkKey,
  conflict,
  copyApiKey,
  copyConnection,
  copyLink,
  copyOrgLink,
  linkKey,
} from './records';

export {
  createMemoryRevocationStore,
  type MemoryRevocationStoreOptions,
} from '../identity/revocation';

/** Options of the memory stores. */
export interface MemoryStoreOptions {
  /** Upper bound on records; inserts beyond it fail with `store_full`. Default 100 000. */
  readonly maxEntries?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

function limits(options: MemoryStoreOptions): { maxEntries: number; clock: () => number } {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
    throw new TypeError('maxEntries must be a positive integer');
  }
  return { maxEntries, clock: options.clock ?? Date.now };
}

function full(): StoreError {
  return new StoreError('store_full', 'The memory store is full');
}

/**
 * A bounded in-memory {@link ApiKeyStore}.
 *
 * @example
 * ```ts
 * const keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_test' });
 * ```
 */
export function createMemoryApiKeyStore(options: MemoryStoreOptions = {}): ApiKeyStore {
  const { maxEntries } = limits(options);
  const records = new Map<string, ApiKeyRecord>();
  return Object.freeze({
    async insert(record: ApiKeyRecord): Promise<void> {
      if (records.has(record.id)) throw conflict('An API key with this id');
      if (records.size >= maxEntries) throw full();
      records.set(record.id, copyApiKey(record));
    },
    async findById(id: string): Promise<ApiKeyRecord | null> {
      const record = records.get(id);
      return record ? copyApiKey(record) : null;
    },
    async list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
      const out: ApiKeyRecord[] = [];
      for (const r of records.values()) {
        if ('orgId' in filter ? r.orgId === filter.orgId : r.ownerId === filter.ownerId)
          out.push(copyApiKey(r));
      }
      return out.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
    },
    async update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null> {
      const r = records.get(id);
      if (!r) return null;
      const next = copyApiKey({
        ...r,
        ...(change.revokedAt !== undefined ? { revokedAt: change.revokedAt } : {}),
        ...(change.expiresAt !== undefined ? { expiresAt: change.expiresAt } : {}),
        ...(change.replacedBy !== undefined ? { replacedBy: change.replacedBy } : {}),
      });
      records.set(id, next);
      return copyApiKey(next);
    },
    async touch(usages: readonly ApiKeyUsage[]): Promise<void> {
      for (const { id, lastUsedAt } of usages) {
        const r = records.get(id);
        if (r && (r.lastUsedAt === null || r.lastUsedAt.getTime() < lastUsedAt.getTime())) {
          records.set(id, copyApiKey({ ...r, lastUsedAt }));
        }
      }
    },
    async close(): Promise<void> {},
  });
}

/**
 * A bounded in-memory {@link IdentityLinkStore}.
 *
 * @example
 * ```ts
 * const links = createMemoryIdentityLinkStore();
 * await links.link({ provider: 'legacy', providerSubject: '42', subject: 'usr_42' });
 * ```
 */
export function createMemoryIdentityLinkStore(options: MemoryStoreOptions = {}): IdentityLinkStore {
  const { maxEntries, clock } = limits(options);
  const links = new Map<string, IdentityLink>();
  const orgs = new Map<string, OrgLink>();

  return Object.freeze({
    async link(input: NewIdentityLink): Promise<IdentityLink> {
      checkLinkKey(input.provider, input.providerSubject, input.subject);
      const key = linkKey(input.provider, input.providerSubject);
      const existing = links.get(key);
      if (existing) {
        if (existing.subject !== input.subject) throw conflict('This identity link');
        return copyLink(existing);
      }
      if (links.size >= maxEntries) throw full();
      const link = copyLink({ ...input, createdAt: new Date(clock()) });
      links.set(key, link);
      return copyLink(link);
    },
    async resolve(provider: string, providerSubject: string): Promise<string | null> {
      return links.get(linkKey(provider, providerSubject))?.subject ?? null;
    },
    async listBySubject(subject: string): Promise<IdentityLink[]> {
      return [...links.values()].filter((l) => l.subject === subject).map(copyLink);
    },
    async unlink(provider: string, providerSubject: string): Promise<boolean> {
      return links.delete(linkKey(provider, providerSubject));
    },
    async linkOrg(input: NewOrgLink): Promise<OrgLink> {
      checkLinkKey(input.provider, input.externalOrgId, input.orgId);
      const key = linkKey(input.provider, input.externalOrgId);
      const existing = orgs.get(key);
      if (existing) {
        if (existing.orgId !== input.orgId) throw conflict('This org link');
        return copyOrgLink(existing);
      }
      if (orgs.size >= maxEntries) throw full();
      const link = copyOrgLink({ ...input, createdAt: new Date(clock()) });
      orgs.set(key, link);
      return copyOrgLink(link);
    },
    async resolveOrg(provider: string, externalOrgId: string): Promise<string | null> {
      return orgs.get(linkKey(provider, externalOrgId))?.orgId ?? null;
    },
    async importLinks(batch: LinkImportBatch): Promise<LinkImportResult> {
      // Validate everything first, write after: all or nothing, like the SQL stores' transaction.
      const now = new Date(clock());
      const newLinks = new Map<string, IdentityLink>();
      const newOrgs = new Map<string, OrgLink>();
      let unchanged = 0;
      for (const l of batch.links ?? []) {
        checkLinkKey(l.provider, l.providerSubject, l.subject);
        const key = linkKey(l.provider, l.providerSubject);
        const existing = links.get(key) ?? newLinks.get(key);
        if (existing && existing.subject !== l.subject) throw conflict('An imported identity link');
        if (existing) unchanged++;
        else newLinks.set(key, copyLink({ ...l, createdAt: now }));
      }
      for (const o of batch.orgs ?? []) {
        checkLinkKey(o.provider, o.externalOrgId, o.orgId);
        const key = linkKey(o.provider, o.externalOrgId);
        const existing = orgs.get(key) ?? newOrgs.get(key);
        if (existing && existing.orgId !== o.orgId) throw conflict('An imported org link');
        if (existing) unchanged++;
        else newOrgs.set(key, copyOrgLink({ ...o, createdAt: now }));
      }
      if (links.size + newLinks.size > maxEntries || orgs.size + newOrgs.size > maxEntries) throw full();
      for (const [k, v] of newLinks) links.set(k, v);
      for (const [k, v] of newOrgs) orgs.set(k, v);
      return { inserted: newLinks.size + newOrgs.size, unchanged };
    },
    async close(): Promise<void> {},
  });
}

/**
 * A bounded in-memory {@link ConnectionStore}, keyed by `(orgId, integration, id)`. Compare-and-set is
 * atomic because the check and the write happen in one synchronous step.
 *
 * @example
 * ```ts
 * const connections = createMemoryConnectionStore();
 * ```
 */
export function createMemoryConnectionStore(options: MemoryStoreOptions = {}): ConnectionStore {
  const { maxEntries, clock } = limits(options);
  const rows = new Map<string, ConnectionRecord>();
  // JSON keeps the three parts apart whatever characters the ids contain.
  const keyOf = (k: ConnectionKey) => JSON.stringify([k.orgId, k.integration, k.id]);

  const write = (input: ConnectionInput, existing: ConnectionRecord | undefined): ConnectionRecord => {
    if (!existing && rows.size >= maxEntries) throw full();
    const now = new Date(clock());
    const record = copyConnection({
      integration: input.integration,
      id: input.id,
      orgId: input.orgId,
      status: input.status,
      metadata: input.metadata,
      credentials: input.credentials,
      expiresAt: input.expiresAt,
      version: (existing?.version ?? 0) + 1,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    rows.set(keyOf(input), record);
    return copyConnection(record);
  };

  return Object.freeze({
    async get(key: ConnectionKey): Promise<ConnectionRecord | null> {
      checkConnectionKey(key);
      const r = rows.get(keyOf(key));
      return r ? copyConnection(r) : null;
    },
    async list(filter: { orgId?: string; integration?: string }): Promise<ConnectionRecord[]> {
      return [...rows.values()]
        .filter(
          (r) =>
            (filter.orgId === undefined || r.orgId === filter.orgId) &&
            (filter.integration === undefined || r.integration === filter.integration),
        )
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(copyConnection);
    },
    async put(input: ConnectionInput): Promise<ConnectionRecord> {
      checkConnectionInput(input);
      return write(input, rows.get(keyOf(input)));
    },
    async compareAndSet(
      input: ConnectionInput,
      expectedVersion: number | null,
    ): Promise<CompareAndSetResult> {
      checkConnectionInput(input);
      const existing = rows.get(keyOf(input));
      if ((existing?.version ?? null) !== expectedVersion) {
        return { ok: false, current: existing ? copyConnection(existing) : null };
      }
      return { ok: true, record: write(input, existing) };
    },
    async delete(key: ConnectionKey): Promise<boolean> {
      checkConnectionKey(key);
      return rows.delete(keyOf(key));
    },
    async close(): Promise<void> {},
  });
}

/**
 * An in-process {@link InvalidationChannel}: every subscriber of the same channel object hears every
 * event. For tests and for several planes inside one process; always healthy.
 *
 * @example
 * ```ts
 * const channel = createMemoryInvalidationChannel();
 * const apiKeys = createCachedApiKeyStore({ store, channel });
 * ```
 */
export function createMemoryInvalidationChannel(): InvalidationChannel {
  const listeners = new Set<(event: InvalidationEvent) => void>();
  let closed = false;
  return Object.freeze({
    get healthy() {
      return !closed;
    },
    async publish(event: InvalidationEvent): Promise<void> {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // One failing subscriber must not stop the others from hearing a revocation.
        }
      }
    },
    subscribe(listener: (event: InvalidationEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      closed = true;
      listeners.clear();
    },
  });
}
