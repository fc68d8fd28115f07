// A channel whose socket stops answering without closing (a hung Redis, a partitioned PostgreSQL
// connection) must not keep reporting itself healthy: within about a second of silence the caches in
// front of it fall back to their 1-second TTL, so a revocation it never delivers is still refused.
// The stall is real: a loopback proxy that stops forwarding bytes but keeps every socket open.
import { afterEach, describe, expect, it } from 'vitest';
import { createCachedRevocationStore } from '../../src/stores/cache';
import type { InvalidationChannel, InvalidationEvent, RevocationStore } from '../../src/stores/contracts';
import {
  createPostgresInvalidationChannel,
  createPostgresStores,
  type PostgresStores,
} from '../../src/stores/postgres';
import { createRedisInvalidationChannel, createRedisRevocationStore } from '../../src/stores/redis';
import { sleep, uid } from '../contract/fixture';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';
import { type StallProxy, startStallProxy } from './stall-proxy';

async function within(check: () => boolean | Promise<boolean>, limitMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) return Number.POSITIVE_INFINITY;
    await sleep(20);
  }
  return performance.now() - start;
}

const inMs = (ms: number) => new Date(Date.now() + ms);

interface Setup {
  /** The instance under attack: its channel goes through the proxy, its store does not. */
  readonly stalled: InvalidationChannel;
  /** Another instance's channel, connected directly. */
  readonly direct: InvalidationChannel;
  /** The shared revocation store, reached directly. */
  readonly store: RevocationStore;
  readonly cleanup: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
});

function livenessSuite(name: string, setup: (proxy: StallProxy) => Promise<Setup>, upstream: string) {
  describe(`${name} channel behind a paused proxy`, () => {
    it('turns unhealthy within about a second, so a revocation it never delivers is refused in < 3 s', async () => {
      const u = new URL(upstream);
      const proxy = await startStallProxy(u.hostname, Number(u.port));
      cleanups.push(() => proxy.close());
      const { stalled, direct, store, cleanup } = await setup(proxy);
      cleanups.unshift(cleanup);
      // Instance B: a 60 s cache that only its (stalled) channel can keep honest.
      const b = createCachedRevocationStore({ store, channel: stalled, ttlMs: 60_000 });
      // Instance A: revokes through the shared store and publishes on its own, working channel.
      const a = createCachedRevocationStore({ store, channel: direct, ttlMs: 60_000 });
      const heard: InvalidationEvent[] = [];
      stalled.subscribe((e) => heard.push(e));

      const jti = uid('jti');
      expect(await b.isRevoked({ jti })).toBe(false); // cached "not revoked"
      expect(stalled.healthy).toBe(true);
      await sleep(600); // several heartbeats answered: a healthy channel does not flap
      expect(stalled.healthy).toBe(true);

      proxy.pause();
      await a.add({ jti }, inMs(600_000));
      const refusedMs = await within(() => b.isRevoked({ jti }), 5_000);
      expect(refusedMs).toBeLessThan(3_000);
      expect(stalled.healthy).toBe(false);
      expect(heard.filter((e) => e.type === 'revocation')).toEqual([]); // it really heard nothing

      proxy.resume();
      expect(await within(() => stalled.healthy, 10_000)).toBeLessThan(10_000);
      expect(heard).toContainEqual({ type: 'reset' }); // anything may have been missed: caches start over
      // And it delivers again.
      const next = uid('jti');
      await direct.publish({ type: 'revocation', jti: next, until: Date.now() + 60_000 });
      expect(
        await within(() => heard.some((e) => e.type === 'revocation' && e.jti === next), 3_000),
      ).toBeLessThan(3_000);
    }, 30_000);

    it('drops a connection silent for reconnectAfterMs and comes back on a new one', async () => {
      const u = new URL(upstream);
      const proxy = await startStallProxy(u.hostname, Number(u.port));
      cleanups.push(() => proxy.close());
      const { stalled, cleanup } = await setup(proxy);
      cleanups.unshift(cleanup);
      expect(stalled.healthy).toBe(true);
      proxy.pause();
      expect(await within(() => !stalled.healthy, 3_000)).toBeLessThan(3_000);
      await sleep(2_500); // past reconnectAfterMs (2 s here): the old socket is given up
      proxy.resume();
      expect(await within(() => stalled.healthy, 10_000)).toBeLessThan(10_000);
    }, 30_000);
  });
}

const liveness = { reconnectAfterMs: 2_000 };

describe.skipIf(!REDIS_URL)(REDIS_URL ? 'redis' : 'redis (skipped: REDIS_URL not set)', () => {
  livenessSuite(
    'redis',
    async (proxy) => {
      const name = uid('chan');
      const stalled = await createRedisInvalidationChannel({
        url: proxy.url(REDIS_URL as string),
        channel: name,
        liveness,
      });
      const direct = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
      const store = await createRedisRevocationStore({ url: REDIS_URL, keyPrefix: `${uid('t')}:` });
      return {
        stalled,
        direct,
        store,
        cleanup: async () => {
          await Promise.all([stalled.close(), direct.close(), store.close()]);
        },
      };
    },
    REDIS_URL ?? 'redis://127.0.0.1:6379',
  );
});

describe.skipIf(!DATABASE_URL)(DATABASE_URL ? 'postgres' : 'postgres (skipped: DATABASE_URL not set)', () => {
  livenessSuite(
    'postgres',
    async (proxy) => {
      const schema = testSchema('live');
      const channel = `${schema}_inv`;
      const stores: PostgresStores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel: channel,
      });
      const stalled = await createPostgresInvalidationChannel({
        connectionString: proxy.url(DATABASE_URL as string),
        channel,
        maxReconnectDelayMs: 500,
        liveness,
      });
      const direct = await createPostgresInvalidationChannel({ pool: stores.pool, channel });
      return {
        stalled,
        direct,
        store: stores.revocation,
        cleanup: async () => {
          await Promise.all([stalled.close(), direct.close()]);
          await stores.close();
          await dropSchema(schema);
        },
      };
    },
    DATABASE_URL ?? 'postgres://127.0.0.1:5432/test',
  );
});
