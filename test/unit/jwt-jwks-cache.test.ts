import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwksCache,
  createJwtVerifier,
  fetchJwks,
  type JwksCache,
  type JwksCacheOptions,
  JwksFetchError,
  type JwksFetchEvent,
} from '../../src/jwt/index';
import {
  AUDIENCE,
  ISSUER,
  type JwksServer,
  makeKey,
  reasonOf,
  signToken,
  startJwksServer,
  type TestKey,
} from './jwt-fixtures';

const ALGS = ['RS256', 'ES256', 'EdDSA'];
let k1: TestKey;
let k2: TestKey;
let ec: TestKey;
let server: JwksServer;
let cache: JwksCache | undefined;

beforeAll(async () => {
  [k1, k2, ec] = await Promise.all([makeKey('RS256'), makeKey('RS256'), makeKey('ES256')]);
});

afterEach(async () => {
  cache?.close();
  cache = undefined;
  await server?.close();
});

/** A controllable clock: tests move time instead of sleeping. */
function testClock(start = Date.now()) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function setup(keys: TestKey[], options: Partial<JwksCacheOptions> = {}) {
  cache = createJwksCache({ jwksUri: server.url, algorithms: ALGS, timeoutMs: 1000, ...options });
  const verifier = createJwtVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ALGS,
    keys: cache,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  server.keys = keys.map((k) => k.jwk);
  return { cache, verifier };
}

describe('hot path and loading', () => {
  it('fetches once, then answers from the cache synchronously', async () => {
    server = await startJwksServer();
    const { cache, verifier } = setup([k1]);
    const token = await signToken(k1);
    await verifier.verify(token);
    for (let i = 0; i < 20; i++) await verifier.verify(await signToken(k1));
    expect(server.requests).toBe(1);
    expect(cache.resolve(k1.kid, 'RS256')).not.toBeInstanceOf(Promise);
    expect(cache.stats).toMatchObject({ fetches: 1, failures: 0, keyCount: 1 });
  });

  it('500 concurrent verifications of a token with a new kid cause exactly one JWKS fetch', async () => {
    server = await startJwksServer();
    const { verifier } = setup([k1]);
    await verifier.verify(await signToken(k1));
    server.keys = [k1.jwk, k2.jwk];
    server.delayMs = 50;
    const token = await signToken(k2);
    const results = await Promise.all(Array.from({ length: 500 }, () => verifier.verify(token)));
    expect(results.every((r) => r.kid === k2.kid)).toBe(true);
    expect(server.requests).toBe(2);
  });

  it('500 concurrent first verifications on a cold cache cause exactly one fetch', async () => {
    server = await startJwksServer();
    server.delayMs = 50;
    const { verifier } = setup([k1]);
    const token = await signToken(k1);
    await Promise.all(Array.from({ length: 500 }, () => verifier.verify(token)));
    expect(server.requests).toBe(1);
  });

  it('keeps at most maxKeys keys', async () => {
    server = await startJwksServer();
    const many = await Promise.all(Array.from({ length: 6 }, () => makeKey('ES256')));
    const { cache } = setup(many, { maxKeys: 3 });
    await cache.refresh();
    expect(cache.stats.keyCount).toBe(3);
  });

  it('reports every fetch to the hook, without key material', async () => {
    server = await startJwksServer();
    const events: JwksFetchEvent[] = [];
    const { verifier } = setup([k1], { onFetch: (e) => events.push(e) });
    await verifier.verify(await signToken(k1));
    server.mode = 'fail';
    await reasonOf(verifier.verify(await signToken(k2)));
    expect(events.map((e) => [e.trigger, e.ok, e.error])).toEqual([
      ['initial', true, undefined],
      ['unknown_kid', false, 'http_status'],
    ]);
    expect(JSON.stringify(events)).not.toContain(String(k1.jwk.n).slice(0, 20));
  });

  it('a throwing hook does not break verification', async () => {
    server = await startJwksServer();
    const { verifier } = setup([k1], {
      onFetch: () => {
        throw new Error('telemetry down');
      },
    });
    await expect(verifier.verify(await signToken(k1))).resolves.toBeTruthy();
  });
});

