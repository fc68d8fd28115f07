// The plane's `control` option against real peers: two plane instances (legacy HS256 adapter + the dev
// issuer as target) share a PostgreSQL or Redis control store; a change made through the store reaches
// the other instance through LISTEN/NOTIFY or pub/sub, a failing store keeps the last known modes, and
// shadow comparisons from one instance show up in the other's fleet report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/core/failure';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import type { MigrationControlStore } from '../../src/migration/control/types';
import { importLinks, type MigrationPlane, type ModeFlagClient } from '../../src/migration/index';
import type { InvalidationChannel } from '../../src/stores/contracts';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';
import { createMemoryMigrationControlStore } from '../../src/stores/migration-control/memory';
import { createPostgresInvalidationChannel, createPostgresStores } from '../../src/stores/postgres';
import { openRedisStores } from '../../src/stores/redis';
import { sleep, uid } from '../contract/fixture';
import {
  legacyConfig,
  legacyToken,
  linksCsv,
  requestWith,
  targetConfig,
  targetUserToken,
} from './migration-fixtures';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

let dev: DevIssuer;
const tokens: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'authplane-control-'));

beforeAll(async () => {
  dev = await startDevIssuer();
  tokens.aliceLegacy = await legacyToken('alice');
  tokens.carolLegacy = await legacyToken('carol');
  tokens.aliceTarget = await targetUserToken(dev, 'alice');
}, 30_000);
afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const acme = { scope: 'org', orgId: 'org_acme' } as const;
const outcome = (r: AuthResult) => (r.ok ? 'ok' : r.failure.reason);

async function plane(
  control: Record<string, unknown> & { store: MigrationControlStore | string },
  extra: Record<string, unknown> = {},
): Promise<MigrationPlane> {
  const links = createMemoryIdentityLinkStore();
  await importLinks(links, linksCsv(), { format: 'csv' });
  return (await createIdentityPlane({
    provider: 'migration',
    legacy: legacyConfig,
    target: targetConfig(dev),
    mode: 'legacy',
    links: { store: links },
    control,
    ...extra,
  } as never)) as MigrationPlane;
}

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await sleep(20);
  }
  return Date.now() - start;
}

async function twoInstances(
  label: string,
  open: () => Promise<{ store: MigrationControlStore; channel: InvalidationChannel; close(): Promise<void> }>,
) {
  it(`${label}: a change reaches the other instance by notification within a second, and rolls back`, async () => {
    const a = await open();
    const b = await open();
    // pollSec 60: only the notification can bring the change in time.
    const instanceB = await plane({ store: b.store, channel: b.channel, pollSec: 60 });
    try {
      expect(await instanceB.migration.modeOf('org_acme')).toEqual({ mode: 'legacy', source: 'default' });
      expect(outcome(await instanceB.authenticate(requestWith(tokens.aliceLegacy as string)))).toBe('ok');
      await a.store.change({ target: acme, value: { mode: 'target' }, actor: 'ops', reason: 'cutover' });
      const took = await within(
        3_000,
        async () =>
          outcome(await instanceB.authenticate(requestWith(tokens.aliceLegacy as string))) ===
          'provider_disabled',
      );
      expect(took).toBeLessThan(3_000);
      expect(outcome(await instanceB.authenticate(requestWith(tokens.aliceTarget as string)))).toBe('ok');
      // Another tenant is untouched.
      expect(outcome(await instanceB.authenticate(requestWith(tokens.carolLegacy as string)))).toBe('ok');
      expect(await instanceB.migration.modeOf('org_acme')).toEqual({ mode: 'target', source: 'control' });
      await a.store.rollback({ target: acme, actor: 'ops', reason: 'errors' });
      await within(3_000, async () => (await instanceB.migration.modeOf('org_acme')).mode === 'legacy');
      expect(outcome(await instanceB.authenticate(requestWith(tokens.aliceLegacy as string)))).toBe('ok');
      expect(instanceB.migration.control()).toMatchObject({ version: 2, stale: false, notified: true });
    } finally {
      await instanceB.close();
      await a.close();
      await b.close();
    }
  }, 20_000);
}

