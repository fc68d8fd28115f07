// The OIDC adapter against a real issuer: oidc-provider through startDevIssuer, real tokens from its
// token endpoint, real discovery, JWKS, introspection and revocation over loopback HTTP.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  claimsToPrincipal,
  createOidcAdapter,
  type OidcAdapter,
  revokeToken,
} from '../../providers/oidc/index';
import { type OidcConfig, type OidcConfigInput, oidcConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';

let dev: DevIssuer;
const adapters: OidcAdapter[] = [];
const ctx = { traceId: '0af7651916cd43dd8448eb211c80319c' };

beforeAll(async () => {
  dev = await startDevIssuer({ port: 0 });
});

afterAll(async () => {
  await dev?.stop();
});

afterEach(async () => {
  if (!dev.online) await dev.setOnline(true);
  while (adapters.length > 0) await adapters.pop()?.close();
});

function configOf(extra: Partial<OidcConfigInput> = {}): OidcConfig {
  return oidcConfigSchema.parse({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    allowInsecureRequests: true,
    timeoutMs: 2000,
    ...extra,
  });
}

async function adapterOf(extra: Partial<OidcConfigInput> = {}): Promise<OidcAdapter> {
  const adapter = await createOidcAdapter(configOf(extra));
  adapters.push(adapter);
  return adapter;
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthRejection);
  return (err as AuthRejection).reason;
}

/** Signs a token with the issuer's own current private key for `alg` (test variants of real tokens). */
async function signWithIssuerKey(
  alg: 'RS256' | 'ES256' | 'EdDSA',
  claims: Record<string, unknown>,
): Promise<string> {
  const jwk = dev.signingKeys().find((k) => k.alg === alg) as JWK;
  const key = await importJWK(jwk, alg);
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: dev.issuer,
    aud: dev.audience,
    sub: 'authplane-service',
    client_id: 'authplane-service',
    scope: 'read',
    iat: now,
    exp: now + 300,
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg, kid: jwk.kid as string, typ: 'at+jwt' }).sign(key);
}

describe('JWT access tokens from the real issuer', () => {
  it.each(['RS256', 'ES256', 'EdDSA'] as const)('accepts a real %s client_credentials token', async (alg) => {
    const adapter = await adapterOf(); // JWKS URI found by discovery
    const token = await dev.mintServiceToken({ alg, scope: 'read' });
    const principal = await adapter.verify(token, ctx);
    const clientId = dev.clients.service.variants[alg];
    expect(principal).toMatchObject({
      subject: clientId,
      providerSubject: clientId,
      provider: 'oidc',
      kind: 'service',
      orgId: dev.clients.service.orgId,
      roles: [...dev.clients.service.roles],
      authMethod: 'jwt',
    });
    expect(principal.scopes).toContain('read');
    expect(principal.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.claims)).toBe(true);
  });

  it('works with an explicit jwksUri (no discovery)', async () => {
    const adapter = await adapterOf({ jwksUri: dev.jwksUri });
    await expect(adapter.verify(await dev.mintServiceToken(), ctx)).resolves.toMatchObject({
      kind: 'service',
    });
  });

  it('an expired token -> token_expired', async () => {
    const adapter = await adapterOf();
    const now = Math.floor(Date.now() / 1000);
    const token = await signWithIssuerKey('RS256', { exp: now - 120, iat: now - 600 });
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('token_expired');
  });

  it('a token for another audience -> audience_mismatch', async () => {
    const adapter = await adapterOf();
    const token = await signWithIssuerKey('ES256', { aud: 'https://other-api.test' });
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('audience_mismatch');
  });

  it('a real token checked against another configured audience -> audience_mismatch', async () => {
    const adapter = await adapterOf({ audience: 'https://not-this-api.test' });
    expect(await reasonOf(adapter.verify(await dev.mintServiceToken(), ctx))).toBe('audience_mismatch');
  });

  it('a forged signature under the issuer kid -> signature_invalid', async () => {
    const adapter = await adapterOf();
    const real = await dev.mintServiceToken({ alg: 'RS256' });
    const kid = JSON.parse(Buffer.from(real.split('.')[0] as string, 'base64url').toString()).kid as string;
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ client_id: 'authplane-service', scope: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(dev.issuer)
      .setAudience(dev.audience)
      .setSubject('authplane-service')
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await reasonOf(adapter.verify(forged, ctx))).toBe('signature_invalid');
  });

  it('an ID-token-shaped JWT (typ JWT) -> token_type_mismatch', async () => {
    const adapter = await adapterOf();
    const jwk = dev.signingKeys().find((k) => k.alg === 'RS256') as JWK;
    const token = await new SignJWT({ nonce: 'n-1' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'JWT' })
      .setIssuer(dev.issuer)
      .setAudience(dev.audience)
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(await importJWK(jwk, 'RS256'));
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('token_type_mismatch');
  });

  it('an opaque token without introspection configured -> credentials_malformed', async () => {
    const adapter = await adapterOf();
    expect(await reasonOf(adapter.verify(await dev.mintOpaqueToken(), ctx))).toBe('credentials_malformed');
  });
});

