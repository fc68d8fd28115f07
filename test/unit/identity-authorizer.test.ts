import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { authorize } from '../../src/identity/authorize';
import {
  type AuthorizationDecision,
  createAuthorizer,
  type MembershipAnswer,
  type MembershipHook,
} from '../../src/identity/authorizer';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function principal(overrides: Partial<Principal> = {}): Principal {
  return freezePrincipal({
    subject: 'alice',
    providerSubject: 'alice',
    provider: 'oidc',
    kind: 'user',
    orgId: 'org_a',
    roles: ['admin'],
    scopes: ['read', 'reports:read'],
    sessionId: null,
    expiresAt: null,
    authMethod: 'jwt',
    claims: {},
    ...overrides,
  });
}

/** A directory: answers from a table and counts its calls. */
function directory(table: Record<string, MembershipAnswer> = {}) {
  const calls: string[] = [];
  const isMember: MembershipHook = async (p, orgId) => {
    calls.push(`${p.subject}|${orgId}`);
    return table[`${p.subject}|${orgId}`];
  };
  return { isMember, calls };
}

function reasonOf(decision: AuthorizationDecision): string | null {
  return decision.ok ? null : decision.failure.reason;
}

describe('authorize: permissions', () => {
  it('checks permissions against the principal’s scopes, all-of and any-of', () => {
    const p = principal();
    expect(authorize(p, { permissions: ['reports:read'] }).ok).toBe(true);
    const missing = authorize(p, { permissions: ['reports:write'], traceId: TRACE });
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(missing.failure.reason).toBe('scope_insufficient');
      expect(missing.failure.scope).toEqual(['reports:write']);
    }
    expect(authorize(p, { anyPermissions: ['x', 'reports:read'] }).ok).toBe(true);
    expect(() => authorize(p, { anyPermissions: [] })).toThrow(TypeError);
  });
});

