// The Auth0 adapter and helpers against a loopback fake of Auth0, with the REAL auth0 SDK
// (TokenProvider, ManagementClient) routed to it through the `fetch` seam.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Auth0Adapter,
  createAuth0Adapter,
  createAuth0Membership,
  createAuth0ServiceTokens,
} from '../../providers/auth0/index';
import { type Auth0ConfigInput, auth0ConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { createAuthorizer } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import { Auth0Fake } from './auth0-fake';

let fake: Auth0Fake;
const adapters: Auth0Adapter[] = [];
const ctx = { traceId: '0af7651916cd43dd8448eb211c80319c' };
const ROLES = 'https://acme.test/roles';

beforeAll(async () => {
  fake = await Auth0Fake.start({ customDomains: ['login.acme.test'] });
  fake.addClient({
    clientId: 'svc',
    clientSecret: 'svc-secret',
    scopes: ['read', 'sync:write'],
    orgId: 'org_acme',
  });
  fake.addClient({
    clientId: 'mgmt',
    clientSecret: 'mgmt-secret',
    scopes: ['read:users', 'read:organizations'],
  });
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  fake.server.up();
  fake.server.clearFaults();
  while (adapters.length > 0) await adapters.pop()?.close();
});

async function adapterOf(extra: Partial<Auth0ConfigInput> = {}): Promise<Auth0Adapter> {
  const adapter = await createAuth0Adapter(
    auth0ConfigSchema.parse({
      provider: 'auth0',
      domain: fake.domain,
      customDomains: ['login.acme.test'],
      audience: fake.audience,
      rolesClaim: ROLES,
      fetch: fake.fetch,
      timeoutMs: 1000,
      jwks: { cooldownSec: 0 },
      ...extra,
    }),
  );
  adapters.push(adapter);
  return adapter;
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthRejection);
  return (err as AuthRejection).reason;
}

describe('access-token verification', () => {
  it('maps a user token: org_id, scope + permissions, the namespaced roles claim, sid', async () => {
    const adapter = await adapterOf();
    const token = await fake.accessToken({
      org_id: 'org_acme',
      scope: 'openid read',
      permissions: ['reports:read', 'read'],
      [ROLES]: ['admin', 'billing'],
      sid: 'sess_1',
    });
    const principal = await adapter.verify(token, ctx);
    expect(principal).toMatchObject({
      subject: 'auth0|user-1',
      providerSubject: 'auth0|user-1',
      provider: 'auth0',
      kind: 'user',
      orgId: 'org_acme',
      roles: ['admin', 'billing'],
      scopes: ['openid', 'read', 'reports:read'],
      sessionId: 'sess_1',
      authMethod: 'jwt',
    });
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.claims)).toBe(true);
  });

  it('without rolesClaim roles stay empty, even if a plain `roles` claim is present', async () => {
    const adapter = await adapterOf({ rolesClaim: undefined });
    const principal = await adapter.verify(await fake.accessToken({ roles: ['admin'] }), ctx);
    expect(principal.roles).toEqual([]);
  });

  it('accepts every issuer of the tenant (custom domains), refuses others after the signature check', async () => {
    const adapter = await adapterOf();
    expect(adapter.issuers).toEqual([`https://${fake.domain}/`, 'https://login.acme.test/']);
    await expect(
      adapter.verify(await fake.accessToken({ iss: 'https://login.acme.test/' }), ctx),
    ).resolves.toMatchObject({ kind: 'user' });
    expect(await reasonOf(adapter.verify(await fake.accessToken({ iss: 'https://evil.test/' }), ctx))).toBe(
      'issuer_mismatch',
    );
    expect(
      await reasonOf(adapter.verify(await fake.accessToken({ iss: 'https://login.acme.test' }), ctx)),
    ).toBe('issuer_mismatch');
  });

  it('tokenType: default accepts JWT, at+jwt and none, refuses other types and ID tokens; at+jwt is strict', async () => {
    const lenient = await adapterOf();
    for (const typ of ['JWT', 'at+jwt', 'application/at+jwt', undefined]) {
      await expect(lenient.verify(await fake.accessToken({}, { typ }), ctx)).resolves.toMatchObject({
        provider: 'auth0',
      });
    }
    expect(await reasonOf(lenient.verify(await fake.accessToken({}, { typ: 'dpop+jwt' }), ctx))).toBe(
      'token_type_mismatch',
    );
    expect(await reasonOf(lenient.verify(await fake.accessToken({ nonce: 'n' }), ctx))).toBe(
      'token_type_mismatch',
    );
    const strict = await adapterOf({ tokenType: 'at+jwt' });
    expect(await reasonOf(strict.verify(await fake.accessToken(), ctx))).toBe('token_type_mismatch');
    await expect(strict.verify(await fake.accessToken({}, { typ: 'at+jwt' }), ctx)).resolves.toMatchObject({
      kind: 'user',
    });
  });

  it('expired, wrong audience, forged, HS256, unknown kid', async () => {
    const adapter = await adapterOf();
    const now = Math.floor(Date.now() / 1000);
    expect(
      await reasonOf(adapter.verify(await fake.accessToken({ exp: now - 60, iat: now - 600 }), ctx)),
    ).toBe('token_expired');
    expect(await reasonOf(adapter.verify(await fake.accessToken({ aud: 'https://other.test' }), ctx))).toBe(
      'audience_mismatch',
    );
    const good = await fake.accessToken();
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.alloc(256, 7).toString('base64url')}`;
    expect(await reasonOf(adapter.verify(forged, ctx))).toBe('signature_invalid');
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: fake.signingKey.kid })).toString('base64url')}.${good.split('.')[1]}.c2ln`;
    expect(await reasonOf(adapter.verify(hs, ctx))).toBe('algorithm_not_allowed');
    expect(await reasonOf(adapter.verify(await fake.accessToken({}, { kid: 'nope' }), ctx))).toBe(
      'key_unknown',
    );
    expect(await reasonOf(adapter.verify('not-a-jwt', ctx))).toBe('credentials_malformed');
  });

  it('JWKS outage: an unseen key is provider_unavailable, a cached key keeps working', async () => {
    const adapter = await adapterOf();
    await adapter.verify(await fake.accessToken(), ctx); // warm
    const next = await fake.rotate();
    fake.server.down();
    expect(await reasonOf(adapter.verify(await fake.accessToken({}, {}, next), ctx))).toBe(
      'provider_unavailable',
    );
    await expect(adapter.verify(await fake.accessToken({}, {}, fake.keys[1]), ctx)).resolves.toMatchObject({
      kind: 'user',
    });
    fake.server.up();
    await expect(adapter.verify(await fake.accessToken({}, {}, next), ctx)).resolves.toMatchObject({
      kind: 'user',
    });
  });
});

