import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControlStoreOptions } from '../../src/migration/control/store';
import { EMPTY_SHADOW_COUNTS } from '../../src/migration/control/store';
import type { MigrationControlStore } from '../../src/migration/control/types';
import { StoreError } from '../../src/stores/errors';
import { type Fixture, uid } from './fixture';

const org = (orgId: string) => ({ scope: 'org', orgId }) as const;

/**
 * The MigrationControlStore contract, for every implementation. Each call of `factory` must give an
 * empty store of its own (a new file, schema or key prefix).
 *
 * @example
 * ```ts
 * migrationControlStoreContract('memory', async (o) => ({ store: createMemoryMigrationControlStore(o) }));
 * ```
 */
export function migrationControlStoreContract(
  name: string,
  factory: (options?: ControlStoreOptions) => Promise<Fixture<MigrationControlStore>>,
): void {
  describe(`MigrationControlStore contract: ${name}`, () => {
    let fixture: Fixture<MigrationControlStore>;
    let store: MigrationControlStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('starts empty at version 0', async () => {
      expect(await store.version()).toBe(0);
      expect(await store.read()).toEqual({ version: 0, defaultMode: null, rollout: null, orgs: {} });
      expect(await store.history()).toEqual([]);
    });

    it('versions every change with who, when and why, and keeps what was there before', async () => {
      const acme = uid('org');
      const before = Date.now();
      const first = await store.change({
        target: org(acme),
        value: { mode: 'shadow' },
        actor: 'alice',
        reason: 'ticket 1',
      });
      const second = await store.change({ target: org(acme), value: { mode: 'dual' }, actor: 'bob' });
      expect(first).toMatchObject({
        version: 1,
        value: { mode: 'shadow' },
        previous: null,
        actor: 'alice',
        reason: 'ticket 1',
        rollbackOf: null,
      });
      expect(second).toMatchObject({
        version: 2,
        value: { mode: 'dual' },
        previous: { mode: 'shadow' },
        actor: 'bob',
        reason: null,
      });
      expect(first.at).toBeInstanceOf(Date);
      expect(first.at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const state = await store.read();
      expect(state.version).toBe(2);
      expect(state.orgs[acme]).toMatchObject({ value: { mode: 'dual' }, version: 2, actor: 'bob' });
      expect(await store.version()).toBe(2);
      const history = await store.history({ target: org(acme) });
      expect(history.map((c) => c.version)).toEqual([2, 1]);
      expect(history[1]?.at.getTime()).toBe(first.at.getTime());
    });

    it('keeps the default mode, the rollout and org overrides apart', async () => {
      const acme = uid('org');
      await store.change({ target: { scope: 'default' }, value: { mode: 'shadow' }, actor: 'ops' });
      await store.change({
        target: { scope: 'rollout' },
        value: { mode: 'dual', percent: 12.5, seed: 's1' },
        actor: 'ops',
      });
      await store.change({ target: org(acme), value: { mode: 'target' }, actor: 'ops' });
      const state = await store.read();
      expect(state.defaultMode?.value).toEqual({ mode: 'shadow' });
      expect(state.rollout?.value).toEqual({ mode: 'dual', percent: 12.5, seed: 's1' });
      expect(Object.keys(state.orgs)).toEqual([acme]);
      expect((await store.history({ target: { scope: 'rollout' } })).length).toBe(1);
      expect((await store.history()).map((c) => c.version)).toEqual([3, 2, 1]);
      expect((await store.history({ limit: 2 })).length).toBe(2);
    });

    it('clears an entry with a null value, as a version of its own', async () => {
      const acme = uid('org');
      await store.change({ target: org(acme), value: { mode: 'dual' }, actor: 'ops' });
      const cleared = await store.change({ target: org(acme), value: null, actor: 'ops' });
      expect(cleared).toMatchObject({ version: 2, value: null, previous: { mode: 'dual' } });
      expect((await store.read()).orgs[acme]).toBeUndefined();
    });

    it('rolls back to the previous version, and a rollback can itself be rolled back', async () => {
      const acme = uid('org');
      await store.change({ target: org(acme), value: { mode: 'shadow' }, actor: 'ops' });
      await store.change({ target: org(acme), value: { mode: 'dual' }, actor: 'ops' });
      const back = await store.rollback({ target: org(acme), actor: 'carol', reason: 'errors' });
      expect(back).toMatchObject({
        version: 3,
        value: { mode: 'shadow' },
        previous: { mode: 'dual' },
        rollbackOf: 2,
        actor: 'carol',
        reason: 'errors',
      });
      expect((await store.read()).orgs[acme]?.value.mode).toBe('shadow');
      await store.rollback({ target: org(acme), actor: 'carol' });
      expect((await store.read()).orgs[acme]?.value.mode).toBe('dual');
    });

    it('rolls a first change back to "no override"', async () => {
      const acme = uid('org');
      await store.change({ target: org(acme), value: { mode: 'target' }, actor: 'ops' });
      await store.rollback({ target: org(acme), actor: 'ops' });
      expect((await store.read()).orgs[acme]).toBeUndefined();
    });

    it('refuses to roll back a target that never changed', async () => {
      const error = await store.rollback({ target: org(uid('org')), actor: 'ops' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('store_conflict');
      expect(await store.version()).toBe(0);
    });

    it('refuses a stale expectedVersion and writes nothing', async () => {
      const acme = uid('org');
      await store.change({ target: org(acme), value: { mode: 'dual' }, actor: 'ops' });
      const error = await store
        .change({ target: org(acme), value: { mode: 'target' }, actor: 'ops', expectedVersion: 0 })
        .catch((e: unknown) => e);
      expect((error as StoreError).code).toBe('store_conflict');
      expect((await store.read()).orgs[acme]?.value.mode).toBe('dual');
      expect(await store.version()).toBe(1);
    });

    it('lets exactly one of two racing conditional changes win', async () => {
      const results = await Promise.allSettled(
        ['shadow', 'dual', 'target'].map((mode) =>
          store.change({
            target: { scope: 'default' },
            value: { mode: mode as 'dual' },
            actor: 'ops',
            expectedVersion: 0,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
      expect(await store.version()).toBe(1);
    });

    it('gives concurrent changes distinct, dense versions', async () => {
      const changes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.change({ target: org(`o${i}`), value: { mode: 'dual' }, actor: 'ops' }),
        ),
      );
      expect(changes.map((c) => c.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(Object.keys((await store.read()).orgs).length).toBe(8);
    });

    it('refuses invalid input and writes nothing', async () => {
      const attempts = [
        { target: org('has space'), value: { mode: 'dual' }, actor: 'ops' },
        { target: org('x'.repeat(201)), value: { mode: 'dual' }, actor: 'ops' },
        { target: org('acme'), value: { mode: 'everything' }, actor: 'ops' },
        { target: { scope: 'rollout' }, value: { mode: 'dual', percent: 101 }, actor: 'ops' },
        { target: { scope: 'rollout' }, value: { mode: 'dual' }, actor: 'ops' },
        { target: { scope: 'default' }, value: { mode: 'dual', percent: 5 }, actor: 'ops' },
        { target: org('acme'), value: { mode: 'dual' }, actor: 'ops', reason: 'line\nbreak' },
        { target: org('acme'), value: { mode: 'dual' }, actor: '' },
        { target: { scope: 'everything' }, value: { mode: 'dual' }, actor: 'ops' },
      ];
      for (const input of attempts) {
        await expect(store.change(input as never)).rejects.toBeInstanceOf(TypeError);
      }
      expect(await store.version()).toBe(0);
    });

    it('hands out copies, never live state', async () => {
      const acme = uid('org');
      await store.change({ target: org(acme), value: { mode: 'dual' }, actor: 'ops' });
      const state = await store.read();
      (state.orgs as Record<string, unknown>)[acme] = 'tampered';
      expect((await store.read()).orgs[acme]?.value.mode).toBe('dual');
    });

    it('sums shadow counters per bucket and tenant, and reads a time range', async () => {
      const t0 = Date.now() - 600_000;
      const counts = { ...EMPTY_SHADOW_COUNTS, comparisons: 2, agreed: 1, decision: 1, legacy: 5 };
      await store.recordShadow([
        { start: t0, tenant: 'org_a', counts },
        { start: t0, tenant: 'org_b', counts: { ...EMPTY_SHADOW_COUNTS, target: 3 } },
      ]);
      await store.recordShadow([
        { start: t0, tenant: 'org_a', counts },
        { start: t0 + 60_000, tenant: 'org_a', counts },
      ]);
      const all = await store.readShadow({ since: t0 });
      expect(all.length).toBe(3);
      const a0 = all.find((b) => b.start === t0 && b.tenant === 'org_a');
      expect(a0?.counts).toEqual({
        ...EMPTY_SHADOW_COUNTS,
        comparisons: 4,
        agreed: 2,
        decision: 2,
        legacy: 10,
      });
      expect((await store.readShadow({ since: t0 + 1, until: t0 + 60_001 })).map((b) => b.start)).toEqual([
        t0 + 60_000,
      ]);
    });

    it('refuses negative or fractional counters', async () => {
      await expect(
        store.recordShadow([
          { start: Date.now(), tenant: 'org_a', counts: { ...EMPTY_SHADOW_COUNTS, legacy: -1 } },
        ]),
      ).rejects.toBeInstanceOf(TypeError);
      await expect(
        store.recordShadow([
          { start: Date.now(), tenant: 'org_a', counts: { ...EMPTY_SHADOW_COUNTS, legacy: 0.5 } },
        ]),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await store.readShadow({ since: 0 })).toEqual([]);
    });

    it('drops shadow buckets older than the retention', async () => {
      const own = await factory({ shadowRetentionDays: 1 });
      try {
        const old = Date.now() - 2 * 86_400_000;
        await own.store.recordShadow([
          { start: old, tenant: 'org_a', counts: { ...EMPTY_SHADOW_COUNTS, legacy: 1 } },
        ]);
        await own.store.recordShadow([
          { start: Date.now(), tenant: 'org_a', counts: { ...EMPTY_SHADOW_COUNTS, legacy: 1 } },
        ]);
        const left = await own.store.readShadow({ since: 0 });
        expect(left.map((b) => b.start >= Date.now() - 86_400_000)).toEqual([true]);
      } finally {
        await own.cleanup?.();
      }
    });
  });
}