describe.skipIf(!DATABASE_URL)(
  DATABASE_URL ? 'control over PostgreSQL' : 'control over PostgreSQL (skipped: DATABASE_URL not set)',
  () => {
    const schema = testSchema('ctlp');
    const notifyChannel = `${schema}_inv`;
    afterAll(() => dropSchema(schema));
    twoInstances('postgres', async () => {
      const stores = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel,
        poolConfig: { max: 3 },
      });
      const channel = await createPostgresInvalidationChannel({ pool: stores.pool, channel: notifyChannel });
      return {
        store: stores.migrationControl,
        channel,
        close: () => channel.close().then(() => stores.close()),
      };
    });
  },
);

describe.skipIf(!REDIS_URL)(
  REDIS_URL ? 'control over Redis' : 'control over Redis (skipped: REDIS_URL not set)',
  () => {
    const prefix = `${uid('t')}:`;
    const channel = uid('chan');
    afterAll(async () => {
      const r = await openRedisStores({ url: REDIS_URL, keyPrefix: prefix, channel });
      const client = r.client as Redis;
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await r.close();
    });
    twoInstances('redis', async () => {
      const stores = await openRedisStores({ url: REDIS_URL, keyPrefix: prefix, channel });
      return { store: stores.migrationControl, channel: stores.channel, close: () => stores.close() };
    });
  },
);

