import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { createMemoryRevocationStore } from '../../src/identity/revocation';

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

  it('is bounded: evicts expired entries first, then the oldest', async () => {
    const c = clock();
    const store = createMemoryRevocationStore({ maxEntries: 3, clock: c.now });
    await store.add({ jti: 'old' }, new Date(c.now() + 1_000_000));
    await store.add({ jti: 'short' }, new Date(c.now() + 1_000));
    await store.add({ jti: 'mid' }, new Date(c.now() + 1_000_000));
    c.advance(2_000);
    await store.add({ jti: 'new1' }); // full: the expired 'short' goes, the oldest stays
    expect(await store.isRevoked({ jti: 'old' })).toBe(true);
    expect(await store.isRevoked({ jti: 'new1' })).toBe(true);
    await store.add({ jti: 'new2' }); // full, nothing expired: the oldest goes
    expect(await store.isRevoked({ jti: 'old' })).toBe(false);
    expect(await store.isRevoked({ jti: 'mid' })).toBe(true);
    expect(await store.isRevoked({ jti: 'new2' })).toBe(true);
  });

  it('never grows past maxEntries', async () => {
    const store = createMemoryRevocationStore({ maxEntries: 50 });
    for (let i = 0; i < 500; i++) await store.add({ jti: `j${i}` });
    let live = 0;
    for (let i = 0; i < 500; i++) if (await store.isRevoked({ jti: `j${i}` })) live++;
    expect(live).toBe(50);
    expect(await store.isRevoked({ jti: 'j499' })).toBe(true);
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
