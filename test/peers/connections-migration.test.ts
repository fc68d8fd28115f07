// Existing deployments: a connections table of the previous release (keyed by integration and id)
// is re-keyed by (org, integration, id) on upgrade, every row kept and reachable through its org.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStores, POSTGRES_MIGRATIONS } from '../../src/stores/postgres';
import { openSqliteStores } from '../../src/stores/sqlite';
import { DATABASE_URL, dropSchema, testSchema } from './pg-helpers';

const dir = mkdtempSync(join(tmpdir(), 'authplane-conn-mig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Schema 1 of the SQLite stores exactly as the previous release created it.
const SQLITE_SCHEMA_1 = `
  CREATE TABLE api_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL, prefix TEXT NOT NULL, owner_id TEXT NOT NULL,
    org_id TEXT NOT NULL, scopes TEXT NOT NULL, name TEXT, created_at INTEGER NOT NULL, expires_at INTEGER,
    revoked_at INTEGER, last_used_at INTEGER, replaced_by TEXT);
  CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
  CREATE INDEX api_keys_owner ON api_keys (owner_id, created_at);
  CREATE TABLE revocations (kind TEXT NOT NULL, value TEXT NOT NULL, until INTEGER NOT NULL, PRIMARY KEY (kind, value));
  CREATE INDEX revocations_until ON revocations (until);
  CREATE TABLE identity_links (provider TEXT NOT NULL, provider_subject TEXT NOT NULL, subject TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (provider, provider_subject));
  CREATE INDEX identity_links_subject ON identity_links (subject);
  CREATE TABLE org_links (provider TEXT NOT NULL, external_org_id TEXT NOT NULL, org_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (provider, external_org_id));
  CREATE TABLE connections (integration TEXT NOT NULL, id TEXT NOT NULL, org_id TEXT, status TEXT NOT NULL,
    metadata TEXT NOT NULL, credentials TEXT, expires_at INTEGER, version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (integration, id));
  CREATE INDEX connections_org ON connections (org_id);`;

describe('SQLite: upgrading a database of the previous release', () => {
  it('re-keys connections by org, keeps every row, and then keeps orgs apart', async () => {
    const filename = join(dir, 'v1.db');
    const old = new BetterSqlite3(filename);
    old.exec(SQLITE_SCHEMA_1);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO connections VALUES ('github', 'acme', 'org_acme', 'active', '{"login":"bot"}', 'v1.k1.blob', NULL, 3, 1000, 2000),
                                        ('jira', 'state', NULL, 'active', '{}', NULL, NULL, 1, 1000, 1000)`,
      )
      .run();
    old.close();
    const stores = await openSqliteStores({ filename });
    try {
      const row = await stores.connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' });
      expect(row).toMatchObject({ credentials: 'v1.k1.blob', version: 3, metadata: { login: 'bot' } });
      expect(await stores.connections.get({ orgId: null, integration: 'jira', id: 'state' })).toMatchObject({
        orgId: null,
      });
      await stores.connections.put({
        ...(row as NonNullable<typeof row>),
        orgId: 'org_other',
        credentials: 'x',
      });
      expect(
        (await stores.connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' }))?.credentials,
      ).toBe('v1.k1.blob');
    } finally {
      await stores.close();
    }
  });
});

describe.skipIf(!DATABASE_URL)(
  DATABASE_URL
    ? 'PostgreSQL: upgrading a schema of the previous release'
    : 'PostgreSQL: upgrading a schema of the previous release (skipped: DATABASE_URL not set)',
  () => {
    const schema = testSchema('connmig');
    afterAll(async () => {
      await dropSchema(schema);
    });

    it('migration 2 re-keys connections by org, keeps every row, and then keeps orgs apart', async () => {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      const q = `"${schema}"`;
      try {
        const first = POSTGRES_MIGRATIONS[0];
        if (!first) throw new Error('no migration 1');
        await pool.query(`CREATE SCHEMA ${q}`);
        await pool.query(
          `CREATE TABLE ${q}.authplane_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        await pool.query(first.sql.replaceAll('{schema}', q));
        await pool.query(`INSERT INTO ${q}.authplane_migrations (version, name) VALUES (1, $1)`, [
          first.name,
        ]);
        await pool.query(
          `INSERT INTO ${q}.connections VALUES ('github', 'acme', 'org_acme', 'active', '{"login":"bot"}', 'v1.k1.blob', NULL, 3, now(), now()),
                                              ('jira', 'state', NULL, 'active', '{}', NULL, NULL, 1, now(), now())`,
        );
      } finally {
        await pool.end();
      }
      const stores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel: false,
      });
      try {
        const row = await stores.connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' });
        expect(row).toMatchObject({ credentials: 'v1.k1.blob', version: 3, metadata: { login: 'bot' } });
        expect(await stores.connections.get({ orgId: null, integration: 'jira', id: 'state' })).toMatchObject(
          {
            orgId: null,
          },
        );
        await stores.connections.put({
          ...(row as NonNullable<typeof row>),
          orgId: 'org_other',
          credentials: 'x',
        });
        expect(
          (await stores.connections.get({ orgId: 'org_acme', integration: 'github', id: 'acme' }))
            ?.credentials,
        ).toBe('v1.k1.blob');
      } finally {
        await stores.close();
      }
    });
  },
);