describe('rotation', () => {
  it('picks up a new kid at once, keeps still-published keys and drops removed ones', async () => {
    server = await startJwksServer();
    const clock = testClock();
    const { cache, verifier } = setup([k1], { clock: clock.now, cooldownSec: 30 });
    await verifier.verify(await signToken(k1));
    const imported = cache.resolve(k1.kid, 'RS256');

    // The issuer rotates: k2 signs, k1 is still published.
    server.keys = [k1.jwk, k2.jwk];
    await expect(verifier.verify(await signToken(k2))).resolves.toMatchObject({ kid: k2.kid });
    expect(server.requests).toBe(2);
    expect(cache.resolve(k1.kid, 'RS256')).toBe(imported); // not imported again

    // k1 is retired; after the cooldown an unknown kid refetches, and k1 is gone with it.
    server.keys = [k2.jwk];
    clock.advance(31_000);
    const k3 = await makeKey('RS256');
    expect(await reasonOf(verifier.verify(await signToken(k3)))).toBe('key_unknown');
    expect(server.requests).toBe(3);
    expect(await reasonOf(verifier.verify(await signToken(k1)))).toBe('key_unknown');
    await expect(verifier.verify(await signToken(k2))).resolves.toBeTruthy();
  });

  it('refreshes in the background after ttlSec while still answering from the cache', async () => {
    server = await startJwksServer();
    const clock = testClock();
    const { cache, verifier } = setup([k1], { clock: clock.now, ttlSec: 60 });
    await verifier.verify(await signToken(k1));
    clock.advance(61_000);
    server.keys = [k2.jwk];
    // Served from the stale set (k1), while one background refresh runs.
    const result = cache.resolve(k1.kid, 'RS256');
    expect(result).not.toBeInstanceOf(Promise);
    await cache.refresh(); // joins the background fetch
    expect(server.requests).toBe(2);
    expect(await reasonOf(verifier.verify(await signToken(k1)))).toBe('key_unknown');
  });
});

describe('forged kids', () => {
  it('1000 random kids cost at most one refetch per cooldown', async () => {
    server = await startJwksServer();
    const clock = testClock();
    const { verifier } = setup([k1], { clock: clock.now, cooldownSec: 30 });
    await verifier.verify(await signToken(k1));
    const forged = await Promise.all(
      Array.from({ length: 1000 }, () => signToken(k1, {}, { kid: randomBytes(8).toString('hex') })),
    );
    const concurrent = await Promise.all(forged.slice(0, 500).map((t) => reasonOf(verifier.verify(t))));
    for (const t of forged.slice(500)) expect(await reasonOf(verifier.verify(t))).toBe('key_unknown');
    expect(new Set(concurrent)).toEqual(new Set(['key_unknown']));
    expect(server.requests).toBe(2); // the initial load + one refetch

    clock.advance(10_000);
    for (const t of forged.slice(0, 100)) await reasonOf(verifier.verify(t));
    expect(server.requests).toBe(2);

    clock.advance(21_000); // cooldown over: exactly one more
    await Promise.all(forged.slice(0, 300).map((t) => reasonOf(verifier.verify(t))));
    expect(server.requests).toBe(3);
    // Legitimate tokens were never slowed down by the flood.
    await expect(verifier.verify(await signToken(k1))).resolves.toBeTruthy();
  });
});

