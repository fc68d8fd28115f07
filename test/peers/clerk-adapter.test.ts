// The Clerk adapter and membership hook against a loopback fake of the Clerk Backend API, with the
// REAL @clerk/backend (verifyToken, apiKeys.verify, m2m.verify, users.getOrganizationMembershipList).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClerkAdapter, createClerkAdapter, createClerkMembership } from '../../providers/clerk/index';
import { type ClerkConfigInput, clerkConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { createAuthorizer } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import { CLERK_FAKE_SECRET, ClerkFake } from './clerk-fake';

let fake: ClerkFake;
const adapters: ClerkAdapter[] = [];
const ctx = { traceId: '0af7651916cd43dd8448eb211c80319c' };

beforeAll(async () => {
  fake = await ClerkFake.start();
  fake.apiKeys.set('ak_live_good', { id: 'ak_1', subject: 'org_acme', scopes: ['read', 'sync:write'] });
  fake.apiKeys.set('ak_user', { id: 'ak_2', subject: 'user_1', scopes: ['read'] });
  fake.apiKeys.set('ak_revoked', { id: 'ak_3', subject: 'user_1', scopes: [], revoked: true });
  fake.apiKeys.set('ak_expired', {
    id: 'ak_4',
    subject: 'user_1',
    scopes: [],
    expired: true,
    expiration: Date.now() - 1000,
  });
  fake.m2mTokens.set('mt_good', {
    id: 'mt_1',
    subject: 'mch_sync',
    scopes: ['sync:write'],
    expiration: Date.now() + 60_000,
  });
  fake.m2mTokens.set('mt_revoked', { id: 'mt_2', subject: 'mch_sync', scopes: [], revoked: true });
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  fake.server.up();
  fake.server.clearFaults();
  while (adapters.length > 0) await adapters.pop()?.close();
});

async function adapterOf(extra: Partial<ClerkConfigInput> = {}): Promise<ClerkAdapter> {
  const adapter = await createClerkAdapter(
    clerkConfigSchema.parse({
      provider: 'clerk',
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      allowInsecureRequests: true,
      authorizedParties: ['https://app.acme.test'],
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

describe('session tokens', () => {
  it('maps v2 org claims (o.id, o.rol, o.per + fea/fpm) to orgId, roles and scopes', async () => {
    const adapter = await adapterOf();
    const token = await fake.sessionToken({
      orgId: 'org_acme',
      role: 'org:admin',
      permissions: ['org:reports:read', 'org:reports:write', 'org:billing:read'],
    });
    const principal = await adapter.verify(token, ctx);
    expect(principal).toMatchObject({
      subject: 'user_1',
      providerSubject: 'user_1',
      provider: 'clerk',
      kind: 'user',
      orgId: 'org_acme',
      roles: ['org:admin'],
      sessionId: 'sess_123',
      authMethod: 'jwt',
    });
    expect([...principal.scopes].sort()).toEqual([
      'org:billing:read',
      'org:reports:read',
      'org:reports:write',
    ]);
    expect(adapter.jwksStats()?.fetches).toBeGreaterThanOrEqual(1);
  });

  it('networkless with a PEM jwtKey (no JWKS request)', async () => {
    const adapter = await adapterOf({ jwtKey: await fake.publicPem(), secretKey: undefined });
    const before = fake.server.count('/v1/jwks');
    await expect(adapter.verify(await fake.sessionToken({ orgId: null }), ctx)).resolves.toMatchObject({
      orgId: null,
      roles: [],
    });
    expect(fake.server.count('/v1/jwks')).toBe(before);
    expect(adapter.jwksStats()).toBeNull();
  });

  it('maps every SDK refusal to a reason', async () => {
    const adapter = await adapterOf();
    const now = Math.floor(Date.now() / 1000);
    expect(
      await reasonOf(
        adapter.verify(await fake.sessionToken({ exp: now - 60, iat: now - 120, nbf: now - 120 }), ctx),
      ),
    ).toBe('token_expired');
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ nbf: now + 120 }), ctx))).toBe(
      'token_not_yet_valid',
    );
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ azp: 'https://evil.test' }), ctx))).toBe(
      'audience_mismatch',
    );
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ header: { typ: 'at+jwt' } }), ctx))).toBe(
      'token_type_mismatch',
    );
    const good = await fake.sessionToken();
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.alloc(256, 1).toString('base64url')}`;
    expect(await reasonOf(adapter.verify(forged, ctx))).toBe('signature_invalid');
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ header: { kid: 'unknown' } }), ctx))).toBe(
      'key_unknown',
    );
    expect(
      await reasonOf(
        adapter.verify(await fake.sessionToken({ header: { jku: 'https://evil.test/jwks' } }), ctx),
      ),
    ).toBe('header_rejected');
    expect(await reasonOf(adapter.verify('eyJhbGciOiJSUzI1NiJ9.e30', ctx))).toBe('credentials_malformed');
    expect(
      await reasonOf(adapter.verify(`${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.c2ln`, ctx)),
    ).toBe('algorithm_not_allowed');
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ extra: { sub: 42 } }), ctx))).toBe(
      'claims_invalid',
    );
    expect(await reasonOf(adapter.verify('oat_abc', ctx))).toBe('token_type_mismatch');
  });

  it('authorizedParties: null switches the azp check off explicitly', async () => {
    const adapter = await adapterOf({ authorizedParties: null });
    await expect(
      adapter.verify(await fake.sessionToken({ azp: 'https://elsewhere.test' }), ctx),
    ).resolves.toMatchObject({ kind: 'user' });
  });

  it('JWKS outage: an unseen key is provider_unavailable (fast, no SDK retry storm), cached keys keep working', async () => {
    const adapter = await adapterOf();
    await adapter.verify(await fake.sessionToken(), ctx);
    const next = await fake.rotate();
    fake.server.down();
    const started = Date.now();
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ key: next }), ctx))).toBe(
      'provider_unavailable',
    );
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(adapter.verify(await fake.sessionToken({ key: fake.keys[1] }), ctx)).resolves.toMatchObject({
      kind: 'user',
    });
    fake.server.up();
    await expect(adapter.verify(await fake.sessionToken({ key: next }), ctx)).resolves.toMatchObject({
      kind: 'user',
    });
    // A JWKS answering 500 (the SDK would retry ~5 times over ~3 s) is bounded by our timeout.
    const third = await fake.rotate();
    fake.server.fail({ path: '/v1/jwks', status: 500 });
    expect(await reasonOf(adapter.verify(await fake.sessionToken({ key: third }), ctx))).toBe(
      'provider_unavailable',
    );
  });
});

describe('machine credentials through the Backend API', () => {
  it('API keys -> kind api_key; revoked, expired, unknown', async () => {
    const adapter = await adapterOf();
    await expect(adapter.verify('ak_live_good', ctx)).resolves.toMatchObject({
      subject: 'org_acme',
      providerSubject: 'ak_1',
      kind: 'api_key',
      orgId: 'org_acme',
      scopes: ['read', 'sync:write'],
      authMethod: 'api_key',
    });
    await expect(adapter.verify('ak_user', ctx)).resolves.toMatchObject({ subject: 'user_1', orgId: null });
    expect(await reasonOf(adapter.verify('ak_revoked', ctx))).toBe('api_key_revoked');
    expect(await reasonOf(adapter.verify('ak_expired', ctx))).toBe('api_key_expired');
    expect(await reasonOf(adapter.verify('ak_unknown', ctx))).toBe('api_key_invalid');
  });

  it('M2M tokens -> kind service; revoked or unknown is token_revoked', async () => {
    const adapter = await adapterOf();
    await expect(adapter.verify('mt_good', ctx)).resolves.toMatchObject({
      subject: 'mch_sync',
      kind: 'service',
      scopes: ['sync:write'],
      authMethod: 'introspection',
    });
    expect(await reasonOf(adapter.verify('mt_revoked', ctx))).toBe('token_revoked');
    expect(await reasonOf(adapter.verify('mt_unknown', ctx))).toBe('token_revoked');
  });

  it('outages: 5xx (retried once), 429, network, malformed body, timeout -> provider_unavailable', async () => {
    const adapter = await adapterOf();
    fake.server.fail({ path: '/api_keys', status: 503, times: 1 });
    await expect(adapter.verify('ak_live_good', ctx)).resolves.toMatchObject({ kind: 'api_key' });
    fake.server.fail({ path: '/api_keys', status: 500 });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({
      path: '/m2m_tokens',
      status: 429,
      body: { errors: [{ code: 'too_many_requests', message: 'slow down' }] },
      headers: { 'retry-after': '7' },
    });
    const limited = await adapter.verify('mt_good', ctx).catch((e: unknown) => e);
    expect(limited).toMatchObject({ reason: 'provider_unavailable', retryAfterSec: 7 });
    fake.server.clearFaults();
    fake.server.fail({ path: '/api_keys', drop: true });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({ path: '/api_keys', raw: { contentType: 'text/html', text: '<html>gateway</html>' } });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({ path: '/api_keys', status: 200, body: { object: 'api_key', id: 7 } });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
    fake.server.clearFaults();
    fake.server.fail({ path: '/api_keys', delayMs: 1300 });
    const started = Date.now();
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(1250);
  });

  it('without a secret key machine credentials are not accepted', async () => {
    const adapter = await adapterOf({ jwtKey: await fake.publicPem(), secretKey: undefined });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('token_type_mismatch');
  });
});

describe('organization membership', () => {
  it('reads every page, caches, and answers the authorizer hook', async () => {
    for (let i = 0; i < 130; i++)
      fake.addMember('user_many', `org_${i}`, i === 129 ? 'org:admin' : 'org:member', ['org:reports:read']);
    fake.addMember('user_1', 'org_b', 'org:admin', ['org:reports:write']);
    const membership = createClerkMembership({
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      allowInsecureRequests: true,
      timeoutMs: 1000,
    });
    const before = fake.server.count('/v1/users');
    expect(await membership.memberships('user_many')).toHaveLength(130);
    expect(fake.server.count('/v1/users') - before).toBe(2);
    await membership.memberships('user_many');
    expect(fake.server.count('/v1/users') - before).toBe(2);

    const authorizer = createAuthorizer({ isMember: membership.isMember, cacheTtlSec: 0 });
    const user = await (await adapterOf()).verify(await fake.sessionToken({ orgId: 'org_acme' }), ctx);
    expect(
      await authorizer.check(user, {
        orgId: 'org_b',
        roles: ['org:admin'],
        permissions: ['org:reports:write'],
      }),
    ).toMatchObject({ ok: true, via: 'membership' });
    expect(await authorizer.check(user, { orgId: 'org_zzz' })).toMatchObject({
      ok: false,
      failure: { reason: 'org_membership_missing' },
    });
    const ghost = await (await adapterOf()).verify(await fake.sessionToken({ sub: 'user_ghost' }), ctx);
    expect(await authorizer.check(ghost, { orgId: 'org_b' })).toMatchObject({
      ok: false,
      failure: { reason: 'org_membership_missing' },
    });

    const other = createClerkMembership({
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      allowInsecureRequests: true,
      timeoutMs: 500,
      maxRetries: 0,
    });
    fake.server.fail({ path: '/v1/users', status: 500 });
    const down = createAuthorizer({ isMember: other.isMember, cacheTtlSec: 0 });
    expect(await down.check(user, { orgId: 'org_b' })).toMatchObject({
      ok: false,
      failure: { reason: 'provider_unavailable', status: 503 },
    });
  });
});

describe('createIdentityPlane({ provider: "clerk" })', () => {
  const config = () => ({
    provider: 'clerk' as const,
    secretKey: CLERK_FAKE_SECRET,
    apiUrl: fake.apiUrl,
    allowInsecureRequests: true,
    authorizedParties: ['https://app.acme.test'],
  });

  it('is refused while the clerk flag is off, naming the flag; needs a key', async () => {
    await expect(createIdentityPlane(config())).rejects.toMatchObject({ path: 'flags.clerk' });
    await expect(
      createIdentityPlane({ ...config(), secretKey: undefined, flags: { clerk: true } }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      createIdentityPlane({ ...config(), apiUrl: 'http://clerk.example.com', flags: { clerk: true } }),
    ).rejects.toMatchObject({ path: 'apiUrl' });
  });

  it('verifies session tokens and API keys through the plane', async () => {
    const plane = await createIdentityPlane({ ...config(), flags: { clerk: true } });
    await expect(plane.verify(await fake.sessionToken())).resolves.toMatchObject({
      ok: true,
      principal: { provider: 'clerk' },
    });
    await expect(plane.verify('ak_live_good')).resolves.toMatchObject({
      ok: true,
      principal: { kind: 'api_key' },
    });
    const forged = await fake.sessionToken({ header: { x5u: 'https://evil.test/cert' } });
    await expect(plane.verify(forged)).resolves.toMatchObject({
      ok: false,
      failure: { reason: 'header_rejected', status: 401 },
    });
    await plane.close();
  });
});
