import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { createMemoryConnectionStore } from '../../src/stores/memory';
import { createPostgresStores } from '../../src/stores/postgres';
import { openSqliteStores } from '../../src/stores/sqlite';
import { integrationPlaneContract } from '../contract/integration-plane.contract';
import { firstPartyFixture, nangoFixture } from './integration-fixtures';
import { DATABASE_URL, dropSchema, testSchema } from './pg-helpers';

integrationPlaneContract('first-party (memory store, oidc-provider as the authorization server)', () =>
  firstPartyFixture(async () => ({ store: createMemoryConnectionStore(), close: async () => {} })),
);

integrationPlaneContract('first-party (SQLite store, oidc-provider as the authorization server)', () =>
  firstPartyFixture(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authplane-integration-'));
    const sqlite = await openSqliteStores({ filename: join(dir, 'authplane.db') });
    return {
      store: sqlite.connections,
      close: async () => {
        await sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }),
);

if (DATABASE_URL) {
  integrationPlaneContract('first-party (PostgreSQL store, oidc-provider as the authorization server)', () =>
    firstPartyFixture(async () => {
      const schema = testSchema('integration');
      const pg = await createPostgresStores({ connectionString: DATABASE_URL, schema, notifyChannel: false });
      return {
        store: pg.connections,
        close: async () => {
          await pg.close();
          await dropSchema(schema);
        },
      };
    }),
  );
} else {
  describe.skip('IntegrationPlane contract: first-party (PostgreSQL store) (skipped: DATABASE_URL not set)', () => {
    it('needs DATABASE_URL', () => {});
  });
}

integrationPlaneContract('nango (real @nangohq/node SDK, loopback fake of the Nango API, direct fetch)', () =>
  nangoFixture('direct'),
);

integrationPlaneContract(
  'nango (real @nangohq/node SDK, loopback fake of the Nango API, fetch through the proxy)',
  () => nangoFixture('proxy'),
);
