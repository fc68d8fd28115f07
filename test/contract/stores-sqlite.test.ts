import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteMigrationControlStore } from '../../src/stores/migration-control/sqlite';
import { openSqliteStores, type SqliteStores } from '../../src/stores/sqlite';
import { apiKeyStoreContract } from './api-key-store.contract';
import { connectionStoreContract } from './connection-store.contract';
import { identityLinkStoreContract } from './identity-link-store.contract';
import { migrationControlStoreContract } from './migration-control-store.contract';
import { revocationStoreContract } from './revocation-store.contract';

const dir = mkdtempSync(join(tmpdir(), 'authplane-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// A new database file per test: the embedded default as users get it (file path, WAL, schema on open).
async function open(): Promise<SqliteStores> {
  return openSqliteStores({ filename: join(dir, `stores-${++n}.db`) });
}

apiKeyStoreContract('sqlite', async () => {
  const s = await open();
  return { store: s.apiKeys, cleanup: () => s.close() };
});
revocationStoreContract('sqlite', async () => {
  const s = await open();
  return { store: s.revocation, cleanup: () => s.close() };
});
revocationStoreContract('sqlite (a database that cannot grow: max_page_count)', async () => {
  const s = await open();
  // The disk is full, as far as SQLite knows: two more pages and no more.
  const pages = s.db.pragma('page_count', { simple: true }) as number;
  s.db.pragma(`max_page_count = ${pages + 2}`);
  return { store: s.revocation, capacity: 2_000, cleanup: () => s.close() };
});
identityLinkStoreContract('sqlite', async () => {
  const s = await open();
  return { store: s.links, cleanup: () => s.close() };
});
connectionStoreContract('sqlite', async () => {
  const s = await open();
  return { store: s.connections, cleanup: () => s.close() };
});

describe('sqlite file', () => {
  it('opens in WAL mode, creates the schema once, and keeps data across reopen', async () => {
    const filename = join(dir, 'reopen.db');
    const first = await openSqliteStores({ filename });
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(first.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(2);
    await first.links.link({ provider: 'legacy', providerSubject: '1', subject: 'usr_1' });
    await first.close();
    const second = await openSqliteStores({ filename });
    expect(await second.links.resolve('legacy', '1')).toBe('usr_1');
    await second.close();
  });

  it('sees a revocation written by another connection to the same file (a CLI beside a server)', async () => {
    const filename = join(dir, 'shared.db');
    const server = await openSqliteStores({ filename });
    const cli = await openSqliteStores({ filename });
    await cli.revocation.add({ jti: 'j1' }, new Date(Date.now() + 60_000));
    expect(await server.revocation.isRevoked({ jti: 'j1' })).toBe(true);
    await Promise.all([server.close(), cli.close()]);
  });

  it('reports a closed database as a store failure, and provider_unavailable on the revocation check', async () => {
    const s = await openSqliteStores({ filename: join(dir, 'closed.db') });
    await s.close();
    await expect(s.apiKeys.findById('x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(s.revocation.isRevoked({ jti: 'x' })).rejects.toMatchObject({
      reason: 'provider_unavailable',
    });
  });
});

migrationControlStoreContract('sqlite', async (options) => {
  const s = await open();
  const store = options
    ? createSqliteMigrationControlStore(
        s.db as Parameters<typeof createSqliteMigrationControlStore>[0],
        options,
      )
    : s.migrationControl;
  return { store, cleanup: () => s.close() };
});
