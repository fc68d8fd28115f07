import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionInput, ConnectionKey, ConnectionStore } from '../../src/stores/contracts';
import { type Fixture, uid } from './fixture';

function input(overrides: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    integration: uid('github'),
    id: 'acme',
    orgId: uid('org'),
    status: 'active',
    metadata: { login: 'acme-bot', scopes: ['repo'], nested: { n: 1 } },
    credentials: 'v1.sealed.opaque-blob==',
    expiresAt: new Date('2030-01-01T00:00:00.250Z'),
    ...overrides,
  };
}

const keyOf = (i: ConnectionInput): ConnectionKey => ({
  orgId: i.orgId,
  integration: i.integration,
  id: i.id,
});

/**
 * The ConnectionStore contract, for every implementation: versions, compare-and-set, no lost update.
 *
 * @example
 * ```ts
 * connectionStoreContract('postgres', async () => ({ store: pg.connections }));
 * ```
 */
export function connectionStoreContract(
  name: string,
  factory: () => Promise<Fixture<ConnectionStore>>,
): void {
  describe(`ConnectionStore contract: ${name}`, () => {
    let fixture: Fixture<ConnectionStore>;
    let store: ConnectionStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('has nothing for an unknown connection', async () => {
      expect(await store.get({ orgId: uid('org'), integration: uid('github'), id: 'acme' })).toBeNull();
    });

    it('creates at version 1 and round-trips every field', async () => {
      const i = input();
      const created = await store.put(i);
      expect(created).toMatchObject({ ...i, version: 1 });
      expect(created.createdAt.getTime()).toBe(created.updatedAt.getTime());
      expect(await store.get(keyOf(i))).toEqual(created);
    });

    it('bumps the version on every put and keeps createdAt', async () => {
      const i = input();
      const first = await store.put(i);
      const second = await store.put({ ...i, credentials: null, status: 'needs_reauth', expiresAt: null });
      expect(second).toMatchObject({
        version: 2,
        credentials: null,
        status: 'needs_reauth',
        expiresAt: null,
      });
      expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
    });

    it('lists by org, by integration, by both', async () => {
      const orgId = uid('org');
      const integration = uid('slack');
      const a = await store.put(input({ orgId, integration, id: 'a' }));
      const b = await store.put(input({ orgId, id: 'b' }));
      const c = await store.put(input({ integration, id: 'c' }));
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
      expect(ids(await store.list({ orgId }))).toEqual([a.id, b.id].sort());
      expect(ids(await store.list({ integration }))).toEqual([a.id, c.id].sort());
      expect(ids(await store.list({ orgId, integration }))).toEqual([a.id]);
      expect((await store.list({})).length).toBeGreaterThanOrEqual(3);
    });

    it('creates with compare-and-set only when nothing exists (expected version null)', async () => {
      const i = input();
      const created = await store.compareAndSet(i, null);
      expect(created.ok).toBe(true);
      const again = await store.compareAndSet({ ...i, credentials: 'other' }, null);
      expect(again.ok).toBe(false);
      if (!again.ok) expect(again.current?.credentials).toBe(i.credentials);
    });

    it('writes with compare-and-set only at the expected version, and reports the winner otherwise', async () => {
      const i = input();
      const v1 = await store.put(i);
      const win = await store.compareAndSet({ ...i, credentials: 'refreshed-by-A' }, v1.version);
      expect(win).toMatchObject({ ok: true, record: { version: 2, credentials: 'refreshed-by-A' } });
      const lose = await store.compareAndSet({ ...i, credentials: 'refreshed-by-B' }, v1.version);
      expect(lose).toMatchObject({ ok: false, current: { version: 2, credentials: 'refreshed-by-A' } });
      const missing = await store.compareAndSet(input(), 1);
      expect(missing).toEqual({ ok: false, current: null });
    });

    it('lets exactly one of many concurrent refreshes win (no lost update)', async () => {
      const i = input();
      const v1 = await store.put(i);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          store.compareAndSet({ ...i, credentials: `refresh-${n}` }, v1.version),
        ),
      );
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const stored = await store.get(keyOf(i));
      expect(stored?.version).toBe(2);
      expect(winners[0]?.ok && stored?.credentials === winners[0].record.credentials).toBe(true);
    });

    it('deletes', async () => {
      const i = input();
      await store.put(i);
      expect(await store.delete(keyOf(i))).toBe(true);
      expect(await store.delete(keyOf(i))).toBe(false);
      expect(await store.get(keyOf(i))).toBeNull();
    });

    it('hands out frozen copies: the stored metadata cannot be changed through a result', async () => {
      const i = input();
      const created = await store.put(i);
      expect(Object.isFrozen(created.metadata)).toBe(true);
      created.expiresAt?.setTime(0);
      expect(await store.get(keyOf(i))).toMatchObject({
        expiresAt: i.expiresAt,
        metadata: i.metadata,
      });
    });

    it('keys a connection by (org, integration, id): another org’s write with the same id creates its own row', async () => {
      const victim = input({ credentials: 'victim-sealed-blob' });
      const stored = await store.put(victim);
      const attacker = { ...victim, orgId: uid('org_attacker'), credentials: 'attacker-blob' };
      // put: the attacker's upsert of the same integration and id must not touch the victim's row.
      const theirs = await store.put(attacker);
      expect(theirs.version).toBe(1);
      expect(await store.get(keyOf(victim))).toEqual(stored);
      // compare-and-set at the victim's version, from the other org: refused, victim untouched.
      const cas = await store.compareAndSet({ ...attacker, credentials: 'overwrite' }, stored.version);
      expect(cas.ok).toBe(true); // it wrote the attacker's own row (version 1 -> 2) …
      if (cas.ok) expect(cas.record.orgId).toBe(attacker.orgId);
      expect(await store.get(keyOf(victim))).toEqual(stored); // … never the victim's
      const created = await store.compareAndSet({ ...victim, orgId: uid('org_other') }, null);
      expect(created.ok).toBe(true);
      // Reads and deletes through another org's key see nothing of the victim's row.
      expect(await store.get({ ...keyOf(victim), orgId: uid('org_nobody') })).toBeNull();
      expect(await store.delete({ ...keyOf(victim), orgId: uid('org_nobody') })).toBe(false);
      expect(await store.delete(keyOf(attacker))).toBe(true);
      expect(await store.get(keyOf(victim))).toEqual(stored);
      const listed = await store.list({ orgId: victim.orgId as string });
      expect(listed.map((r) => r.credentials)).toEqual(['victim-sealed-blob']);
    });

    it('keeps an org-less row apart from every org', async () => {
      const orgless = input({ orgId: null, credentials: 'orgless' });
      await store.put(orgless);
      const owned = await store.put({ ...orgless, orgId: uid('org'), credentials: 'owned' });
      expect((await store.get(keyOf(orgless)))?.credentials).toBe('orgless');
      expect((await store.get(keyOf(orgless)))?.orgId).toBeNull();
      expect((await store.get(keyOf(owned)))?.credentials).toBe('owned');
    });

    it('refuses a key without its org part (no global lookup by integration and id)', async () => {
      const i = input();
      await store.put(i);
      const noOrg = { integration: i.integration, id: i.id } as unknown as ConnectionKey;
      await expect(store.get(noOrg)).rejects.toThrow(TypeError);
      await expect(store.delete(noOrg)).rejects.toThrow(TypeError);
      await expect(store.get({ ...keyOf(i), orgId: '' })).rejects.toThrow(TypeError);
      await expect(store.put({ ...i, orgId: '' })).rejects.toThrow(TypeError);
      // The old positional call shape fails loudly instead of reading any org's row.
      await expect(
        (store.get as unknown as (a: string, b: string) => Promise<unknown>)(i.integration, i.id),
      ).rejects.toThrow(TypeError);
    });

    it('refuses an unknown status', async () => {
      await expect(store.put(input({ status: 'weird' as 'active' }))).rejects.toThrow(TypeError);
    });
  });
}
