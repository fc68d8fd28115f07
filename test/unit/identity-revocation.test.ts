import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { createMemoryRevocationStore } from '../../src/identity/revocation';
import { StoreError } from '../../src/stores/errors';

function clock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createMemoryRevocationStore', () => {
  it('records jti and session revocations separately', async () => {
    const store = createMemoryRevocationStore();
    expect(store.isEmpty?.()).toBe(true);
    await store.add({ jti: 'same' });
    expect(store.isEmpty?.()).toBe(false);
    expect(await store.isRevoked({ jti: 'same' })).toBe(true);
    expect(await store.isRevoked({ sessionId: 'same' })).toBe(false); // no collision between kinds
    await store.add({ sessionId: 's1' });
    expect(await store.isRevoked({ jti: 'other', sessionId: 's1' })).toBe(true);
    expect(await store.isRevoked({ jti: null, sessionId: null })).toBe(false);
  });

  it('forgets an entry at its until, and after the retention when until is not given', async () => {
    const c = clock();
    const store = createMemoryRevocationStore({ retentionSec: 100, clock: c.now });
    await store.add({ jti: 'a' }, new Date(c.now() + 10_000));
    await store.add({ jti: 'b' });
    c.advance(9_999);
    expect(await store.isRevoked({ jti: 'a' })).toBe(true);
    c.advance(1);
    expect(await store.isRevoked({ jti: 'a' })).toBe(false);
    expect(await store.isRevoked({ jti: 'b' })).toBe(true);
    c.advance(90_000);
    expect(await store.isRevoked({ jti: 'b' })).toBe(false);
  });

  it('keeps an until beyond the retention (forgetting early would un-revoke a live token)', async () => {
    const c = clock();
    const store = createMemoryRevocationStore({ retentionSec: 10, clock: c.now });
    await store.add({ jti: 'long' }, new Date(c.now() + 3_600_000));
    c.advance(60_000);
    expect(await store.isRevoked({ jti: 'long' })).toBe(true);
  });

  it('ignores an until already in the past and keeps the later expiry when re-added', async () => {
    const c = clock();
    const store = createMemoryRevocationStore({ clock: c.now });
    await store.add({ jti: 'past' }, new Date(c.now() - 1));
    expect(store.isEmpty?.()).toBe(true);
    await store.add({ jti: 'x' }, new Date(c.now() + 50_000));
    await store.add({ jti: 'x' }, new Date(c.now() + 10_000));
    c.advance(20_000);
    expect(await store.isRevoked({ jti: 'x' })).toBe(true);
  });

  it('is bounded without forgetting: expired entries make room, a live one never does', async () => {
    const c = clock();
    const store = createMemoryRevocationStore({ maxEntries: 3, clock: c.now });
    await store.add({ jti: 'old' }, new Date(c.now() + 1_000_000));
    await store.add({ jti: 'short' }, new Date(c.now() + 1_000));
    await store.add({ jti: 'mid' }, new Date(c.now() + 1_000_000));
    c.advance(2_000);
    await store.add({ jti: 'new1' }); // full: the expired 'short' makes room
    expect(await store.isRevoked({ jti: 'old' })).toBe(true);
    expect(await store.isRevoked({ jti: 'new1' })).toBe(true);
    // Full of live entries: the add is refused, loudly, and the oldest stays revoked.
    const error = await store.add({ jti: 'new2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_full');
    expect(await store.isRevoked({ jti: 'old' })).toBe(true);
    expect(await store.isRevoked({ jti: 'mid' })).toBe(true);
    expect(await store.isRevoked({ jti: 'new2' })).toBe(false);
    // Re-adding a live entry (a later until) needs no room.
    await store.add({ jti: 'old' }, new Date(c.now() + 2_000_000));
    c.advance(1_000_000);
    await store.add({ jti: 'new2' }); // 'mid' has expired now: room again
    expect(await store.isRevoked({ jti: 'new2' })).toBe(true);
    expect(await store.isRevoked({ jti: 'old' })).toBe(true);
  });

  it('100,000 revocations (an attacker logging in and out) never un-revoke a stolen token', async () => {
    const store = createMemoryRevocationStore(); // the default every plane gets
    const until = new Date(Date.now() + 3_600_000);
    await store.add({ jti: 'stolen' }, until);
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      try {
        await store.add({ sessionId: `attacker_${i}` }, until);
      } catch (err) {
        expect(err).toBeInstanceOf(StoreError);
        refused++;
      }
    }
    expect(await store.isRevoked({ jti: 'stolen' })).toBe(true);
    expect(refused).toBe(1); // 100 000 entries fit: the stolen jti and 99 999 of the attacker's
  });

  it('close() empties it', async () => {
    const store = createMemoryRevocationStore();
    await store.add({ jti: 'a' });
    await store.close();
    expect(await store.isRevoked({ jti: 'a' })).toBe(false);
  });

  it('refuses bad options with a ConfigError naming the option', () => {
    expect(() => createMemoryRevocationStore({ retentionSec: 0 })).toThrow(ConfigError);
    expect(() => createMemoryRevocationStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(() => createMemoryRevocationStore({ clock: 5 as unknown as () => number })).toThrow(/clock/);
  });
});
