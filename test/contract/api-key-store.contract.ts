import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRecord, ApiKeyStore } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import { type Fixture, uid } from './fixture';

const at = (iso: string) => new Date(iso);

function record(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: uid('key'),
    hash: 'a'.repeat(64),
    prefix: 'ap_test',
    ownerId: uid('usr'),
    orgId: uid('org'),
    scopes: ['read', 'sync:write'],
    name: 'CI',
    createdAt: at('2025-01-01T00:00:00.123Z'),
    expiresAt: at('2030-01-01T00:00:00.000Z'),
    revokedAt: null,
    lastUsedAt: null,
    replacedBy: null,
    ...overrides,
  };
}

/**
 * The ApiKeyStore contract: every implementation passes exactly these tests.
 *
 * @example
 * ```ts
 * apiKeyStoreContract('memory', async () => ({ store: createMemoryApiKeyStore() }));
 * ```
 */
export function apiKeyStoreContract(name: string, factory: () => Promise<Fixture<ApiKeyStore>>): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let fixture: Fixture<ApiKeyStore>;
    let store: ApiKeyStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('round-trips every field of a record, to the millisecond', async () => {
      const r = record({ name: null, expiresAt: null });
      await store.insert(r);
      const found = await store.findById(r.id);
      expect(found).toEqual(r);
      expect(found?.createdAt.getTime()).toBe(r.createdAt.getTime());
    });

    it('finds nothing for an unknown id', async () => {
      expect(await store.findById(uid('missing'))).toBeNull();
    });

    it('refuses a second record with the same id as a store_conflict, keeping the first', async () => {
      const r = record();
      await store.insert(r);
      const error = await store.insert({ ...r, ownerId: 'someone_else' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('store_conflict');
      expect((await store.findById(r.id))?.ownerId).toBe(r.ownerId);
    });

    it('lists by organisation and by owner, oldest first, nothing else', async () => {
      const orgId = uid('org');
      const ownerId = uid('usr');
      const second = record({ orgId, ownerId, createdAt: at('2025-02-01T00:00:00Z') });
      const first = record({ orgId, createdAt: at('2025-01-01T00:00:00Z') });
      const other = record({ ownerId, createdAt: at('2025-03-01T00:00:00Z') });
      for (const r of [second, first, other, record()]) await store.insert(r);
      expect((await store.list({ orgId })).map((r) => r.id)).toEqual([first.id, second.id]);
      expect((await store.list({ ownerId })).map((r) => r.id)).toEqual([second.id, other.id]);
      expect(await store.list({ orgId: uid('empty') })).toEqual([]);
    });

    it('revokes through update and returns the updated record; other fields are kept', async () => {
      const r = record();
      await store.insert(r);
      const revokedAt = at('2025-06-01T12:00:00.500Z');
      const updated = await store.update(r.id, { revokedAt });
      expect(updated).toEqual({ ...r, revokedAt });
      expect(await store.findById(r.id)).toEqual({ ...r, revokedAt });
    });

    it('sets and clears the expiry and records the successor (rotation)', async () => {
      const r = record();
      await store.insert(r);
      const expiresAt = at('2025-06-01T13:00:00Z');
      expect(await store.update(r.id, { expiresAt, replacedBy: 'key_next' })).toEqual({
        ...r,
        expiresAt,
        replacedBy: 'key_next',
      });
      expect((await store.update(r.id, { expiresAt: null }))?.expiresAt).toBeNull();
      expect((await store.findById(r.id))?.replacedBy).toBe('key_next');
    });

    it('returns null when updating an unknown id', async () => {
      expect(await store.update(uid('missing'), { revokedAt: new Date() })).toBeNull();
    });

    it('records last-used times in one batch; a time never moves backwards; unknown ids are ignored', async () => {
      const a = record();
      const b = record();
      await store.insert(a);
      await store.insert(b);
      await store.touch([
        { id: a.id, lastUsedAt: at('2025-05-01T00:00:00Z') },
        { id: a.id, lastUsedAt: at('2025-05-03T00:00:00Z') },
        { id: a.id, lastUsedAt: at('2025-05-02T00:00:00Z') },
        { id: b.id, lastUsedAt: at('2025-05-01T00:00:00Z') },
        { id: uid('missing'), lastUsedAt: at('2025-05-01T00:00:00Z') },
      ]);
      expect((await store.findById(a.id))?.lastUsedAt).toEqual(at('2025-05-03T00:00:00Z'));
      expect((await store.findById(b.id))?.lastUsedAt).toEqual(at('2025-05-01T00:00:00Z'));
      await store.touch([{ id: a.id, lastUsedAt: at('2025-04-01T00:00:00Z') }]);
      expect((await store.findById(a.id))?.lastUsedAt).toEqual(at('2025-05-03T00:00:00Z'));
      await store.touch([]);
    });

    it('hands out copies: mutating a returned record changes nothing stored', async () => {
      const r = record();
      await store.insert(r);
      const found = await store.findById(r.id);
      found?.createdAt.setTime(0);
      found?.expiresAt?.setTime(0);
      expect(await store.findById(r.id)).toEqual(r);
    });
  });
}
