// Internal helpers shared by the store implementations: defensive copies (a caller can never mutate a
// store's state through a returned object, not even through a Date) and small validations.
import type {
  ApiKeyRecord,
  ConnectionInput,
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

/** Rejects inputs a database column would not round-trip. */
export function checkConnectionInput(input: ConnectionInput): void {
  if (!nonEmpty(input.integration) || !nonEmpty(input.id)) {
    throw new TypeError('connection: integration and id must be non-empty strings');
  }
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
