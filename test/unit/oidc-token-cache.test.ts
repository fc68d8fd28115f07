// The OIDC adapter's verified-token cache: a reused token skips the signature check, but a cached
// token is still refused once it expires, outlives maxAgeSec, loses its key, or is revoked.
import { afterEach, describe, expect, it } from 'vitest';
import { createOidcAdapter, type OidcAdapter } from '../../providers/oidc/index';
import { type OidcConfigInput, oidcConfigSchema } from '../../src/config/schema';
import { createPlane } from '../../src/identity/plane';
import {
  AUDIENCE,
  ISSUER,
  type JwksServer,
  makeKey,
  nowSec,
  signToken,
  startJwksServer,
} from './jwt-fixtures';

const ctx = { traceId: '0af7651916cd43dd8448eb211c80319c' };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(extra: Partial<OidcConfigInput> = {}) {
  const key = await makeKey('RS256');
  const server: JwksServer = await startJwksServer([key.jwk]);
  let now = Date.now();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const adapter: OidcAdapter = await createOidcAdapter(
    oidcConfigSchema.parse({
      provider: 'oidc',
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: server.url,
      allowInsecureRequests: true,
      jwks: { cooldownSec: 0, ttlSec: 60 },
      clock: clock.now,
      ...extra,
    }),
  );
  cleanups.push(async () => {
    await adapter.close();
    await server.close();
  });
  return { key, server, clock, adapter };
}

describe('verified-token cache of the OIDC adapter', () => {
  it('serves a reused token from the cache, each request with its own frozen principal', async () => {
    const { key, adapter } = await setup();
    const token = await signToken(key);
    const first = await adapter.verify(token, ctx);
    const second = await adapter.verify(token, ctx);
    expect(adapter.tokenCacheStats()).toMatchObject({ size: 1, hits: 1 });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    first.expiresAt?.setTime(0); // a caller mutating its Date must not reach another request
    expect(second.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    expect((await adapter.verify(token, ctx)).expiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses a cached token once it expires (token_expired, not a stale accept)', async () => {
    const { key, adapter, clock } = await setup();
    const token = await signToken(key, { exp: nowSec() + 60 });
    await adapter.verify(token, ctx);
    clock.advance(66_000); // past exp and the 5 s tolerance
    await expect(adapter.verify(token, ctx)).rejects.toMatchObject({ reason: 'token_expired' });
    expect(adapter.tokenCacheStats().hits).toBe(0);
  });

  it('re-verifies after maxAgeSec even when the token is still valid', async () => {
    const { key, adapter, clock } = await setup({ tokenCache: { maxAgeSec: 1 } });
    const token = await signToken(key);
    await adapter.verify(token, ctx);
    clock.advance(1500);
    await adapter.verify(token, ctx);
    expect(adapter.tokenCacheStats()).toMatchObject({ hits: 0, misses: 1, size: 1 });
  });

  it('stops honouring a cached token when its key is no longer published', async () => {
    const { key, adapter, clock, server } = await setup();
    const token = await signToken(key);
    await adapter.verify(token, ctx);
    server.keys = [];
    clock.advance(61_000); // past the JWKS ttl: the next lookup refreshes in the background
    await adapter.verify(token, ctx);
    await expect.poll(() => adapter.jwksStats()?.keyCount).toBe(0);
    await expect(adapter.verify(token, ctx)).rejects.toMatchObject({ reason: 'key_unknown' });
  });

  it('stops honouring a cached token when its kid is republished with another key', async () => {
    const { key, adapter, clock, server } = await setup();
    const token = await signToken(key);
    await adapter.verify(token, ctx);
    const impostor = await makeKey('RS256', key.kid);
    server.keys = [impostor.jwk];
    clock.advance(61_000);
    await adapter.verify(token, ctx); // still the old key: the refresh runs in the background
    await expect.poll(() => server.requests).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(adapter.verify(token, ctx)).rejects.toMatchObject({ reason: 'signature_invalid' });
  });

  it('leaves revocation to the plane, which refuses a cached token once its jti is revoked', async () => {
    const { key, adapter } = await setup();
    const plane = createPlane(adapter);
    const token = await signToken(key, { jti: 'jti-cached' });
    expect((await plane.verify(token)).ok).toBe(true);
    expect((await plane.verify(token)).ok).toBe(true);
    await plane.revoke({ jti: 'jti-cached' });
    const result = await plane.verify(token);
    expect(result.ok ? null : result.failure.reason).toBe('token_revoked');
    expect(adapter.tokenCacheStats().hits).toBeGreaterThanOrEqual(2);
  });

  it('is off with maxEntries 0, and bounded otherwise', async () => {
    const off = await setup({ tokenCache: { maxEntries: 0 } });
    const token = await signToken(off.key);
    await off.adapter.verify(token, ctx);
    await off.adapter.verify(token, ctx);
    expect(off.adapter.tokenCacheStats()).toMatchObject({ size: 0, hits: 0 });

    const small = await setup({ tokenCache: { maxEntries: 3 } });
    for (let i = 0; i < 10; i++) await small.adapter.verify(await signToken(small.key), ctx);
    expect(small.adapter.tokenCacheStats().size).toBe(3);
  });
});
