import type { Redis } from 'ioredis';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { InvalidationEvent } from '../../src/stores/contracts';
import { createPostgresMigrationControlStore } from '../../src/stores/migration-control/postgres';
import { createPostgresInvalidationChannel, createPostgresStores } from '../../src/stores/postgres';
import { createRedisInvalidationChannel, openRedisStores } from '../../src/stores/redis';
import { sleep, uid } from '../contract/fixture';
import { migrationControlStoreContract } from '../contract/migration-control-store.contract';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe.skipIf(!DATABASE_URL)(
  DATABASE_URL ? 'postgres control store' : 'postgres control store (skipped: DATABASE_URL not set)',
  () => {
    migrationControlStoreContract('postgres', async (options) => {
      const schema = testSchema('ctl');
      const stores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        poolConfig: { max: 4 },
      });
      const store = options
        ? createPostgresMigrationControlStore({
            pool: stores.pool as pg.Pool,
            schema,
            notify: null,
            ...options,
          })
        : stores.migrationControl;
      return { store, cleanup: () => stores.close().then(() => dropSchema(schema)) };
    });

    it('NOTIFYs a committed change on the stores channel, with its version', async () => {
      const schema = testSchema('ctln');
      const notifyChannel = `${schema}_inv`;
      const stores = await createPostgresStores({ connectionString: DATABASE_URL, schema, notifyChannel });
      const channel = await createPostgresInvalidationChannel({
        connectionString: DATABASE_URL,
        channel: notifyChannel,
      });
      const seen: InvalidationEvent[] = [];
      channel.subscribe((e) => seen.push(e));
      try {
        await stores.migrationControl.change({
          target: { scope: 'org', orgId: 'org_a' },
          value: { mode: 'dual' },
          actor: 'ops',
        });
        await until(() => seen.some((e) => e.type === 'migration_control'));
        expect(seen.find((e) => e.type === 'migration_control')).toEqual({
          type: 'migration_control',
          version: 1,
        });
        // A refused (conflicting) change commits nothing and notifies nothing.
        await stores.migrationControl
          .change({ target: { scope: 'default' }, value: { mode: 'dual' }, actor: 'ops', expectedVersion: 0 })
          .catch(() => {});
        await sleep(200);
        expect(seen.filter((e) => e.type === 'migration_control').length).toBe(1);
      } finally {
        await channel.close();
        await stores.close();
        await dropSchema(schema);
      }
    });
  },
);

describe.skipIf(!REDIS_URL)(
  REDIS_URL ? 'redis control store' : 'redis control store (skipped: REDIS_URL not set)',
  () => {
    migrationControlStoreContract('redis', async (options) => {
      const prefix = `${uid('t')}:`;
      const stores = await openRedisStores({ url: REDIS_URL, keyPrefix: prefix, channel: uid('chan') });
      const store = options
        ? (await import('../../src/stores/migration-control/redis')).createRedisMigrationControlStore({
            client: stores.client as Redis,
            keyPrefix: prefix,
            ...options,
          })
        : stores.migrationControl;
      const cleanup = async () => {
        const client = stores.client as Redis;
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
        await stores.close();
      };
      return { store, cleanup };
    });

    it('publishes a change on the invalidation channel', async () => {
      const name = uid('chan');
      const prefix = `${uid('t')}:`;
      const stores = await openRedisStores({ url: REDIS_URL, keyPrefix: prefix, channel: name });
      const other = await createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
      const seen: InvalidationEvent[] = [];
      other.subscribe((e) => seen.push(e));
      try {
        await stores.migrationControl.change({
          target: { scope: 'default' },
          value: { mode: 'shadow' },
          actor: 'ops',
        });
        await until(() => seen.some((e) => e.type === 'migration_control'));
        expect(seen.find((e) => e.type === 'migration_control')).toEqual({
          type: 'migration_control',
          version: 1,
        });
      } finally {
        await other.close();
        const client = stores.client as Redis;
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
        await stores.close();
      }
    });
  },
);
