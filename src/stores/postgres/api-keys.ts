import type { ApiKeyFilter, ApiKeyRecord, ApiKeyStore, ApiKeyUpdate, ApiKeyUsage } from '../contracts';
import { conflict } from '../records';
import { type Ctx, isUniqueViolation, payload, run } from './context';

export interface ApiKeyRow extends Record<string, unknown> {
  id: string;
  hash: string;
  prefix: string;
  owner_id: string;
  org_id: string;
  scopes: string[];
  name: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  replaced_by: string | null;
}

export const apiKeyFromRow = (r: ApiKeyRow): ApiKeyRecord =>
  Object.freeze({
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    ownerId: r.owner_id,
    orgId: r.org_id,
    scopes: Object.freeze([...r.scopes]),
    name: r.name,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    replacedBy: r.replaced_by,
  });

export function pgApiKeyStore(ctx: Ctx): ApiKeyStore {
  const { q } = ctx;
  const cols =
    'id, hash, prefix, owner_id, org_id, scopes, name, created_at, expires_at, revoked_at, last_used_at, replaced_by';
  return Object.freeze({
    async insert(r: ApiKeyRecord): Promise<void> {
      try {
        await run(
          ctx,
          'API key insert',
          `INSERT INTO ${q}.api_keys (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            r.id,
            r.hash,
            r.prefix,
            r.ownerId,
            r.orgId,
            [...r.scopes],
            r.name,
            r.createdAt,
            r.expiresAt,
            r.revokedAt,
            r.lastUsedAt,
            r.replacedBy,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('An API key with this id');
        throw err;
      }
    },
    async findById(id: string): Promise<ApiKeyRecord | null> {
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key lookup',
        `SELECT ${cols} FROM ${q}.api_keys WHERE id = $1`,
        [id],
      );
      return rows[0] ? apiKeyFromRow(rows[0]) : null;
    },
    async list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
      const [column, value] = 'orgId' in filter ? ['org_id', filter.orgId] : ['owner_id', filter.ownerId];
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key list',
        `SELECT ${cols} FROM ${q}.api_keys WHERE ${column} = $1 ORDER BY created_at, id`,
        [value],
      );
      return rows.map(apiKeyFromRow);
    },
    async update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null> {
      // One statement: the update and its NOTIFY commit (or fail) together.
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key update',
        `WITH u AS (
           UPDATE ${q}.api_keys SET
             revoked_at = CASE WHEN $2 THEN $3::timestamptz ELSE revoked_at END,
             expires_at = CASE WHEN $4 THEN $5::timestamptz ELSE expires_at END,
             replaced_by = CASE WHEN $6 THEN $7::text ELSE replaced_by END
           WHERE id = $1 RETURNING ${cols})
         SELECT u.*, CASE WHEN $8::text IS NULL THEN NULL ELSE pg_notify($8::text, $9::text) END AS notified FROM u`,
        [
          id,
          change.revokedAt !== undefined,
          change.revokedAt ?? null,
          change.expiresAt !== undefined,
          change.expiresAt ?? null,
          change.replacedBy !== undefined,
          change.replacedBy ?? null,
          ctx.notify,
          payload({ type: 'api_key', id }),
        ],
      );
      return rows[0] ? apiKeyFromRow(rows[0]) : null;
    },
    async touch(usages: readonly ApiKeyUsage[]): Promise<void> {
      if (usages.length === 0) return;
      // One statement for the whole batch: the point of batching last-used times.
      await run(
        ctx,
        'API key last-used update',
        `UPDATE ${q}.api_keys k SET last_used_at = u.at
         FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::timestamptz[]) AS t(id, at) GROUP BY id) u
         WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
        [usages.map((u) => u.id), usages.map((u) => u.lastUsedAt)],
      );
    },
    async close(): Promise<void> {},
  });
}
