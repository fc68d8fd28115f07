import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryConnectionStore } from '../../src/stores/memory';
import { openSqliteStores } from '../../src/stores/sqlite';
import { integrationPlaneContract } from '../contract/integration-plane.contract';
import { firstPartyFixture, nangoFixture } from './integration-fixtures';

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

integrationPlaneContract('nango (real @nangohq/node SDK, loopback fake of the Nango API, direct fetch)', () =>
  nangoFixture('direct'),
);

integrationPlaneContract(
  'nango (real @nangohq/node SDK, loopback fake of the Nango API, fetch through the proxy)',
  () => nangoFixture('proxy'),
);
