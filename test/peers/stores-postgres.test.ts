import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeys } from '../../src/apikeys';
import { AuthRejection } from '../../src/core/failure';
import type { InvalidationEvent } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import {
  createPostgresInvalidationChannel,
  createPostgresStores,
  migratePostgres,
  POSTGRES_MIGRATIONS,
  type PostgresStores,
} from '../../src/stores/postgres';
import { apiKeyStoreContract } from '../contract/api-key-store.contract';
import { connectionStoreContract } from '../contract/connection-store.contract';
import { sleep } from '../contract/fixture';
import { identityLinkStoreContract } from '../contract/identity-link-store.contract';
import { revocationStoreContract } from '../contract/revocation-store.contract';
import { DATABASE_URL, dropSchema, testSchema } from './pg-helpers';

// A port nothing listens on: connection refused, at once.
const CLOSED = 'postgres://postgres@127.0.0.1:1/test';

describe.skipIf(!DATABASE_URL)(
  DATABASE_URL ? 'postgres stores' : 'postgres stores (skipped: DATABASE_URL not set)',
  () => {
    const schema = testSchema('stores');
    const channelName = `${schema}_inv`;
    let stores: PostgresStores;

    beforeAll(async () => {
      stores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel: channelName,
      });
    });
    afterAll(async () => {
      await stores?.close();
      await dropSchema(schema);
    });

    // One schema for the file; the contract suites use unique ids, so they share it safely.
    apiKeyStoreContract('postgres', async () => ({ store: stores.apiKeys }));
    revocationStoreContract('postgres', async () => ({ store: stores.revocation }));
    identityLinkStoreContract('postgres', async () => ({ store: stores.links }));
    connectionStoreContract('postgres', async () => ({ store: stores.connections }));

    describe('migrations', () => {
      it('apply once and are a no-op afterwards', async () => {
        const fresh = testSchema('mig');
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
        try {
          expect(await migratePostgres(pool, { schema: fresh })).toEqual({
            applied: POSTGRES_MIGRATIONS.map((m) => m.version),
          });
          expect(await migratePostgres(pool, { schema: fresh })).toEqual({ applied: [] });
          const { rows } = await pool.query(`SELECT version FROM "${fresh}".authplane_migrations`);
          expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        } finally {
          await pool.end();
          await dropSchema(fresh);
        }
      });

      it('are applied exactly once when several instances start at the same moment', async () => {
        const fresh = testSchema('race');
        const pools = Array.from(
          { length: 4 },
          () => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }),
        );
        try {
          const results = await Promise.all(pools.map((pool) => migratePostgres(pool, { schema: fresh })));
          expect(results.flatMap((r) => r.applied)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        } finally {
          await Promise.all(pools.map((p) => p.end()));
          await dropSchema(fresh);
        }
      });

      it('refuse a schema name that is not a plain identifier', async () => {
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        await expect(migratePostgres(pool, { schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(TypeError);
        await pool.end();
      });
    });

    describe('outage', () => {
      it('fails to open against a closed port with store_unavailable', async () => {
        const error = await createPostgresStores({ connectionString: CLOSED }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('store_unavailable');
        expect((error as Error).message).not.toContain('postgres://');
      });

      it('turns a lookup during an outage into provider_unavailable, never an accept', async () => {
        // Issue on the real database, then verify the same key through a pool whose server is gone.
        const keys = createApiKeys({ store: stores.apiKeys, prefix: 'ap_test' });
        const { key } = await keys.issue({ ownerId: 'usr_1', orgId: 'org_1', scopes: ['read'] });
        const down = await createPostgresStores({ connectionString: CLOSED, migrate: false });
        const downKeys = createApiKeys({ store: down.apiKeys, prefix: 'ap_test' });
        const error = await downKeys.verifyPrincipal(key).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AuthRejection);
        expect((error as AuthRejection).reason).toBe('provider_unavailable');
        expect((error as Error).message).not.toContain(key);
        const result = await downKeys.verify(key);
        expect(result.ok ? 'accepted' : result.failure.status).toBe(503);
        await expect(down.revocation.isRevoked({ jti: 'j' })).rejects.toMatchObject({
          reason: 'provider_unavailable',
        });
        await expect(down.apiKeys.list({ orgId: 'org_1' })).rejects.toMatchObject({
          code: 'store_unavailable',
        });
        await Promise.all([keys.close(), downKeys.close(), down.close()]);
      });
    });

    describe('LISTEN/NOTIFY', () => {
      it('notifies listeners of a key revocation and a jti revocation in the committing statement', async () => {
        const channel = await createPostgresInvalidationChannel({ pool: stores.pool, channel: channelName });
        const events: InvalidationEvent[] = [];
        channel.subscribe((e) => events.push(e));
        expect(channel.healthy).toBe(true);
        const keys = createApiKeys({ store: stores.apiKeys, prefix: 'ap_test' });
        const { record } = await keys.issue({ ownerId: 'usr_n', orgId: 'org_n', scopes: [] });
        await keys.revoke(record.id);
        const until = new Date(Date.now() + 60_000);
        await stores.revocation.add({ jti: 'jti-notify' }, until);
        for (let i = 0; i < 50 && events.length < 2; i++) await sleep(20);
        expect(events).toEqual([
          { type: 'api_key', id: record.id },
          { type: 'revocation', jti: 'jti-notify', until: until.getTime() },
        ]);
        await Promise.all([keys.close(), channel.close()]);
      });

      it('reconnects after its connection is killed, then emits reset', async () => {
        const channel = await createPostgresInvalidationChannel({
          connectionString: DATABASE_URL,
          channel: channelName,
          maxReconnectDelayMs: 200,
        });
        const events: InvalidationEvent[] = [];
        channel.subscribe((e) => events.push(e));
        await stores.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [
          `LISTEN ${channelName}`,
        ]);
        for (let i = 0; i < 50 && channel.healthy; i++) await sleep(10);
        expect(channel.healthy).toBe(false);
        for (let i = 0; i < 100 && !channel.healthy; i++) await sleep(20);
        expect(channel.healthy).toBe(true);
        expect(events).toContainEqual({ type: 'reset' });
        await channel.publish({ type: 'api_key', id: 'after-reconnect' });
        for (let i = 0; i < 50 && events.length < 2; i++) await sleep(20);
        expect(events).toContainEqual({ type: 'api_key', id: 'after-reconnect' });
        await channel.close();
      });
    });
  },
);