describe('createAuthorizer', () => {
  it('decides the token’s own org from the token, without asking the directory', async () => {
    const dir = directory();
    const authorizer = createAuthorizer({ isMember: dir.isMember });
    const decision = await authorizer.check(principal(), {
      orgId: 'org_a',
      roles: ['admin'],
      traceId: TRACE,
    });
    expect(decision).toEqual({
      ok: true,
      orgId: 'org_a',
      roles: ['admin'],
      permissions: ['read', 'reports:read'],
      via: 'token',
    });
    expect(dir.calls).toEqual([]);
    expect(await authorizer.check(principal())).toMatchObject({ ok: true, via: 'none', orgId: 'org_a' });
  });

  it('refuses another org as org_mismatch without a hook, and for services and API keys even with one', async () => {
    expect(reasonOf(await createAuthorizer().check(principal(), { orgId: 'org_b' }))).toBe('org_mismatch');
    const dir = directory({ 'svc|org_b': true, 'key|org_b': true });
    const authorizer = createAuthorizer({ isMember: dir.isMember });
    const service = principal({ subject: 'svc', kind: 'service' });
    const key = principal({ subject: 'key', kind: 'api_key', authMethod: 'api_key' });
    expect(reasonOf(await authorizer.check(service, { orgId: 'org_b' }))).toBe('org_mismatch');
    expect(reasonOf(await authorizer.check(key, { orgId: 'org_b' }))).toBe('org_mismatch');
    expect(dir.calls).toEqual([]);
  });

  it('lets a member act on another org with the roles and permissions of that org', async () => {
    const dir = directory({ 'alice|org_b': { roles: ['viewer'], permissions: ['reports:read'] } });
    const authorizer = createAuthorizer({ isMember: dir.isMember });
    const p = principal();
    expect(await authorizer.check(p, { orgId: 'org_b', traceId: TRACE })).toEqual({
      ok: true,
      orgId: 'org_b',
      roles: ['viewer'],
      permissions: ['reports:read'],
      via: 'membership',
    });
    // Token roles (admin in org_a) do not carry over to org_b.
    const admin = await authorizer.check(p, { orgId: 'org_b', roles: ['admin'], traceId: TRACE });
    expect(reasonOf(admin)).toBe('role_insufficient');
    if (!admin.ok) expect(admin.failure.traceId).toBe(TRACE);
    expect((await authorizer.check(p, { orgId: 'org_b', permissions: ['reports:read'] })).ok).toBe(true);
    expect(reasonOf(await authorizer.check(p, { orgId: 'org_b', permissions: ['read'] }))).toBe(
      'scope_insufficient',
    );
    // Delegated scopes still come from the token, checked before the directory is asked.
    const before = dir.calls.length;
    expect(reasonOf(await authorizer.check(p, { orgId: 'org_b', scopes: ['write'] }))).toBe(
      'scope_insufficient',
    );
    expect(dir.calls.length).toBe(before);
  });

  it('refuses a non-member as org_membership_missing; `true` is a member without roles', async () => {
    const dir = directory({ 'alice|org_c': true });
    const authorizer = createAuthorizer({ isMember: dir.isMember });
    const denied = await authorizer.check(principal(), { orgId: 'org_b', traceId: TRACE });
    expect(reasonOf(denied)).toBe('org_membership_missing');
    if (!denied.ok) {
      expect(denied.failure.status).toBe(403);
      expect(denied.failure.traceId).toBe(TRACE);
    }
    expect(await authorizer.check(principal(), { orgId: 'org_c' })).toMatchObject({ ok: true, roles: [] });
    // A user with no org in the token can still act on an org they belong to.
    expect((await authorizer.check(principal({ orgId: null }), { orgId: 'org_c' })).ok).toBe(true);
  });

  it('caches answers (positive and negative) for cacheTtlSec, then asks again', async () => {
    let now = 1_000_000;
    const dir = directory({ 'alice|org_b': true });
    const authorizer = createAuthorizer({ isMember: dir.isMember, cacheTtlSec: 30, clock: () => now });
    await authorizer.check(principal(), { orgId: 'org_b' });
    await authorizer.check(principal(), { orgId: 'org_b' });
    await authorizer.check(principal(), { orgId: 'org_x' });
    await authorizer.check(principal(), { orgId: 'org_x' });
    expect(dir.calls).toEqual(['alice|org_b', 'alice|org_x']);
    now += 30_001;
    await authorizer.check(principal(), { orgId: 'org_b' });
    expect(dir.calls.length).toBe(3);
    authorizer.forget('alice');
    await authorizer.check(principal(), { orgId: 'org_b' });
    expect(dir.calls.length).toBe(4);
  });

  it('keeps the cache bounded, evicting the oldest answer', async () => {
    const dir = directory();
    const authorizer = createAuthorizer({ isMember: dir.isMember, cacheMaxEntries: 2 });
    for (const org of ['o1', 'o2', 'o3']) await authorizer.check(principal(), { orgId: org });
    await authorizer.check(principal(), { orgId: 'o3' }); // cached
    await authorizer.check(principal(), { orgId: 'o1' }); // evicted: asked again
    expect(dir.calls).toEqual(['alice|o1', 'alice|o2', 'alice|o3', 'alice|o1']);
  });

  it('asks the directory once for concurrent checks of the same (subject, org)', async () => {
    let release: (answer: MembershipAnswer) => void = () => {};
    let calls = 0;
    const authorizer = createAuthorizer({
      isMember: () => {
        calls++;
        return new Promise<MembershipAnswer>((resolve) => {
          release = resolve;
        });
      },
    });
    const pending = Array.from({ length: 10 }, () => authorizer.check(principal(), { orgId: 'org_b' }));
    await new Promise((r) => setTimeout(r, 5));
    release(true);
    const decisions = await Promise.all(pending);
    expect(calls).toBe(1);
    expect(decisions.every((d) => d.ok)).toBe(true);
  });

  it('fails closed as provider_unavailable when the hook throws, rejects, times out or answers garbage', async () => {
    const hooks: MembershipHook[] = [
      () => {
        throw new Error('boom');
      },
      async () => Promise.reject(new Error('down')),
      (_p, _o, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async () => ({ roles: 'admin' }) as unknown as MembershipAnswer,
      async () => 'yes' as unknown as MembershipAnswer,
    ];
    for (const isMember of hooks) {
      const authorizer = createAuthorizer({ isMember, timeoutMs: 20 });
      const decision = await authorizer.check(principal(), { orgId: 'org_b', traceId: TRACE });
      expect(reasonOf(decision)).toBe('provider_unavailable');
      if (!decision.ok) {
        expect(decision.failure.status).toBe(503);
        expect(decision.failure.retryAfterSec).toBeGreaterThan(0);
      }
    }
  });

  it('never caches a failure', async () => {
    let fail = true;
    let calls = 0;
    const authorizer = createAuthorizer({
      isMember: async () => {
        calls++;
        if (fail) throw new Error('down');
        return true;
      },
    });
    expect(reasonOf(await authorizer.check(principal(), { orgId: 'org_b' }))).toBe('provider_unavailable');
    fail = false;
    expect((await authorizer.check(principal(), { orgId: 'org_b' })).ok).toBe(true);
    expect(calls).toBe(2);
  });

  it('asks the visibility hook for a workspace or resource, and only then', async () => {
    const seen: unknown[] = [];
    const authorizer = createAuthorizer({
      canAccess: async (_p, target) => {
        seen.push(target);
        return target.workspaceId === 'ws_open';
      },
    });
    expect((await authorizer.check(principal(), { orgId: 'org_a' })).ok).toBe(true);
    expect(seen).toEqual([]);
    expect((await authorizer.check(principal(), { orgId: 'org_a', workspaceId: 'ws_open' })).ok).toBe(true);
    const hidden = await authorizer.check(principal(), { orgId: 'org_a', workspaceId: 'ws_secret' });
    expect(reasonOf(hidden)).toBe('org_membership_missing');
    expect(seen).toEqual([
      { orgId: 'org_a', workspaceId: 'ws_open' },
      { orgId: 'org_a', workspaceId: 'ws_secret' },
    ]);
    const broken = createAuthorizer({
      canAccess: () => {
        throw new Error('down');
      },
    });
    expect(reasonOf(await broken.check(principal(), { resource: 'doc_1' }))).toBe('provider_unavailable');
  });

  it('refuses bad options with a ConfigError', () => {
    expect(() => createAuthorizer({ cacheTtlSec: -1 })).toThrow(ConfigError);
    expect(() => createAuthorizer({ cacheMaxEntries: 0 })).toThrow(ConfigError);
    expect(() => createAuthorizer({ timeoutMs: 0 })).toThrow(ConfigError);
    expect(() => createAuthorizer({ isMember: 'yes' as unknown as MembershipHook })).toThrow(ConfigError);
  });
});
