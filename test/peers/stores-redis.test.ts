import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeys } from '../../src/apikeys';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { createCachedApiKeyStore, createCachedRevocationStore } from '../../src/stores/cache';
import type { InvalidationEvent } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import { createMemoryApiKeyStore } from '../../src/stores/memory';
import { createRedisInvalidationChannel, createRedisRevocationStore } from '../../src/stores/redis';
import { sleep, uid } from '../contract/fixture';
import { revocationStoreContract } from '../contract/revocation-store.contract';
import { REDIS_URL } from './pg-helpers';

const CLOSED = 'redis://127.0.0.1:1';

/** A private redis-server on a free loopback port: its memory limit and policy are ours to set. */
async function privateRedis(): Promise<{ url: string; admin: Redis; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  // No automatic reconnect: a connect that fails while the server starts is simply tried again below.
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on('error', () => {});
  const started = Date.now();
  for (;;) {
    try {
      await admin.connect();
      break;
    } catch (err) {
      if (Date.now() - started > 10_000) throw err;
      await sleep(100);
    }
  }
  return {
    url,
    admin,
    async stop() {
      admin.disconnect();
      child.kill();
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
  return Date.now() - start;
}

describe.skipIf(!REDIS_URL)(REDIS_URL ? 'redis stores' : 'redis stores (skipped: REDIS_URL not set)', () => {
  revocationStoreContract('redis', async () => {
    const store = await createRedisRevocationStore({ url: REDIS_URL, keyPrefix: `${uid('t')}:` });
    return { store, cleanup: () => store.close() };
  });

  revocationStoreContract('cached(redis) with a redis channel', async () => {
    const channel = await createRedisInvalidationChannel({ url: REDIS_URL, channel: uid('chan') });
    const inner = await createRedisRevocationStore({ url: REDIS_URL, keyPrefix: `${uid('t')}:` });
    const store = createCachedRevocationStore({ store: inner, channel });
    return { store, cleanup: () => store.close().then(() => channel.close()) };
  });

  describe('a Redis that can fill up', () => {
    let server: Awaited<ReturnType<typeof privateRedis>>;
    beforeAll(async () => {
      server = await privateRedis();
    }, 20_000);
    afterAll(() => server?.stop());

    revocationStoreContract('redis at maxmemory (noeviction)', async () => {
      await server.admin.flushall();
      await server.admin.config('SET', 'maxmemory', '0');
      await server.admin.config('SET', 'maxmemory-policy', 'noeviction');
      const used = Number(/^used_memory:(\d+)/m.exec(await server.admin.info('memory'))?.[1]);
      const store = await createRedisRevocationStore({ url: server.url, keyPrefix: `${uid('t')}:` });
      // Room for some hundreds of revocations, then Redis refuses writes.
      await server.admin.config('SET', 'maxmemory', String(used + 256 * 1024));
      return {
        store,
        capacity: 20_000,
        cleanup: async () => {
          await store.close();
          await server.admin.config('SET', 'maxmemory', '0');
        },
      };
    });

    for (const policy of ['volatile-lru', 'allkeys-lru', 'volatile-ttl']) {
      it(`refuses to open on a Redis that evicts (${policy}): it would un-revoke tokens`, async () => {
        await server.admin.config('SET', 'maxmemory-policy', policy);
        try {
          const error = await createRedisRevocationStore({ url: server.url }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).message).toMatch(/noeviction/);
        } finally {
          await server.admin.config('SET', 'maxmemory-policy', 'noeviction');
        }
      });
    }
  });

  it('fails to open against a closed port with store_unavailable', async () => {
    const error = await createRedisRevocationStore({ url: CLOSED }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_unavailable');
  });

  it('answers provider_unavailable when Redis goes away, never "not revoked"', async () => {
    const client = new Redis(REDIS_URL as string, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    await until(() => client.status === 'ready');
    const store = await createRedisRevocationStore({ client, keyPrefix: `${uid('t')}:` });
    expect(await store.isRevoked({ jti: 'a' })).toBe(false);
    client.disconnect();
    const error = await store.isRevoked({ jti: 'a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthRejection);
    expect((error as AuthRejection).reason).toBe('provider_unavailable');
    await store.close();
  });

  it('broadcasts invalidations between two channel instances', async () => {
    const name = uid('chan');
    const a = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
    const b = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
    const heard: InvalidationEvent[] = [];
    b.subscribe((e) => heard.push(e));
    expect(a.healthy && b.healthy).toBe(true);
    await a.publish({ type: 'revocation', jti: 'j1', until: 123 });
    await until(() => heard.length > 0);
    expect(heard).toEqual([{ type: 'revocation', jti: 'j1', until: 123 }]);
    await Promise.all([a.close(), b.close()]);
  });

  it('resubscribes after its connection is killed and emits reset', async () => {
    const name = uid('chan');
    const connectionName = uid('sub');
    const channel = await createRedisInvalidationChannel({
      url: REDIS_URL,
      channel: name,
      redisOptions: { connectionName },
    });
    const heard: InvalidationEvent[] = [];
    channel.subscribe((e) => heard.push(e));
    const admin = new Redis(REDIS_URL as string);
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => l.includes(`name=${connectionName}`) && / sub=1 /.test(l));
    const id = /id=(\d+)/.exec(line ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id as string);
    await until(() => !channel.healthy);
    await until(() => channel.healthy);
    expect(heard).toContainEqual({ type: 'reset' });
    await admin.publish(name, JSON.stringify({ type: 'api_key', id: 'k9' }));
    await until(() => heard.some((e) => e.type === 'api_key'));
    admin.disconnect();
    await channel.close();
  });

  describe('API key caches on two instances sharing one store', () => {
    it('refuse a key revoked on the other instance as soon as the channel delivers (TTL 60 s)', async () => {
      const name = uid('chan');
      const shared = createMemoryApiKeyStore(); // stands for the shared database
      const chanA = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
      const chanB = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
      const a = createApiKeys({
        store: createCachedApiKeyStore({ store: shared, channel: chanA, ttlMs: 60_000 }),
        prefix: 'ap_test',
      });
      const b = createApiKeys({
        store: createCachedApiKeyStore({ store: shared, channel: chanB, ttlMs: 60_000 }),
        prefix: 'ap_test',
      });
      const { key, record } = await a.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
      await b.verifyPrincipal(key); // cached on B
      await a.revoke(record.id);
      const elapsed = await until(
        () =>
          b.verifyPrincipal(key).then(
            () => false,
            (e: AuthRejection) => e.reason === 'api_key_revoked',
          ),
        1_000,
      );
      expect(elapsed).toBeLessThan(1_000);
      await Promise.all([a.close(), b.close(), chanA.close(), chanB.close()]);
    });

    it('fall back to the short TTL while the channel is down: refused within degradedTtlMs', async () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const shared = createMemoryApiKeyStore();
      const down = await createRedisInvalidationChannel({ url: CLOSED, waitForConnection: false });
      expect(down.healthy).toBe(false);
      const a = createApiKeys({ store: shared, prefix: 'ap_test', clock });
      const bStore = createCachedApiKeyStore({
        store: shared,
        channel: down,
        ttlMs: 60_000,
        degradedTtlMs: 1_000,
        clock,
      });
      const b = createApiKeys({ store: bStore, prefix: 'ap_test', clock });
      const { key, record } = await a.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
      await b.verifyPrincipal(key);
      expect(bStore.size).toBe(1);
      await a.revoke(record.id); // B hears nothing
      now += 1_000;
      await expect(b.verifyPrincipal(key)).rejects.toMatchObject({ reason: 'api_key_revoked' });
      await Promise.all([a.close(), b.close(), down.close()]);
    });
  });
});
