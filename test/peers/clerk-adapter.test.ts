// The Clerk adapter and membership hook against a loopback fake of the Clerk Backend API. Session
// tokens go through authplane's own verifier (at the configured clock); the Backend API calls (JWKS, API keys, M2M
// tokens, memberships) go through the configured fetch, and a test checks they are the requests the
// SDK itself sends (apiKeys.verify, m2m.verify, users.getOrganizationMembershipList).
import { createClerkClient, verifyToken } from '@clerk/backend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ClerkAdapter, createClerkAdapter, createClerkMembership } from '../../providers/clerk/index';
import { type ClerkConfigInput, clerkConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { createAuthorizer } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import { CLERK_FAKE_MACHINE_SECRET, CLERK_FAKE_SECRET, ClerkFake } from './clerk-fake';

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
  fake.unhang();
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

  it('a configured clock takes effect: tokens are judged at the clock, not at the real time', async () => {
    const past = Date.UTC(2024, 0, 1, 12, 0, 0);
    const adapter = await adapterOf({ clock: () => past });
    const pastSec = Math.floor(past / 1000);
    // Valid at the test clock, long expired in real time.
    const thenValid = await fake.sessionToken({ iat: pastSec - 5, nbf: pastSec - 5, exp: pastSec + 60 });
    await expect(adapter.verify(thenValid, ctx)).resolves.toMatchObject({ subject: 'user_1', kind: 'user' });
    // Valid in real time, not yet valid at the test clock.
    expect(await reasonOf(adapter.verify(await fake.sessionToken(), ctx))).toBe('token_not_yet_valid');
    const later = await adapterOf({ clock: () => Date.now() + 3_600_000 });
    expect(await reasonOf(later.verify(await fake.sessionToken(), ctx))).toBe('token_expired');
    // Networkless too.
    const pem = await adapterOf({ jwtKey: await fake.publicPem(), secretKey: undefined, clock: () => past });
    await expect(pem.verify(thenValid, ctx)).resolves.toMatchObject({ subject: 'user_1' });
  });

  it('publishableKey takes effect: the Frontend API it names is the required issuer', async () => {
    const pk = `pk_test_${Buffer.from('clerk.acme.test$').toString('base64')}`;
    const adapter = await adapterOf({ publishableKey: pk });
    await expect(adapter.verify(await fake.sessionToken(), ctx)).resolves.toMatchObject({ kind: 'user' });
    expect(
      await reasonOf(
        adapter.verify(await fake.sessionToken({ extra: { iss: 'https://clerk.evil.test' } }), ctx),
      ),
    ).toBe('issuer_mismatch');
    const bad = `pk_test_${Buffer.from('not a host').toString('base64')}`;
    await expect(adapterOf({ publishableKey: bad })).rejects.toBeInstanceOf(ConfigError);
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

describe('the fetch seam: every Clerk call goes through the configured fetch', () => {
  const realFetch = globalThis.fetch;
  const counting = () => {
    const seen: string[] = [];
    const fetchFn: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      seen.push(`${init?.method ?? 'GET'} ${url.pathname}`);
      return realFetch(input, init);
    };
    return { seen, fetch: fetchFn };
  };
  /** Runs `body` with a global fetch that records any use; expects none. */
  async function withoutGlobalFetch(body: () => Promise<void>): Promise<void> {
    const stray: string[] = [];
    globalThis.fetch = ((input: unknown) => {
      stray.push(String(input instanceof Request ? input.url : input));
      return Promise.reject(new Error('the global fetch must not be used'));
    }) as typeof fetch;
    try {
      await body();
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(stray).toEqual([]);
  }

  it('JWKS, API-key verify, M2M verify and membership pages all reach the fake through it, none through the global fetch', async () => {
    fake.addMember('user_seam', 'org_seam', 'org:admin', ['org:reports:read']);
    const { seen, fetch: countingFetch } = counting();
    await withoutGlobalFetch(async () => {
      const adapter = await adapterOf({ fetch: countingFetch });
      await expect(
        adapter.verify(await fake.sessionToken({ key: await fake.rotate() }), ctx),
      ).resolves.toMatchObject({ kind: 'user' });
      await expect(adapter.verify('ak_live_good', ctx)).resolves.toMatchObject({ kind: 'api_key' });
      expect(await reasonOf(adapter.verify('ak_unknown', ctx))).toBe('api_key_invalid');
      await expect(adapter.verify('mt_good', ctx)).resolves.toMatchObject({ kind: 'service' });
      const membership = createClerkMembership({
        secretKey: CLERK_FAKE_SECRET,
        apiUrl: fake.apiUrl,
        allowInsecureRequests: true,
        timeoutMs: 1000,
        fetch: countingFetch,
      });
      expect(await membership.memberships('user_seam')).toEqual([
        { orgId: 'org_seam', role: 'org:admin', permissions: ['org:reports:read'] },
      ]);
      expect(await membership.memberships('user_nobody')).toEqual([]);
      // Outages go through it too (and are retried through it).
      fake.server.fail({ path: '/api_keys', status: 503, times: 1 });
      await expect(adapter.verify('ak_live_good', ctx)).resolves.toMatchObject({ kind: 'api_key' });
    });
    expect(seen).toContain('GET /v1/jwks');
    expect(seen.filter((r) => r === 'POST /api_keys/verify')).toHaveLength(4);
    expect(seen).toContain('POST /m2m_tokens/verify');
    expect(seen).toContain('GET /v1/users/user_seam/organization_memberships');
    expect(seen).toContain('GET /v1/users/user_nobody/organization_memberships');
  });

  it('sends what @clerk/backend sends: paths, query, bodies, Bearer keys and headers (JWKS too)', async () => {
    fake.addMember('user_parity', 'org_parity', 'org:member');
    const pick = (from: number) =>
      fake.log.slice(from).map((r) => ({
        method: r.method,
        path: r.path,
        search: r.search,
        body: r.body,
        authorization: r.headers.authorization,
        'clerk-api-version': r.headers['clerk-api-version'],
        'content-type': r.headers['content-type'],
        'user-agent': r.headers['user-agent'],
      }));
    // The SDK, on the global fetch.
    const sdk = createClerkClient({
      secretKey: CLERK_FAKE_SECRET,
      machineSecretKey: CLERK_FAKE_MACHINE_SECRET,
      apiUrl: fake.apiUrl,
      telemetry: { disabled: true },
    });
    let mark = fake.log.length;
    await verifyToken(await fake.sessionToken(), {
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      skipJwksCache: true,
      authorizedParties: ['https://app.acme.test'],
    });
    await sdk.apiKeys.verify('ak_live_good');
    await sdk.m2m.verify({ token: 'mt_good' });
    await sdk.users.getOrganizationMembershipList({ userId: 'user_parity', limit: 100, offset: 0 });
    const fromSdk = pick(mark);
    // Ours, through the configured fetch.
    mark = fake.log.length;
    const adapter = await adapterOf({ machineSecretKey: CLERK_FAKE_MACHINE_SECRET, fetch: counting().fetch });
    await adapter.verify(await fake.sessionToken(), ctx);
    await adapter.verify('ak_live_good', ctx);
    await adapter.verify('mt_good', ctx);
    await createClerkMembership({
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      allowInsecureRequests: true,
      fetch: counting().fetch,
    }).memberships('user_parity');
    expect(pick(mark)).toEqual(fromSdk);
    expect(fromSdk.map((r) => r.authorization)).toEqual([
      `Bearer ${CLERK_FAKE_SECRET}`,
      `Bearer ${CLERK_FAKE_SECRET}`,
      `Bearer ${CLERK_FAKE_MACHINE_SECRET}`,
      `Bearer ${CLERK_FAKE_SECRET}`,
    ]);
    expect(fromSdk[0]?.['clerk-api-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('a hanging API-key verify is aborted at the timeout: provider_unavailable, and the connection is closed', async () => {
    const adapter = await adapterOf({ timeoutMs: 300, fetch: counting().fetch });
    fake.hang('/api_keys/verify');
    const before = fake.hung.length;
    const started = Date.now();
    const err = await adapter.verify('ak_live_good', ctx).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ reason: 'provider_unavailable', message: 'Clerk did not answer in time' });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(600);
    const hung = fake.hung.slice(before);
    expect(hung).toHaveLength(1);
    await vi.waitFor(() => expect(hung[0]?.closedAt).not.toBeNull(), { timeout: 500 });

    // The caller's signal aborts it too (the request being served went away).
    const caller = new AbortController();
    const pending = adapter
      .verify('ak_live_good', { ...ctx, signal: caller.signal })
      .catch((e: unknown) => e);
    await vi.waitFor(() => expect(fake.hung.length).toBe(before + 2));
    caller.abort();
    expect(await pending).toMatchObject({ reason: 'provider_unavailable' });
    await vi.waitFor(() => expect(fake.hung[before + 1]?.closedAt).not.toBeNull(), { timeout: 500 });

    // The membership lookup likewise (every page and retry inside one timeout).
    fake.hang('/v1/users/');
    const membership = createClerkMembership({
      secretKey: CLERK_FAKE_SECRET,
      apiUrl: fake.apiUrl,
      allowInsecureRequests: true,
      timeoutMs: 300,
      fetch: counting().fetch,
    });
    expect(await reasonOf(membership.memberships('user_1'))).toBe('provider_unavailable');
    await vi.waitFor(() => expect(fake.hung.at(-1)?.closedAt).not.toBeNull(), { timeout: 500 });
  });

  it('maps Backend API errors: 401/403 (key refused), 422, unparseable JSON (retried) -> provider_unavailable; 400 -> invalid', async () => {
    const { seen, fetch: countingFetch } = counting();
    const adapter = await adapterOf({ fetch: countingFetch, maxRetries: 2 });
    const wrongKey = await adapterOf({ secretKey: 'sk_test_wrong', jwtKey: await fake.publicPem() });
    expect(await wrongKey.verify('ak_live_good', ctx).catch((e: unknown) => e)).toMatchObject({
      reason: 'provider_unavailable',
      message: 'Clerk refused the secret key',
    });
    for (const [status, code] of [
      [403, 'authorization_invalid'],
      [422, 'form_param_format_invalid'],
    ] as const) {
      fake.server.fail({
        path: '/api_keys',
        status,
        body: { errors: [{ code, message: code, long_message: code }] },
      });
      expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('provider_unavailable');
      fake.server.clearFaults();
    }
    // A 400 is a definite answer about the key.
    fake.server.fail({ path: '/api_keys', status: 400, body: { errors: [{ code: 'form_param_missing' }] } });
    expect(await reasonOf(adapter.verify('ak_live_good', ctx))).toBe('api_key_invalid');
    fake.server.clearFaults();
    // Unparseable JSON is retried, then an outage.
    const before = seen.length;
    fake.server.fail({ path: '/m2m_tokens', raw: { contentType: 'application/json', text: '{"object":' } });
    expect(await adapter.verify('mt_good', ctx).catch((e: unknown) => e)).toMatchObject({
      reason: 'provider_unavailable',
      message: 'Clerk returned an unusable response',
    });
    expect(seen.length - before).toBe(3);
    fake.server.clearFaults();
    // A charset parameter is fine (the SDK would have returned a raw string).
    fake.server.fail({
      path: '/api_keys',
      status: 200,
      raw: {
        contentType: 'application/json; charset=utf-8',
        text: JSON.stringify({
          object: 'api_key',
          id: 'ak_9',
          subject: 'user_9',
          scopes: [],
          revoked: false,
        }),
      },
    });
    await expect(adapter.verify('ak_live_good', ctx)).resolves.toMatchObject({ providerSubject: 'ak_9' });
  });
});
