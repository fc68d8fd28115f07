// Internal helpers shared by the store implementations: defensive copies (a caller can never mutate a
// store's state through a returned object, not even through a Date) and small validations.
import type {
  ApiKeyRecord,
  ConnectionInput,
  ConnectionKey,
  ConnectionRecord,
  ConnectionStatus,
  IdentityLink,
  OrgLink,
} from './contracts';
import { StoreError } from './errors';

const date = (d: Date | null): Date | null => (d === null ? null : new Date(d.getTime()));

export function copyApiKey(r: ApiKeyRecord): ApiKeyRecord {
  return Object.freeze({
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    ownerId: r.ownerId,
    orgId: r.orgId,
    scopes: Object.freeze([...r.scopes]),
    name: r.name,
    createdAt: new Date(r.createdAt.getTime()),
    expiresAt: date(r.expiresAt),
    revokedAt: date(r.revokedAt),
    lastUsedAt: date(r.lastUsedAt),
    replacedBy: r.replacedBy,
  });
}

export function copyLink(l: IdentityLink): IdentityLink {
  return Object.freeze({
    provider: l.provider,
    providerSubject: l.providerSubject,
    subject: l.subject,
    createdAt: new Date(l.createdAt.getTime()),
  });
}

export function copyOrgLink(l: OrgLink): OrgLink {
  return Object.freeze({
    provider: l.provider,
    externalOrgId: l.externalOrgId,
    orgId: l.orgId,
    createdAt: new Date(l.createdAt.getTime()),
  });
}

export function copyConnection(c: ConnectionRecord): ConnectionRecord {
  return Object.freeze({
    integration: c.integration,
    id: c.id,
    orgId: c.orgId,
    status: c.status,
    metadata: Object.freeze(structuredClone(c.metadata)),
    credentials: c.credentials,
    expiresAt: date(c.expiresAt),
    version: c.version,
    createdAt: new Date(c.createdAt.getTime()),
    updatedAt: new Date(c.updatedAt.getTime()),
  });
}

const STATUSES: readonly ConnectionStatus[] = ['active', 'needs_reauth'];

/**
 * Rejects a connection key without its org part (null or a non-empty string): never a global lookup.
 *
 * @example
 * ```ts
 * checkConnectionKey({ orgId: 'org_acme', integration: 'github', id: 'acme' });
 * ```
 */
export function checkConnectionKey(key: ConnectionKey): void {
  if (!key || typeof key !== 'object') {
    throw new TypeError('connection key must be { orgId, integration, id }');
  }
  if (!nonEmpty(key.integration) || !nonEmpty(key.id)) {
    throw new TypeError('connection: integration and id must be non-empty strings');
  }
  if (key.orgId !== null && !nonEmpty(key.orgId)) {
    throw new TypeError('connection: orgId must be a non-empty string or null (it is part of the identity)');
  }
}

/**
 * The stored form of a connection's org: SQL keys cannot hold NULL, and '' is refused as an org id.
 *
 * @example
 * ```ts
 * orgColumn(null); // ''
 * ```
 */
export const orgColumn = (orgId: string | null): string => orgId ?? '';
/**
 * The inverse of {@link orgColumn}.
 *
 * @example
 * ```ts
 * orgFromColumn(''); // null
 * ```
 */
export const orgFromColumn = (value: string | null): string | null =>
  value === '' || value === null ? null : value;

/** Rejects inputs a database column would not round-trip. */
export function checkConnectionInput(input: ConnectionInput): void {
  checkConnectionKey({ orgId: input?.orgId, integration: input?.integration, id: input?.id });
  if (!STATUSES.includes(input.status))
    throw new TypeError('connection: status must be active or needs_reauth');
  if (input.credentials !== null && typeof input.credentials !== 'string') {
    throw new TypeError('connection: credentials must be a string or null');
  }
  if (!input.metadata || typeof input.metadata !== 'object' || Array.isArray(input.metadata)) {
    throw new TypeError('connection: metadata must be an object');
  }
}

export function checkLinkKey(...parts: unknown[]): void {
  for (const part of parts) {
    if (!nonEmpty(part)) throw new TypeError('identity link: every field must be a non-empty string');
  }
}

export function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

export function conflict(what: string): StoreError {
  return new StoreError('store_conflict', `${what} already exists with a different value`);
}

/** Keys of the in-batch de-duplication of link imports. */
export const linkKey = (provider: string, subject: string): string => `${provider}\u0000${subject}`;