describe('keys over time', () => {
  it('picks up a key rotation without a restart, with one JWKS fetch', async () => {
    const adapter = await adapterOf({ jwksUri: dev.jwksUri });
    await adapter.verify(await dev.mintServiceToken({ alg: 'ES256' }), ctx);
    const before = dev.stats.jwksRequests;
    await dev.rotateKeys();
    const rotated = await dev.mintServiceToken({ alg: 'ES256' });
    await expect(adapter.verify(rotated, ctx)).resolves.toMatchObject({ kind: 'service' });
    expect(dev.stats.jwksRequests - before).toBe(1);
    for (let i = 0; i < 5; i++) await adapter.verify(await dev.mintServiceToken({ alg: 'ES256' }), ctx);
    expect(dev.stats.jwksRequests - before).toBe(1);
  });

  it('issuer down: cached keys still verify; an unseen kid is provider_unavailable, not a 401', async () => {
    const adapter = await adapterOf({ jwksUri: dev.jwksUri });
    const token = await dev.mintServiceToken({ alg: 'RS256' });
    await adapter.verify(token, ctx);
    await dev.rotateKeys();
    const unseen = await dev.mintServiceToken({ alg: 'RS256' }); // signed by a kid the adapter never saw
    await dev.setOnline(false);
    await expect(adapter.verify(token, ctx)).resolves.toMatchObject({ authMethod: 'jwt' });
    expect(await reasonOf(adapter.verify(unseen, ctx))).toBe('provider_unavailable');
    expect(adapter.jwksStats()?.failures).toBeGreaterThanOrEqual(1);
  });

  it('issuer down at start-up: the adapter starts, answers provider_unavailable, then recovers', async () => {
    await dev.setOnline(false);
    let offset = 0;
    const adapter = await adapterOf({ clock: () => Date.now() + offset }); // discovery fails here
    await dev.setOnline(true);
    const token = await dev.mintServiceToken();
    // Within the retry delay after the failed discovery: no request queues behind a dead issuer.
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('provider_unavailable');
    offset += 1_100;
    await expect(adapter.verify(token, ctx)).resolves.toMatchObject({ kind: 'service' });
  });
});

