// The library's revocation paths publish on every configured channel: a plane (plane.revoke) and an
// API key service (keys.revoke) on one instance, configured by AUTHPLANE_INVALIDATION_CHANNELS, reach
// an instance that listens only on Redis and one that listens only on PostgreSQL.
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKeys } from '../../src/apikeys';
import { freezePrincipal } from '../../src/core/principal';
import { createPlane } from '../../src/identity/plane';
import { createCachedApiKeyStore, createCachedRevocationStore } from '../../src/stores/cache';
import { openInvalidationChannels } from '../../src/stores/channels';
import { createPostgresInvalidationChannel, createPostgresStores } from '../../src/stores/postgres';
import { createRedisInvalidationChannel } from '../../src/stores/redis';
import { sleep } from '../contract/fixture';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

async function within(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) return Number.POSITIVE_INFINITY;
    await sleep(10);
  }
  return performance.now() - start;
}

const enabled = Boolean(DATABASE_URL && REDIS_URL);

describe.skipIf(!enabled)(
  enabled ? 'fan-out publishing' : 'fan-out publishing (skipped: DATABASE_URL or REDIS_URL not set)',
  () => {
    const schema = testSchema('fan');
    afterAll(() => dropSchema(schema));

    it('plane.revoke and keys.revoke reach a Redis-only and a PostgreSQL-only listener', async () => {
      // notifyChannel: false, so the PostgreSQL store's own NOTIFY cannot explain what the listener hears.
      const stores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel: false,
      });
      const redis = new URL(REDIS_URL as string);
      redis.searchParams.set('channel', `${schema}:inv`);
      const postgres = new URL(DATABASE_URL as string);
      postgres.searchParams.set('channel', `${schema}_inv`);
      const writerChannel = await openInvalidationChannels({
        env: { AUTHPLANE_INVALIDATION_CHANNELS: `${redis},${postgres}` },
      });
      expect(writerChannel?.healthy).toBe(true);
      const onRedis = await createRedisInvalidationChannel({ url: REDIS_URL, channel: `${schema}:inv` });
      const onPostgres = await createPostgresInvalidationChannel({
        pool: stores.pool,
        channel: `${schema}_inv`,
      });
      const readers = [onRedis, onPostgres].map((channel) => ({
        revocation: createCachedRevocationStore({ store: stores.revocation, channel, ttlMs: 60_000 }),
        keys: createApiKeys({
          store: createCachedApiKeyStore({ store: stores.apiKeys, channel, ttlMs: 60_000 }),
          prefix: 'ap_test',
        }),
      }));
      try {
        const writerRevocation = createCachedRevocationStore({
          store: stores.revocation,
          channel: writerChannel ?? undefined,
        });
        const plane = createPlane(
          {
            name: 'fake',
            verify: async () =>
              freezePrincipal({
                subject: 'u',
                providerSubject: 'u',
                provider: 'fake',
                kind: 'user',
                orgId: null,
                roles: [],
                scopes: [],
                sessionId: null,
                expiresAt: null,
                authMethod: 'jwt',
                claims: { jti: 'j' },
              }),
          },
          { revocation: writerRevocation },
        );
        const writerKeys = createApiKeys({
          store: createCachedApiKeyStore({ store: stores.apiKeys, channel: writerChannel ?? undefined }),
          prefix: 'ap_test',
        });
        const { key, record } = await writerKeys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
        for (const r of readers) {
          expect(await r.revocation.isRevoked({ jti: 'jti-fan' })).toBe(false); // cached 60 s
          await r.keys.verifyPrincipal(key); // cached 60 s
        }
        await plane.revoke({ jti: 'jti-fan', until: new Date(Date.now() + 600_000) });
        await writerKeys.revoke(record.id);
        for (const r of readers) {
          expect(await within(() => r.revocation.isRevoked({ jti: 'jti-fan' }), 3_000)).toBeLessThan(3_000);
          const keyMs = await within(
            () =>
              r.keys.verifyPrincipal(key).then(
                () => false,
                (e: { reason?: string }) => e.reason === 'api_key_revoked',
              ),
            3_000,
          );
          expect(keyMs).toBeLessThan(3_000);
        }
        await Promise.all([plane.close(), writerKeys.close()]);
      } finally {
        await Promise.all(readers.map((r) => Promise.all([r.revocation.close(), r.keys.close()])));
        await Promise.all([onRedis.close(), onPostgres.close(), writerChannel?.close()]);
        await stores.close();
      }
    }, 30_000);
  },
);
