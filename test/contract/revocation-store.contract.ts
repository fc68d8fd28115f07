import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RevocationStore } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import { type Fixture, sleep, uid } from './fixture';

/**
 * A revocation store to test. `capacity`: for a store built small on purpose (a memory store with a
 * low `maxEntries`, a Redis with a low `maxmemory`), an upper bound on the adds it can take before it
 * must refuse with `store_full`. Without it the store is bounded only by its disk, and 100 adds must fit.
 */
export interface RevocationFixture extends Fixture<RevocationStore> {
  readonly capacity?: number;
}

const inMs = (ms: number) => new Date(Date.now() + ms);

/**
 * The RevocationStore contract (the interface of src/identity/revocation.ts), for every implementation.
 * Expiry is checked against the real clock, because Redis expires keys by its own.
 *
 * @example
 * ```ts
 * revocationStoreContract('redis', async () => ({ store: await createRedisRevocationStore({ url }) }));
 * ```
 */
export function revocationStoreContract(name: string, factory: () => Promise<RevocationFixture>): void {
  describe(`RevocationStore contract: ${name}`, () => {
    let fixture: RevocationFixture;
    let store: RevocationStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('refuses a revoked jti and only that jti', async () => {
      const jti = uid('jti');
      expect(await store.isRevoked({ jti })).toBe(false);
      await store.add({ jti }, inMs(60_000));
      expect(await store.isRevoked({ jti })).toBe(true);
      expect(await store.isRevoked({ jti, sessionId: null })).toBe(true);
      expect(await store.isRevoked({ jti: uid('jti') })).toBe(false);
    });

    it('refuses every token of a revoked session, whatever its jti', async () => {
      const sessionId = uid('sess');
      await store.add({ sessionId }, inMs(60_000));
      expect(await store.isRevoked({ sessionId })).toBe(true);
      expect(await store.isRevoked({ jti: uid('jti'), sessionId })).toBe(true);
      expect(await store.isRevoked({ jti: uid('jti'), sessionId: uid('sess') })).toBe(false);
    });

    it('keeps jtis and session ids apart', async () => {
      const value = uid('same');
      await store.add({ jti: value }, inMs(60_000));
      expect(await store.isRevoked({ sessionId: value })).toBe(false);
    });

    it('answers false for an empty lookup', async () => {
      expect(await store.isRevoked({})).toBe(false);
      expect(await store.isRevoked({ jti: null, sessionId: null })).toBe(false);
    });

    it('ignores an entry whose until is already past (the token is refused by its own exp)', async () => {
      const jti = uid('jti');
      await store.add({ jti }, new Date(Date.now() - 1_000));
      expect(await store.isRevoked({ jti })).toBe(false);
    });

    it('keeps an entry without until for the retention period', async () => {
      const jti = uid('jti');
      await store.add({ jti });
      expect(await store.isRevoked({ jti })).toBe(true);
    });

    it('forgets an entry at its until', async () => {
      const jti = uid('jti');
      await store.add({ jti }, inMs(300));
      expect(await store.isRevoked({ jti })).toBe(true);
      await sleep(450);
      expect(await store.isRevoked({ jti })).toBe(false);
    });

    it('never shortens an entry: a second add with an earlier until keeps the later one', async () => {
      const jti = uid('jti');
      await store.add({ jti }, inMs(60_000));
      await store.add({ jti }, inMs(200));
      await sleep(350);
      expect(await store.isRevoked({ jti })).toBe(true);
    });

    it('never forgets a live revocation to make room: a full store refuses the add with store_full', async () => {
      const stolen = uid('stolen');
      await store.add({ jti: stolen }, inMs(600_000));
      const attempts = fixture.capacity !== undefined ? fixture.capacity + 1 : 100;
      let refused = 0;
      for (let i = 0; i < attempts && refused < 3; i++) {
        const jti = uid('noise');
        try {
          await store.add({ jti }, inMs(600_000));
        } catch (err) {
          expect(err).toBeInstanceOf(StoreError);
          expect((err as StoreError).code).toBe('store_full');
          refused++;
          continue;
        }
        expect(await store.isRevoked({ jti })).toBe(true); // an add that resolved was recorded
      }
      expect(await store.isRevoked({ jti: stolen })).toBe(true);
      if (fixture.capacity !== undefined) expect(refused).toBeGreaterThan(0);
      else expect(refused).toBe(0);
    }, 30_000);
  });
}