describe('opaque tokens: introspection and revocation', () => {
  const introspection = () => ({
    clientId: dev.clients.service.clientId,
    clientSecret: dev.clients.service.clientSecret,
  });

  it('an active opaque token becomes a principal; the answer is cached', async () => {
    let introspections = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('introspect')) introspections++;
      return fetch(input, init);
    };
    const adapter = await adapterOf({
      introspection: { ...introspection(), cacheMaxSec: 60 },
      fetch: countingFetch,
    });
    const token = await dev.mintOpaqueToken({ scope: 'read' });
    const principal = await adapter.verify(token, ctx);
    expect(principal).toMatchObject({
      subject: dev.clients.service.variants.opaque,
      kind: 'service',
      authMethod: 'introspection',
      orgId: dev.clients.service.orgId,
    });
    expect(principal.scopes).toContain('read');
    await adapter.verify(token, ctx);
    expect(introspections).toBe(1);
  });

  it('a token revoked at the issuer (RFC 7009) -> token_inactive (the issuer does not say why)', async () => {
    const adapter = await adapterOf({ introspection: { ...introspection(), cacheMaxSec: 0 } });
    const token = await dev.mintOpaqueToken();
    await expect(adapter.verify(token, ctx)).resolves.toMatchObject({ authMethod: 'introspection' });
    await revokeToken({
      issuer: dev.issuer,
      clientId: dev.clients.service.variants.opaque,
      clientSecret: dev.clients.service.clientSecret,
      token,
      tokenTypeHint: 'access_token',
      allowInsecureRequests: true,
    });
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('token_inactive');
  });

  it('an unknown opaque token -> token_inactive, not token_revoked', async () => {
    const adapter = await adapterOf({ introspection: introspection() });
    expect(await reasonOf(adapter.verify('b3BhcXVlLW5vdC1pc3N1ZWQtYnktYW55b25l', ctx))).toBe(
      'token_inactive',
    );
  });

  it('a flood of random opaque tokens costs the issuer a bounded number of introspections', async () => {
    let introspections = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('introspect')) introspections++;
      return fetch(input, init);
    };
    const adapter = await adapterOf({
      introspection: { ...introspection(), maxRequestsPerSec: 5, burst: 10 },
      fetch: countingFetch,
    });
    const started = Date.now();
    const reasons = new Map<string, number>();
    const random = () => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
    const flood = Array.from({ length: 300 }, random);
    for (let i = 0; i < flood.length; i += 50) {
      const batch = await Promise.all(flood.slice(i, i + 50).map((t) => reasonOf(adapter.verify(t, ctx))));
      for (const r of batch) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    const elapsedSec = (Date.now() - started) / 1000;
    // The burst plus the refill over the flood's duration, never one request per token.
    expect(introspections).toBeLessThanOrEqual(10 + Math.ceil(5 * elapsedSec) + 1);
    expect(introspections).toBeGreaterThan(0);
    expect([...reasons.keys()].sort()).toEqual(['provider_unavailable', 'token_inactive']);
    // A repeated inactive token is answered from the negative cache, not by the issuer.
    const repeated = 'cmVwZWF0ZWQtcmFuZG9tLW9wYXF1ZS10b2tlbg';
    await new Promise((r) => setTimeout(r, 400)); // let the bucket refill a little
    const before = introspections;
    for (let i = 0; i < 20; i++) expect(await reasonOf(adapter.verify(repeated, ctx))).toBe('token_inactive');
    expect(introspections - before).toBe(1);
  });

  it('through a plane: token_revoked only when the plane revoked the token itself', async () => {
    // oidc-provider's introspection answers carry no jti, so this issuer is a loopback endpoint that
    // answers as RFC 7662 says (active with a jti, then inactive once revoked there).
    const revokedAtIssuer = new Set<string>();
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        const now = Math.floor(Date.now() / 1000);
        const answer = revokedAtIssuer.has(token)
          ? { active: false }
          : {
              active: true,
              token_type: 'Bearer',
              sub: 'svc',
              jti: `jti-${token}`,
              exp: now + 60,
              iss: dev.issuer,
            };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
    const plane = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: dev.audience,
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      allowInsecureRequests: true,
      introspection: { ...introspection(), endpoint, cacheMaxSec: 0 },
    });
    try {
      const ours = 'b3Vycy1vcGFxdWUtdG9rZW4tMTIzNDU2Nzg';
      const first = await plane.verify(ours);
      expect(first.ok ? first.principal.claims.jti : first.failure.reason).toBe(`jti-${ours}`);
      await plane.revoke({ jti: `jti-${ours}` });
      revokedAtIssuer.add(ours);
      const refused = await plane.verify(ours);
      expect(refused.ok ? 'accepted' : refused.failure.reason).toBe('token_revoked');

      const theirs = 'dGhlaXJzLW9wYXF1ZS10b2tlbi0xMjM0NTY3OA';
      expect((await plane.verify(theirs)).ok).toBe(true);
      revokedAtIssuer.add(theirs);
      const inactive = await plane.verify(theirs);
      expect(inactive.ok ? 'accepted' : inactive.failure.reason).toBe('token_inactive');
      // Never seen active, the plane cannot know: the issuer's word stands.
      revokedAtIssuer.add('bmV2ZXItc2Vlbi1vcGFxdWUtdG9rZW4');
      const unknown = await plane.verify('bmV2ZXItc2Vlbi1vcGFxdWUtdG9rZW4');
      expect(unknown.ok ? 'accepted' : unknown.failure.reason).toBe('token_inactive');
    } finally {
      await plane.close();
      server.close();
    }
  });

  it('introspection with a wrong client secret -> provider_unavailable (our misconfiguration, not the caller)', async () => {
    const adapter = await adapterOf({ introspection: { ...introspection(), clientSecret: 'wrong-secret' } });
    const err = await adapter
      .verify(await dev.mintOpaqueToken(), ctx)
      .catch((e: unknown) => e as AuthRejection);
    expect(err).toBeInstanceOf(AuthRejection);
    expect((err as AuthRejection).reason).toBe('provider_unavailable');
    expect((err as AuthRejection).message).not.toContain('wrong-secret');
  });

  it('introspection endpoint unreachable -> provider_unavailable', async () => {
    const adapter = await adapterOf({ introspection: introspection() });
    const token = await dev.mintOpaqueToken();
    await dev.setOnline(false);
    expect(await reasonOf(adapter.verify(token, ctx))).toBe('provider_unavailable');
  });

  it('revokeToken against an unreachable issuer rejects with provider_unavailable', async () => {
    await dev.setOnline(false);
    const err = await revokeToken({
      issuer: dev.issuer,
      clientId: 'x',
      clientSecret: 'very-secret-value',
      token: 'tok-value',
      allowInsecureRequests: true,
      timeoutMs: 500,
    }).catch((e: unknown) => e as AuthRejection);
    expect((err as AuthRejection).reason).toBe('provider_unavailable');
    expect((err as Error).message).not.toMatch(/very-secret-value|tok-value/);
  });
});