describe('control without a channel, failures, precedence', () => {
  it('polls at pollSec when there is no channel (SQLite spec opened from config)', async () => {
    const spec = `sqlite:${join(dir, 'poll.db')}`;
    const writer = await (await import('../../src/migration/control/open')).openControlStore(spec);
    const instance = await plane({ store: spec, pollSec: 0.2 });
    try {
      await writer.store.change({ target: acme, value: { mode: 'target' }, actor: 'ops' });
      await within(
        3_000,
        async () =>
          outcome(await instance.authenticate(requestWith(tokens.aliceLegacy as string))) ===
          'provider_disabled',
      );
    } finally {
      await instance.close();
      await writer.close();
    }
  });

  it('keeps the last known modes while the store fails or stalls, counts it, and never falls back silently', async () => {
    const inner = createMemoryMigrationControlStore();
    await inner.change({ target: acme, value: { mode: 'target' }, actor: 'ops' });
    let mode: 'up' | 'down' | 'stalled' = 'up';
    const gate = <T>(fn: () => Promise<T>): Promise<T> =>
      mode === 'up'
        ? fn()
        : mode === 'down'
          ? Promise.reject(new Error('ECONNREFUSED'))
          : new Promise<T>(() => {});
    const flaky: MigrationControlStore = {
      ...inner,
      read: () => gate(() => inner.read()),
      version: () => gate(() => inner.version()),
    };
    const instance = await plane({ store: flaky, pollSec: 0.1 });
    try {
      expect(outcome(await instance.authenticate(requestWith(tokens.aliceLegacy as string)))).toBe(
        'provider_disabled',
      );
      mode = 'down';
      await within(3_000, async () => (instance.migration.control()?.errors ?? 0) > 0);
      expect(instance.migration.control()).toMatchObject({ stale: true, version: 1 });
      expect(outcome(await instance.authenticate(requestWith(tokens.aliceLegacy as string)))).toBe(
        'provider_disabled',
      );
      mode = 'stalled';
      const errors = instance.migration.control()?.errors ?? 0;
      await within(5_000, async () => (instance.migration.control()?.errors ?? 0) > errors);
      expect(await instance.migration.modeOf('org_acme')).toEqual({ mode: 'target', source: 'control' });
      mode = 'up';
      await inner.change({ target: acme, value: { mode: 'dual' }, actor: 'ops' });
      await within(5_000, async () => (await instance.migration.modeOf('org_acme')).mode === 'dual');
      expect(instance.migration.control()?.stale).toBe(false);
    } finally {
      await instance.close();
    }
  }, 20_000);

  it('waits (bounded) for the first read, then uses the static config and says so', async () => {
    const down: MigrationControlStore = {
      ...createMemoryMigrationControlStore(),
      read: () => Promise.reject(new Error('ECONNREFUSED')),
      version: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const instance = await plane({ store: down, pollSec: 60 }, { tenants: { orgs: { org_acme: 'dual' } } });
    try {
      expect(outcome(await instance.authenticate(requestWith(tokens.aliceTarget as string)))).toBe('ok');
      expect(await instance.migration.modeOf('org_acme')).toEqual({ mode: 'dual', source: 'org' });
      expect(instance.migration.control()).toMatchObject({ stale: true, version: -1 });
      expect(instance.migration.control()?.errors).toBeGreaterThan(0);
    } finally {
      await instance.close();
    }
  });

  it('lets a configured flag service take precedence over the store', async () => {
    const store = createMemoryMigrationControlStore();
    await store.change({ target: acme, value: { mode: 'target' }, actor: 'ops' });
    const client: ModeFlagClient = {
      async getStringDetails(_key, fallback, context) {
        return context?.orgId === 'org_acme'
          ? { value: 'legacy', reason: 'TARGETING_MATCH' }
          : { value: fallback, reason: 'DEFAULT' };
      },
    };
    const instance = await plane({ store }, { modeFlag: { client } });
    try {
      expect(outcome(await instance.authenticate(requestWith(tokens.aliceLegacy as string)))).toBe('ok');
      expect(await instance.migration.modeOf('org_acme')).toEqual({ mode: 'legacy', source: 'flag' });
      // The store is the flag's default: another tenant falls through to it.
      await store.change({ target: { scope: 'default' }, value: { mode: 'target' }, actor: 'ops' });
      await within(3_000, async () => (await instance.migration.modeOf('org_globex')).mode === 'target');
    } finally {
      await instance.close();
    }
  });

  it('refuses a control option that is not a store', async () => {
    await expect(plane({ store: { read: 1 } as never })).rejects.toThrow(/control\.store/);
    await expect(plane({ store: 'ftp://nowhere' })).rejects.toThrow(/control\.store/);
    await expect(plane({ store: createMemoryMigrationControlStore(), pollSec: -1 })).rejects.toThrow(
      /pollSec/,
    );
  });

  it('sums shadow comparisons and traffic from every instance into one fleet report', async () => {
    const store = createMemoryMigrationControlStore();
    await store.change({ target: acme, value: { mode: 'shadow' }, actor: 'ops' });
    const one = await plane({ store, flushSec: 0.1, readiness: { minComparisons: 2 } }, { shadow: {} });
    const two = await plane({ store, flushSec: 0.1, readiness: { minComparisons: 2 } }, { shadow: {} });
    try {
      for (const instance of [one, two]) {
        expect(
          outcome(await instance.authenticate(requestWith(tokens.aliceLegacy as string, tokens.aliceTarget))),
        ).toBe('ok');
        await instance.migration.flush();
      }
      expect(outcome(await two.authenticate(requestWith(tokens.carolLegacy as string)))).toBe('ok');
      // A target credential in shadow is refused by the mode: a refusal in the report.
      expect(outcome(await one.authenticate(requestWith(tokens.aliceTarget as string)))).toBe(
        'provider_disabled',
      );
      await within(
        3_000,
        async () => (await one.migration.fleetReport()).tenants.org_acme?.counts.comparisons === 2,
      );
      const report = await two.migration.fleetReport();
      const acmeReport = report.tenants.org_acme;
      expect(acmeReport?.counts).toMatchObject({ comparisons: 2, legacy: 2, refusedTarget: 1 });
      expect(acmeReport?.mode).toBe('shadow');
      // Both instances compared the same pair: the same outcome twice.
      expect([0, 2]).toContain(acmeReport?.counts.agreed);
      expect(report.tenants.org_globex?.counts.legacy).toBe(1);
      expect(acmeReport?.readiness.target.ready).toBe(false); // legacy credentials still arrive
      expect(report.series.time.length).toBeGreaterThan(0);
      expect(JSON.stringify(report)).not.toContain(tokens.aliceLegacy as string);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
