// The store contracts. Every implementation (memory, SQLite, PostgreSQL, Redis) passes one shared
// contract suite per interface (test/contract/*.contract.ts), so callers can swap them by configuration.
// All methods are asynchronous so that a networked store fits; all dates are `Date`s with millisecond
// precision; no method ever returns a live internal object (callers may not mutate store state).

export type { RevocationKey, RevocationLookup, RevocationStore } from '../identity/revocation';

/**
 * One stored API key. `hash` is the SHA-256 of the full key; the key itself is never stored.
 *
 * @example
 * ```ts
 * const record = await store.findById('k3Yx0aQ2LmV9pT7w');
 * if (record && record.revokedAt === null) console.log(record.scopes);
 * ```
 */
export interface ApiKeyRecord {
  /** The public key id, part of the key itself; what lookups use. */
  readonly id: string;
  /** Lowercase hex SHA-256 of the full key. Never leaves the store layer through `createApiKeys`. */
  readonly hash: string;
  /** The readable prefix the key was issued with (`ap_live`). */
  readonly prefix: string;
  readonly ownerId: string;
  readonly orgId: string;
  readonly scopes: readonly string[];
  readonly name: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** Set by rotation: the id of the key that replaces this one. */
  readonly replacedBy: string | null;
}

/**
 * The changes `ApiKeyStore.update` can make: revoke, set an expiry (rotation overlap), link the successor.
 * Fields left out are kept.
 *
 * @example
 * ```ts
 * await store.update(id, { revokedAt: new Date() });
 * ```
 */
export interface ApiKeyUpdate {
  readonly revokedAt?: Date;
  readonly expiresAt?: Date | null;
  readonly replacedBy?: string;
}

/**
 * Selects keys by organisation or by owner.
 *
 * @example
 * ```ts
 * await store.list({ orgId: 'org_1' });
 * ```
 */
export type ApiKeyFilter = { readonly orgId: string } | { readonly ownerId: string };

/**
 * Last-used time of one key, for {@link ApiKeyStore.touch}.
 *
 * @example
 * ```ts
 * await store.touch([{ id, lastUsedAt: new Date() }]);
 * ```
 */
export interface ApiKeyUsage {
  readonly id: string;
  readonly lastUsedAt: Date;
}

/**
 * Where API key records live.
 *
 * @example
 * ```ts
 * const store: ApiKeyStore = createMemoryApiKeyStore();
 * await store.insert(record);
 * await store.findById(record.id);
 * ```
 */