describe('configuration checks zod cannot do', () => {
  it.each([
    [{ allowInsecureRequests: false }, 'issuer'],
    [{ issuer: 'http://id.example.test' }, 'issuer'],
    [{ jwksUri: 'http://keys.example.test/jwks' }, 'jwksUri'],
    [
      { introspection: { clientId: 'a', clientSecret: 'b', endpoint: 'http://id.example.test/i' } },
      'introspection.endpoint',
    ],
  ] as const)('%o -> ConfigError at %s', async (extra, path) => {
    const err = await createOidcAdapter(configOf(extra as Partial<OidcConfigInput>)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(path);
  });

  it('accepts http for loopback hosts only with allowInsecureRequests', async () => {
    const adapter = await adapterOf({ jwksUri: dev.jwksUri.replace('127.0.0.1', 'localhost') });
    expect(adapter.name).toBe('oidc');
  });
});

describe('claim mapping (claimsToPrincipal)', () => {
  const mapping = {
    org: 'org_id',
    roles: 'roles',
    scopes: ['scope', 'scp', 'permissions'],
    sessionId: 'sid',
  };
  const map = (claims: Record<string, unknown>) =>
    claimsToPrincipal(
      { sub: 'alice', exp: 2_000_000_000, ...claims },
      { provider: 'oidc', authMethod: 'jwt', mapping },
    );

  it('a user token: roles as array or single string, scopes united from every scope claim', () => {
    const principal = map({
      client_id: 'web',
      roles: 'admin',
      scope: 'read write',
      scp: ['write', 'sync'],
      permissions: ['p:1'],
      sid: 's-1',
      org_id: 'org_1',
    });
    expect(principal).toMatchObject({ kind: 'user', roles: ['admin'], orgId: 'org_1', sessionId: 's-1' });
    expect(principal.scopes).toEqual(['read', 'write', 'sync', 'p:1']);
    expect(map({ roles: ['a', 'b'] }).roles).toEqual(['a', 'b']);
  });

  it('service when sub equals client_id or gty is client-credentials', () => {
    expect(map({ client_id: 'alice' }).kind).toBe('service');
    expect(map({ gty: 'client-credentials' }).kind).toBe('service');
  });

  it.each([
    [{ roles: [1] }, 'claims_invalid'],
    [{ roles: { admin: true } }, 'claims_invalid'],
    [{ scope: 5 }, 'claims_invalid'],
    [{ org_id: 9 }, 'claims_invalid'],
    [{ sid: false }, 'claims_invalid'],
  ])('%o -> %s', (claims, reason) => {
    expect(() => map(claims)).toThrow(expect.objectContaining({ reason }));
  });
});