describe('client-credentials tokens (TokenProvider)', () => {
  it('obtains a token the adapter accepts as a service principal, and caches it', async () => {
    const tokens = createAuth0ServiceTokens({
      domain: fake.domain,
      clientId: 'svc',
      clientSecret: 'svc-secret',
      audience: fake.audience,
      fetch: fake.fetch,
    });
    const before = fake.server.count('/oauth/token');
    const [a, b] = await Promise.all([tokens.getAccessToken(), tokens.getAccessToken()]);
    expect(a).toBe(b);
    expect(await tokens.getAccessToken()).toBe(a);
    expect(fake.server.count('/oauth/token') - before).toBe(1);
    const principal = await (await adapterOf()).verify(a, ctx);
    expect(principal).toMatchObject({
      subject: 'svc@clients',
      kind: 'service',
      orgId: 'org_acme',
      scopes: ['read', 'sync:write'],
    });
  });

  it('refreshes a token that is about to expire', async () => {
    fake.tokenLifetimeSec = 5; // inside the SDK's 10 s refresh-ahead window
    try {
      const tokens = createAuth0ServiceTokens({
        domain: fake.domain,
        clientId: 'svc',
        clientSecret: 'svc-secret',
        audience: fake.audience,
        fetch: fake.fetch,
      });
      const before = fake.server.count('/oauth/token');
      await tokens.getAccessToken();
      await tokens.getAccessToken();
      expect(fake.server.count('/oauth/token') - before).toBe(2);
    } finally {
      fake.tokenLifetimeSec = 86_400;
    }
  });

  it('maps refusals and outages to provider_unavailable, retrying outages once', async () => {
    const wrong = createAuth0ServiceTokens({
      domain: fake.domain,
      clientId: 'svc',
      clientSecret: 'nope',
      audience: fake.audience,
      fetch: fake.fetch,
    });
    const err = await wrong.getAccessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({
      reason: 'provider_unavailable',
      message: 'Auth0 refused the client credentials',
    });
    expect(String((err as Error).message)).not.toContain('nope');

    const tokens = () =>
      createAuth0ServiceTokens({
        domain: fake.domain,
        clientId: 'svc',
        clientSecret: 'svc-secret',
        audience: fake.audience,
        fetch: fake.fetch,
        timeoutMs: 800,
      });
    fake.server.fail({ path: '/oauth/token', status: 500, times: 1 });
    await expect(tokens().getAccessToken()).resolves.toMatch(/^eyJ/); // one retry
    fake.server.fail({ path: '/oauth/token', status: 503 });
    expect(await reasonOf(tokens().getAccessToken())).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({ path: '/oauth/token', drop: true });
    await expect(tokens().getAccessToken()).rejects.toMatchObject({
      reason: 'provider_unavailable',
      message: 'Auth0 is unreachable',
    });
    fake.server.clearFaults();
    fake.server.fail({ path: '/oauth/token', delayMs: 1500 });
    const started = Date.now();
    await expect(tokens().getAccessToken()).rejects.toMatchObject({
      reason: 'provider_unavailable',
      message: 'Auth0 did not answer in time',
    });
    expect(Date.now() - started).toBeLessThan(1400);
  });
});