export interface ApiKeyStore {
  /** Adds a key. A second record with the same id is a `StoreError` with code `store_conflict`. */
  insert(record: ApiKeyRecord): Promise<void>;
  /** The record with this public id, or null. */
  findById(id: string): Promise<ApiKeyRecord | null>;
  /** Keys of an organisation or an owner, oldest first. */
  list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]>;
  /** Applies the change and returns the updated record, or null when no key has this id. */
  update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null>;
  /** Records last-used times in one batch; a time never moves backwards; unknown ids are ignored. */
  touch(usages: readonly ApiKeyUsage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A link from a provider's own subject to the stable internal subject.
 *
 * @example
 * ```ts
 * const link: IdentityLink = { provider: 'auth0', providerSubject: 'auth0|42', subject: 'usr_1', createdAt: new Date() };
 * ```
 */
export interface IdentityLink {
  readonly provider: string;
  readonly providerSubject: string;
  readonly subject: string;
  readonly createdAt: Date;
}

/**
 * A link from a provider's organisation id to the internal org id.
 *
 * @example
 * ```ts
 * const org: OrgLink = { provider: 'auth0', externalOrgId: 'org_abc', orgId: 'org_1', createdAt: new Date() };
 * ```
 */
export interface OrgLink {
  readonly provider: string;
  readonly externalOrgId: string;
  readonly orgId: string;
  readonly createdAt: Date;
}

/**
 * What a bulk import wrote: `inserted` new links, `unchanged` links that already existed identically.
 *
 * @example
 * ```ts
 * const { inserted, unchanged } = await links.importLinks({ links: rows });
 * ```
 */
export interface LinkImportResult {
  readonly inserted: number;
  readonly unchanged: number;
}

/**
 * The input of a bulk import of identity and org links.
 *
 * @example
 * ```ts
 * const batch: LinkImportBatch = { links: [{ provider: 'legacy', providerSubject: '42', subject: 'usr_42' }] };
 * ```
 */
export interface LinkImportBatch {
  readonly links?: ReadonlyArray<NewIdentityLink>;
  readonly orgs?: ReadonlyArray<NewOrgLink>;
}

/**
 * A link to create: an {@link IdentityLink} without its creation time.
 *
 * @example
 * ```ts
 * await links.link({ provider: 'legacy', providerSubject: '42', subject: 'usr_42' } satisfies NewIdentityLink);
 * ```
 */
export type NewIdentityLink = Omit<IdentityLink, 'createdAt'>;

/**
 * An org link to create: an {@link OrgLink} without its creation time.
 *
 * @example
 * ```ts
 * await links.linkOrg({ provider: 'auth0', externalOrgId: 'org_abc', orgId: 'org_1' } satisfies NewOrgLink);
 * ```
 */
export type NewOrgLink = Omit<OrgLink, 'createdAt'>;

/**
 * Identity links for migrations: `(provider, providerSubject) -> subject` and `(provider, externalOrgId) -> orgId`.
 * A link never changes silently: linking an existing key to a different target is a `StoreError`
 * with code `store_conflict`; unlink first.
 *
 * @example
 * ```ts
 * await links.link({ provider: 'auth0', providerSubject: 'auth0|42', subject: 'usr_1' });
 * await links.resolve('auth0', 'auth0|42'); // 'usr_1'
 * ```
 */
export interface IdentityLinkStore {
  /** Creates the link; idempotent when it already exists with the same subject. */
  link(link: NewIdentityLink): Promise<IdentityLink>;
  /** The internal subject, or null. */
  resolve(provider: string, providerSubject: string): Promise<string | null>;
  /** Every provider identity of one internal subject, oldest first. */
  listBySubject(subject: string): Promise<IdentityLink[]>;
  /** Removes a link; false when there was none. */
  unlink(provider: string, providerSubject: string): Promise<boolean>;
  /** Creates the org link; idempotent when it already exists with the same org id. */
  linkOrg(link: NewOrgLink): Promise<OrgLink>;
  /** The internal org id, or null. */
  resolveOrg(provider: string, externalOrgId: string): Promise<string | null>;
  /**
   * Imports many links in one transaction: all or nothing. Re-running the same import is a no-op
   * (idempotent); any conflict (with stored links or inside the batch) rejects the whole import.
   */
  importLinks(batch: LinkImportBatch): Promise<LinkImportResult>;
  close(): Promise<void>;
}

/**
 * The state of a connection's grant.
 *
 * @example
 * ```ts
 * if (connection.status === 'needs_reauth') throw new IntegrationError('connection_needs_reauth');
 * ```
 */
export type ConnectionStatus = 'active' | 'needs_reauth';

/**
 * One stored connection to a third-party integration (e.g. the GitHub grant of org `acme`). Its identity
 * is `(orgId, integration, id)`: two orgs may use the same connection id and never share a row.
 * `credentials` is an opaque blob the integration plane encrypts before writing; stores never read it.
 *
 * @example
 * ```ts
 * const c = await connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' });
 * if (c) decrypt(c.credentials);
 * ```
 */
export interface ConnectionRecord {
  readonly integration: string;
  readonly id: string;
  /** The owning org: part of the identity. Null only for org-less internal rows (connect states). */
  readonly orgId: string | null;
  readonly status: ConnectionStatus;
  /** Non-secret JSON data (account login, granted scopes, provider config key). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Encrypted token blob, or null before the first grant. */
  readonly credentials: string | null;
  /** Expiry of the stored access token (plain, so refreshes can be scheduled without decrypting). */
  readonly expiresAt: Date | null;
  /** Incremented by every write, starting at 1: the compare-and-set token. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * What a caller writes; the store sets `version`, `createdAt` and `updatedAt`.
 *
 * @example
 * ```ts
 * const input: ConnectionInput = { integration: 'github', id: 'acme', orgId: 'org_1', status: 'active',
 *   metadata: {}, credentials: sealed, expiresAt: null };
 * ```
 */
export type ConnectionInput = Omit<ConnectionRecord, 'version' | 'createdAt' | 'updatedAt'>;

/**
 * The outcome of {@link ConnectionStore.compareAndSet}: the written record, or the record that won.
 *
 * @example
 * ```ts
 * const r = await connections.compareAndSet(next, current.version);
 * const latest = r.ok ? r.record : r.current; // lost the race: use the other instance's refresh
 * ```
 */
export type CompareAndSetResult =
  | { readonly ok: true; readonly record: ConnectionRecord }
  | { readonly ok: false; readonly current: ConnectionRecord | null };

/**
 * The identity of one stored connection. `orgId` is part of it: a lookup, write or delete never reaches
 * another org's row, whatever the integration and id. Null names an org-less internal row.
 *
 * @example
 * ```ts
 * const key: ConnectionKey = { orgId: 'org_acme', integration: 'github', id: 'acme' };
 * ```
 */
export interface ConnectionKey {
  readonly orgId: string | null;
  readonly integration: string;
  readonly id: string;
}

/**
 * Stored integration connections, keyed by `(orgId, integration, id)`. Token refreshes go through
 * `compareAndSet`, so two instances that refresh at the same moment cannot overwrite each other's
 * tokens (no lost update). `put` and `compareAndSet` address the row named by the input's own
 * `(orgId, integration, id)`: a write for org A can never replace org B's connection.
 *
 * @example
 * ```ts
 * const current = await connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' });
 * const result = await connections.compareAndSet({ ...current, credentials: sealedNew }, current.version);
 * ```
 */
export interface ConnectionStore {
  get(key: ConnectionKey): Promise<ConnectionRecord | null>;
  /** Connections of an org and/or an integration, oldest first; `{}` lists everything. */
  list(filter: { orgId?: string; integration?: string }): Promise<ConnectionRecord[]>;
  /** Unconditional upsert of the row `(orgId, integration, id)`; returns it with its new version. */
  put(input: ConnectionInput): Promise<ConnectionRecord>;
  /**
   * Writes only when the stored version of the row `(orgId, integration, id)` equals `expectedVersion`
   * (null: only when no such row exists yet). Atomic across instances.
   */
  compareAndSet(input: ConnectionInput, expectedVersion: number | null): Promise<CompareAndSetResult>;
  /** False when there was nothing to delete. */
  delete(key: ConnectionKey): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A change another instance must hear about, to drop a cached answer.
 * Carries ids only: key ids and jtis are identifiers, never secrets.
 *
 * @example
 * ```ts
 * await channel.publish({ type: 'api_key', id: record.id });
 * ```
 */
export type InvalidationEvent =
  | { readonly type: 'api_key'; readonly id: string }
  | {
      readonly type: 'revocation';
      readonly jti?: string;
      readonly sessionId?: string;
      /** Epoch ms when the entry lapses (the token's own expiry), when known. */
      readonly until?: number;
    }
  /** The migration control store changed (tenant modes): instances re-read it. */
  | { readonly type: 'migration_control'; readonly version: number }
  /** The channel (re)connected: anything may have been missed, drop every cached entry. */
  | { readonly type: 'reset' };

/**
 * A broadcast between instances (Redis pub/sub, PostgreSQL LISTEN/NOTIFY, or in-process).
 *
 * `healthy` is the promise a cache relies on: true only while every event published anywhere reaches
 * this instance. It is false while the subscription is down AND while its connection has not answered a
 * heartbeat for about a second (a socket that stopped answering without closing). Caches then shorten
 * their entries' lifetime to one second, which bounds how long a missed revocation can be honoured.
 * After any such gap the channel emits `reset` (what was published meanwhile may be lost).
 * An implementation over a network must therefore check its own liveness (see `LivenessOptions`);
 * `publish` rejects (a `StoreError`) when the event could not be handed to the broker.
 *
 * @example
 * ```ts
 * const off = channel.subscribe((event) => { if (event.type === 'reset') cache.clear(); });
 * await channel.publish({ type: 'revocation', jti });
 * ```
 */
export interface InvalidationChannel {
  readonly healthy: boolean;
  publish(event: InvalidationEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (event: InvalidationEvent) => void): () => void;
  close(): Promise<void>;
}
