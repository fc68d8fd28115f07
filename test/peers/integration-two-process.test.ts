import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresRefreshLock, createRedisRefreshLock } from '../../src/integration/index';
import { createPostgresStores, type PostgresStores } from '../../src/stores/postgres';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  connectViaBrowser,
  type FirstPartyPeers,
  firstPartyPlane,
  newKey,
  startFirstPartyPeers,
} from './integration-fixtures';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

const script = fileURLToPath(new URL('./fixtures/integration-instance.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  ready: Promise<void>;
  result: Promise<{ tokens?: string[]; error?: string }>;
  go(): void;
}

function startInstance(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[instance] ${line}\n`));
  let markReady: () => void = () => {};
  let deliver: (value: { tokens?: string[]; error?: string }) => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const result = new Promise<{ tokens?: string[]; error?: string }>((resolve) => {
    deliver = resolve;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as { ready?: boolean; tokens?: string[]; error?: string };
    if (message.ready) markReady();
    else deliver(message);
  });
  child.once('exit', (code) => deliver({ error: `exited with ${code}` }));
  return { ready, result, go: () => child.stdin.write('go\n') };
}

describe.skipIf(!DATABASE_URL)(
  DATABASE_URL
    ? 'IntegrationPlane refresh across instances sharing PostgreSQL'
    : 'IntegrationPlane refresh across instances sharing PostgreSQL (skipped: DATABASE_URL not set)',
  () => {
    let peers: FirstPartyPeers;
    let pg: PostgresStores;
    const schema = testSchema('integ');
    const key = newKey();
    beforeAll(async () => {
      peers = await startFirstPartyPeers();
      pg = await createPostgresStores({ connectionString: DATABASE_URL, schema });
    });
    afterAll(async () => {
      await pg?.close();
      await peers?.stop();
      await dropSchema(schema);
    });

    it('two OS processes at expiry cause exactly one refresh (PostgreSQL advisory lock)', async () => {
      const plane = await firstPartyPlane(peers, { store: pg.connections, keys: { k1: key } });
      await connectViaBrowser(plane, 'org_acme', 'two-proc');
      const env = {
        AP_SCHEMA: schema,
        AP_KEY: key,
        AP_CLIENT_ID: CLIENT_ID,
        AP_CLIENT_SECRET: CLIENT_SECRET,
        AP_TOKEN_ENDPOINT: peers.tokens.url,
        AP_CONNECTION: 'two-proc',
        AP_CLOCK_OFFSET_MS: String(2 * 3600_000),
      };
      const a = startInstance(env);
      const b = startInstance(env);
      await Promise.all([a.ready, b.ready]);
      const before = peers.tokens.refreshes;
      a.go();
      b.go();
      const [ra, rb] = await Promise.all([a.result, b.result]);
      expect(ra.error).toBeUndefined();
      expect(rb.error).toBeUndefined();
      expect(peers.tokens.refreshes - before).toBe(1);
      expect(ra.tokens).toHaveLength(1);
      expect(rb.tokens).toEqual(ra.tokens);
      expect(
        (await pg.connections.get({ orgId: 'org_acme', integration: 'github', id: 'two-proc' }))?.version,
      ).toBe(2);
    }, 30_000);

    it('two planes in one process with separate caches refresh once through the advisory lock', async () => {
      let offset = 0;
      const clock = () => Date.now() + offset;
      const a = await firstPartyPlane(peers, {
        store: pg.connections,
        keys: { k1: key },
        lock: createPostgresRefreshLock({ pool: pg.pool }),
        clock,
      });
      const b = await firstPartyPlane(peers, {
        store: pg.connections,
        keys: { k1: key },
        lock: createPostgresRefreshLock({ pool: pg.pool }),
        clock,
      });
      await connectViaBrowser(a, 'org_acme', 'pg-lock');
      offset += 2 * 3600_000;
      const before = peers.tokens.refreshes;
      const ref = { integration: 'github', connectionId: 'pg-lock', orgId: 'org_acme' };
      const tokens = await Promise.all([
        ...Array.from({ length: 50 }, () => a.getToken(ref)),
        ...Array.from({ length: 50 }, () => b.getToken(ref)),
      ]);
      expect(peers.tokens.refreshes - before).toBe(1);
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    });
  },
);

describe.skipIf(!REDIS_URL)(
  REDIS_URL
    ? 'IntegrationPlane refresh across instances with a Redis lock'
    : 'IntegrationPlane refresh across instances with a Redis lock (skipped: REDIS_URL not set)',
  () => {
    let peers: FirstPartyPeers;
    let redis: Redis;
    beforeAll(async () => {
      peers = await startFirstPartyPeers();
      redis = new Redis(REDIS_URL as string, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
    });
    afterAll(async () => {
      redis?.disconnect();
      await peers?.stop();
    });

    it('two planes with separate caches refresh once through SET NX PX', async () => {
      const { createMemoryConnectionStore } = await import('../../src/stores/memory');
      const store = createMemoryConnectionStore();
      const keys = { k1: newKey() };
      let offset = 0;
      const clock = () => Date.now() + offset;
      const prefix = `authplane-test:${Math.random().toString(36).slice(2)}:`;
      const a = await firstPartyPlane(peers, {
        store,
        keys,
        lock: createRedisRefreshLock({ client: redis, prefix }),
        clock,
      });
      const b = await firstPartyPlane(peers, {
        store,
        keys,
        lock: createRedisRefreshLock({ client: redis, prefix }),
        clock,
      });
      await connectViaBrowser(a, 'org_acme', 'redis-lock');
      offset += 2 * 3600_000;
      const before = peers.tokens.refreshes;
      const ref = { integration: 'github', connectionId: 'redis-lock', orgId: 'org_acme' };
      const tokens = await Promise.all([
        ...Array.from({ length: 50 }, () => a.getToken(ref)),
        ...Array.from({ length: 50 }, () => b.getToken(ref)),
      ]);
      expect(peers.tokens.refreshes - before).toBe(1);
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    });
  },
);
