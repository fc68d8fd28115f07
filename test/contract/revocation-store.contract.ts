import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RevocationStore } from '../../src/stores/contracts';
import { type Fixture, sleep, uid } from './fixture';

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
export function revocationStoreContract(
  name: string,
  factory: () => Promise<Fixture<RevocationStore>>,
): void {
  describe(`RevocationStore contract: ${name}`, () => {
    let fixture: Fixture<RevocationStore>;
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
  });
}