describe('outages', () => {
  it.each(['fail', 'drop', 'garbage'] as const)(
    'issuer down (%s): cached keys keep verifying for maxStaleSec, then provider_unavailable',
    async (mode) => {
      server = await startJwksServer();
      const clock = testClock();
      const { cache, verifier } = setup([k1], { clock: clock.now, ttlSec: 60, maxStaleSec: 600 });
      await verifier.verify(await signToken(k1));
      server.mode = mode;
      clock.advance(120_000); // past the TTL: a background refresh fails
      await expect(verifier.verify(await signToken(k1))).resolves.toBeTruthy();
      await cache.refresh();
      expect(cache.stats.failures).toBeGreaterThanOrEqual(1);
      await expect(verifier.verify(await signToken(k1))).resolves.toBeTruthy();
      clock.advance(600_000); // past ttl + maxStale
      expect(await reasonOf(verifier.verify(await signToken(k1)))).toBe('provider_unavailable');
    },
  );

  it('an unknown kid during an outage is provider_unavailable, never key_unknown', async () => {
    server = await startJwksServer();
    const clock = testClock();
    const { verifier } = setup([k1], { clock: clock.now, cooldownSec: 30 });
    await verifier.verify(await signToken(k1));
    server.mode = 'drop';
    const unseen = await signToken(k2);
    expect(await reasonOf(verifier.verify(unseen))).toBe('provider_unavailable');
    // Within the cooldown, no new fetch, and still an outage answer.
    expect(await reasonOf(verifier.verify(unseen))).toBe('provider_unavailable');
    expect(server.requests).toBe(2);
    // Known keys are unaffected.
    await expect(verifier.verify(await signToken(k1))).resolves.toBeTruthy();
    // The issuer comes back with the new key: picked up after the cooldown.
    server.mode = 'ok';
    server.keys = [k1.jwk, k2.jwk];
    clock.advance(31_000);
    await expect(verifier.verify(unseen)).resolves.toMatchObject({ kid: k2.kid });
  });

  it('no keys and the JWKS unreachable is provider_unavailable, and recovers without a restart', async () => {
    server = await startJwksServer();
    server.mode = 'fail';
    const clock = testClock();
    const { verifier } = setup([k1], { clock: clock.now, cooldownSec: 30 });
    const token = await signToken(k1);
    expect(await reasonOf(verifier.verify(token))).toBe('provider_unavailable');
    expect(await reasonOf(verifier.verify(token))).toBe('provider_unavailable');
    expect(server.requests).toBe(1); // rate-limited even with an empty cache
    server.mode = 'ok';
    clock.advance(1_000); // an empty cache retries after a second, not after the full cooldown
    await expect(verifier.verify(token)).resolves.toBeTruthy();
    expect(server.requests).toBe(2);
  });

  it('a hanging JWKS endpoint times out as provider_unavailable', async () => {
    server = await startJwksServer();
    server.mode = 'hang';
    const { verifier } = setup([k1], { timeoutMs: 200 });
    const started = Date.now();
    expect(await reasonOf(verifier.verify(await signToken(k1)))).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a caller's abort signal stops its wait, not the shared fetch", async () => {
    server = await startJwksServer();
    server.delayMs = 300;
    const { verifier } = setup([k1]);
    const token = await signToken(k1);
    const patient = verifier.verify(token);
    const impatient = verifier.verify(token, { signal: AbortSignal.timeout(20) });
    expect(await reasonOf(impatient)).toBe('provider_unavailable');
    await expect(patient).resolves.toBeTruthy();
    expect(server.requests).toBe(1);
  });

  it('close() aborts a fetch in flight', async () => {
    server = await startJwksServer();
    server.mode = 'hang';
    const { cache, verifier } = setup([k1], { timeoutMs: 10_000 });
    const pending = reasonOf(verifier.verify(await signToken(k1)));
    await new Promise((r) => setTimeout(r, 50));
    cache.close();
    expect(await pending).toBe('provider_unavailable');
  });
});

describe('fetchJwks', () => {
  it('refuses a body over the size bound', async () => {
    server = await startJwksServer();
    server.body = JSON.stringify({ keys: [], pad: 'x'.repeat(5000) });
    const err = await fetchJwks(server.url, { timeoutMs: 1000, maxBodyBytes: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JwksFetchError);
    expect((err as JwksFetchError).kind).toBe('too_large');
  });

  it.each([
    ['not an object', '[1,2]'],
    ['no keys array', '{"keys":{}}'],
    ['not JSON', '{"keys":['],
  ])('refuses a JWKS that is %s', async (_name, body) => {
    server = await startJwksServer();
    server.body = body;
    const err = await fetchJwks(server.url, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect((err as JwksFetchError).kind).toBe('invalid');
  });

  it('uses the injected fetch', async () => {
    server = await startJwksServer();
    let calls = 0;
    const keys = await fetchJwks('https://issuer.test/jwks', {
      timeoutMs: 1000,
      fetch: async () => {
        calls++;
        return new Response(JSON.stringify({ keys: [ec.jwk] }), { status: 200 });
      },
    });
    expect(calls).toBe(1);
    expect(keys).toHaveLength(1);
  });
});