describe('Management API membership', () => {
  const membershipOf = (extra = {}) =>
    createAuth0Membership({
      domain: fake.domain,
      clientId: 'mgmt',
      clientSecret: 'mgmt-secret',
      fetch: fake.fetch,
      timeoutMs: 1000,
      ...extra,
    });

  it("reads every page of a user's organizations and the org roles, cached", async () => {
    for (let i = 0; i < 60; i++)
      fake.addMember('auth0|many', `org_${String(i).padStart(2, '0')}`, i === 59 ? ['admin', 'viewer'] : []);
    const membership = membershipOf();
    const before = fake.server.count('/api/v2/');
    const orgs = await membership.organizations('auth0|many');
    expect(orgs).toHaveLength(60);
    expect(fake.server.count('/api/v2/') - before).toBe(2); // 50 + 10
    expect(await membership.roles('org_59', 'auth0|many')).toEqual(['admin', 'viewer']);
    await membership.organizations('auth0|many');
    expect(fake.server.count('/api/v2/') - before).toBe(3);
    membership.close();
  });

  it("is the authorizer's membership hook: roles in another org, unknown users, outages", async () => {
    fake.addMember('auth0|alice', 'org_a', ['member']);
    fake.addMember('auth0|alice', 'org_b', ['admin']);
    const membership = membershipOf();
    const authorizer = createAuthorizer({ isMember: membership.isMember, cacheTtlSec: 0 });
    const alice = await (await adapterOf()).verify(
      await fake.accessToken({ sub: 'auth0|alice', org_id: 'org_a' }),
      ctx,
    );
    await expect(authorizer.check(alice, { orgId: 'org_b', roles: ['admin'] })).resolves.toMatchObject({
      ok: true,
      via: 'membership',
      roles: ['admin'],
    });
    expect(await authorizer.check(alice, { orgId: 'org_c' })).toMatchObject({
      ok: false,
      failure: { reason: 'org_membership_missing' },
    });
    const ghost = await (await adapterOf()).verify(
      await fake.accessToken({ sub: 'auth0|ghost', org_id: 'org_a' }),
      ctx,
    );
    expect(await authorizer.check(ghost, { orgId: 'org_b' })).toMatchObject({
      ok: false,
      failure: { reason: 'org_membership_missing' },
    });

    const fresh = membershipOf();
    const down = createAuthorizer({ isMember: fresh.isMember, cacheTtlSec: 0 });
    fake.server.fail({ path: '/api/v2/', status: 429, headers: { 'retry-after': '0' } });
    expect(await down.check(alice, { orgId: 'org_b' })).toMatchObject({
      ok: false,
      failure: { reason: 'provider_unavailable', status: 503 },
    });
    fresh.close();
    membership.close();
  });

  it('maps 5xx, malformed bodies and timeouts to provider_unavailable', async () => {
    fake.addMember('auth0|bob', 'org_a', []);
    fake.server.fail({ path: '/api/v2/users', status: 502 });
    expect(await reasonOf(membershipOf().organizations('auth0|bob'))).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({
      path: '/api/v2/users',
      status: 200,
      body: { organizations: [{ name: 'no id' }], start: 0, limit: 50, total: 1 },
    });
    await expect(membershipOf().organizations('auth0|bob')).rejects.toMatchObject({
      message: 'Auth0 returned an unusable response',
    });
    fake.server.clearFaults();
    fake.server.fail({ path: '/api/v2/users', delayMs: 1500 });
    const started = Date.now();
    expect(await reasonOf(membershipOf({ maxRetries: 0 }).organizations('auth0|bob'))).toBe(
      'provider_unavailable',
    );
    expect(Date.now() - started).toBeLessThan(1400);
    expect(() => createAuth0Membership({ domain: fake.domain })).toThrow(ConfigError);
  });
});

describe('createIdentityPlane({ provider: "auth0" })', () => {
  const config = () => ({
    provider: 'auth0' as const,
    domain: fake.domain,
    audience: fake.audience,
    fetch: fake.fetch,
  });

  it('is refused while the auth0 flag is off, naming the flag', async () => {
    const err = await createIdentityPlane(config()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('flags.auth0');
  });

  it('verifies through the plane with the flag on', async () => {
    const plane = await createIdentityPlane({ ...config(), flags: { auth0: true } });
    const result = await plane.verify(await fake.accessToken({ org_id: 'org_acme' }));
    expect(result).toMatchObject({ ok: true, principal: { provider: 'auth0', orgId: 'org_acme' } });
    await plane.close();
  });
});
