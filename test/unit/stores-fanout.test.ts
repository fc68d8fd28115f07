import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { describeChannel, openInvalidationChannels, parseChannelSpecs } from '../../src/stores/channels';
import type { InvalidationChannel, InvalidationEvent } from '../../src/stores/contracts';
import { StoreError } from '../../src/stores/errors';
import { createFanoutChannel } from '../../src/stores/fanout';
import { createMemoryInvalidationChannel } from '../../src/stores/memory';

/** A channel whose broker refuses every publish, and that can be made unhealthy. */
function brokenChannel(): InvalidationChannel & { healthyNow: boolean } {
  const inner = createMemoryInvalidationChannel();
  const state = {
    healthyNow: true,
    get healthy() {
      return state.healthyNow;
    },
    publish: async () => {
      throw new StoreError('store_unavailable', 'down');
    },
    subscribe: inner.subscribe,
    close: inner.close,
  };
  return state;
}

describe('createFanoutChannel', () => {
  it('publishes on every member even when one fails, and says that one failed', async () => {
    const a = createMemoryInvalidationChannel();
    const broken = brokenChannel();
    const c = createMemoryInvalidationChannel();
    const heardA: InvalidationEvent[] = [];
    const heardC: InvalidationEvent[] = [];
    a.subscribe((e) => heardA.push(e));
    c.subscribe((e) => heardC.push(e));
    const fanout = createFanoutChannel([a, broken, c]);
    const event: InvalidationEvent = { type: 'revocation', jti: 'j1' };
    const error = await fanout.publish(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toMatch(/1 of 3 channels/);
    expect(heardA).toEqual([event]);
    expect(heardC).toEqual([event]);
  });

  it('hears every member, and is healthy only while every member is', async () => {
    const a = createMemoryInvalidationChannel();
    const b = brokenChannel();
    const fanout = createFanoutChannel([a, b]);
    const heard: InvalidationEvent[] = [];
    const off = fanout.subscribe((e) => heard.push(e));
    await a.publish({ type: 'api_key', id: 'k1' });
    expect(heard).toEqual([{ type: 'api_key', id: 'k1' }]);
    expect(fanout.healthy).toBe(true);
    b.healthyNow = false; // a writer that only reaches b would go unheard
    expect(fanout.healthy).toBe(false);
    off();
    await a.publish({ type: 'api_key', id: 'k2' });
    expect(heard).toHaveLength(1);
    await fanout.close();
    expect(a.healthy).toBe(false);
  });
});

describe('channel configuration', () => {
  it('parses redis and postgres URLs, takes the channel name out, and never shows credentials', () => {
    const specs = parseChannelSpecs(
      ' postgres://app:pw@db:5432/app?channel=acme_inv , redis://:secret@cache:6379/0?channel=acme:inv,redis://:secret@cache:6379/0?channel=acme:inv',
    );
    expect(specs).toEqual([
      { kind: 'postgres', connectionString: 'postgres://app:pw@db:5432/app', channel: 'acme_inv' },
      { kind: 'redis', url: 'redis://:secret@cache:6379/0', channel: 'acme:inv' },
    ]);
    expect(specs.map(describeChannel)).toEqual([
      'postgres://db:5432 (acme_inv)',
      'redis://cache:6379 (acme:inv)',
    ]);
    expect(parseChannelSpecs('')).toEqual([]);
  });

  it('refuses anything else with a ConfigError', () => {
    expect(() => parseChannelSpecs('http://cache:6379')).toThrow(ConfigError);
    expect(() => parseChannelSpecs('not a url')).toThrow(ConfigError);
  });

  it('opens nothing when nothing is configured', async () => {
    expect(await openInvalidationChannels({ env: {} })).toBeNull();
  });
});
