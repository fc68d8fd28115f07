// Identity and org links over PostgreSQL, with bulk import in chunks inside one transaction.
import type { PoolClient } from 'pg';
import type {
  IdentityLink,
  IdentityLinkStore,
  LinkImportBatch,
  LinkImportResult,
  NewIdentityLink,
  NewOrgLink,
  OrgLink,
} from '../contracts';
import { StoreError, toStoreError } from '../errors';
import { checkLinkKey, conflict } from '../records';
import { type Ctx, run } from './context';

export interface LinkRow extends Record<string, unknown> {
  provider: string;
  provider_subject: string;
  subject: string;
  created_at: Date;
}

export interface OrgRow extends Record<string, unknown> {
  provider: string;
  external_org_id: string;
  org_id: string;
  created_at: Date;
}

export const linkFromRow = (r: LinkRow): IdentityLink =>
  Object.freeze({
    provider: r.provider,
    providerSubject: r.provider_subject,
    subject: r.subject,
    createdAt: r.created_at,
  });

export const orgFromRow = (r: OrgRow): OrgLink =>
  Object.freeze({
    provider: r.provider,
    externalOrgId: r.external_org_id,
    orgId: r.org_id,
    createdAt: r.created_at,
  });

export const IMPORT_CHUNK = 5_000;

export function pgLinkStore(ctx: Ctx): IdentityLinkStore {
  const { q, clock } = ctx;

  // Insert-if-absent then read back; a different stored target is a conflict.
  const linkSql = `WITH i AS (
      INSERT INTO ${q}.identity_links (provider, provider_subject, subject, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING *)
    SELECT * FROM i UNION ALL
    SELECT * FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2 AND NOT EXISTS (SELECT 1 FROM i)`;
  const orgSql = `WITH i AS (
      INSERT INTO ${q}.org_links (provider, external_org_id, org_id, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING *)
    SELECT * FROM i UNION ALL
    SELECT * FROM ${q}.org_links WHERE provider = $1 AND external_org_id = $2 AND NOT EXISTS (SELECT 1 FROM i)`;

  return Object.freeze({
    async link(input: NewIdentityLink): Promise<IdentityLink> {
      checkLinkKey(input.provider, input.providerSubject, input.subject);
      const rows = await run<LinkRow>(ctx, 'identity link', linkSql, [
        input.provider,
        input.providerSubject,
        input.subject,
        new Date(clock()),
      ]);
      const row = rows[0];
      if (!row) throw new StoreError('store_unavailable', 'The identity link was not written');
      if (row.subject !== input.subject) throw conflict('This identity link');
      return linkFromRow(row);
    },
    async resolve(provider: string, providerSubject: string): Promise<string | null> {
      const rows = await run<LinkRow>(
        ctx,
        'identity link lookup',
        `SELECT subject FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2`,
        [provider, providerSubject],
      );
      return rows[0]?.subject ?? null;
    },
    async listBySubject(subject: string): Promise<IdentityLink[]> {
      const rows = await run<LinkRow>(
        ctx,
        'identity link list',
        `SELECT * FROM ${q}.identity_links WHERE subject = $1 ORDER BY created_at, provider`,
        [subject],
      );
      return rows.map(linkFromRow);
    },
    async unlink(provider: string, providerSubject: string): Promise<boolean> {
      const rows = await run(
        ctx,
        'identity unlink',
        `DELETE FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2 RETURNING 1`,
        [provider, providerSubject],
      );
      return rows.length > 0;
    },
    async linkOrg(input: NewOrgLink): Promise<OrgLink> {
      checkLinkKey(input.provider, input.externalOrgId, input.orgId);
      const rows = await run<OrgRow>(ctx, 'org link', orgSql, [
        input.provider,
        input.externalOrgId,
        input.orgId,
        new Date(clock()),
      ]);
      const row = rows[0];
      if (!row) throw new StoreError('store_unavailable', 'The org link was not written');
      if (row.org_id !== input.orgId) throw conflict('This org link');
      return orgFromRow(row);
    },
    async resolveOrg(provider: string, externalOrgId: string): Promise<string | null> {
      const rows = await run<OrgRow>(
        ctx,
        'org link lookup',
        `SELECT org_id FROM ${q}.org_links WHERE provider = $1 AND external_org_id = $2`,
        [provider, externalOrgId],
      );
      return rows[0]?.org_id ?? null;
    },
    async importLinks(batch: LinkImportBatch): Promise<LinkImportResult> {
      const links = batch.links ?? [];
      const orgs = batch.orgs ?? [];
      for (const l of links) checkLinkKey(l.provider, l.providerSubject, l.subject);
      for (const o of orgs) checkLinkKey(o.provider, o.externalOrgId, o.orgId);
      let client: PoolClient;
      try {
        client = await ctx.pool.connect();
      } catch (err) {
        throw toStoreError(err, 'identity link import');
      }
      const now = new Date(clock());
      let inserted = 0;
      try {
        await client.query('BEGIN');
        for (let i = 0; i < links.length; i += IMPORT_CHUNK) {
          const chunk = links.slice(i, i + IMPORT_CHUNK);
          const args = [
            chunk.map((l) => l.provider),
            chunk.map((l) => l.providerSubject),
            chunk.map((l) => l.subject),
          ];
          const ins = await client.query(
            `INSERT INTO ${q}.identity_links (provider, provider_subject, subject, created_at)
             SELECT p, s, sub, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, s, sub)
             ON CONFLICT DO NOTHING`,
            [...args, now],
          );
          inserted += ins.rowCount ?? 0;
          const bad = await client.query(
            `SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, s, sub)
             JOIN ${q}.identity_links l ON l.provider = t.p AND l.provider_subject = t.s
             WHERE l.subject <> t.sub LIMIT 1`,
            args,
          );
          if (bad.rows.length > 0) throw conflict('An imported identity link');
        }
        for (let i = 0; i < orgs.length; i += IMPORT_CHUNK) {
          const chunk = orgs.slice(i, i + IMPORT_CHUNK);
          const args = [
            chunk.map((o) => o.provider),
            chunk.map((o) => o.externalOrgId),
            chunk.map((o) => o.orgId),
          ];
          const ins = await client.query(
            `INSERT INTO ${q}.org_links (provider, external_org_id, org_id, created_at)
             SELECT p, e, o, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, e, o)
             ON CONFLICT DO NOTHING`,
            [...args, now],
          );
          inserted += ins.rowCount ?? 0;
          const bad = await client.query(
            `SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, e, o)
             JOIN ${q}.org_links l ON l.provider = t.p AND l.external_org_id = t.e
             WHERE l.org_id <> t.o LIMIT 1`,
            args,
          );
          if (bad.rows.length > 0) throw conflict('An imported org link');
        }
        await client.query('COMMIT');
        return { inserted, unchanged: links.length + orgs.length - inserted };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw toStoreError(err, 'identity link import');
      } finally {
        client.release();
      }
    },
    async close(): Promise<void> {},
  });
}
