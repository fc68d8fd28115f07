import { describe, expect, it } from 'vitest';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { authorize } from '../../src/identity/authorize';

const base: Principal = freezePrincipal({
  subject: 'u1',
  providerSubject: 'u1',
  provider: 'oidc',
  kind: 'user',
  orgId: 'org_1',
  roles: ['member', 'billing'],
  scopes: ['read', 'sync:write'],
  sessionId: null,
  expiresAt: null,
  authMethod: 'jwt',
  claims: {},
});

function failure(result: ReturnType<typeof authorize>) {
  if (result.ok) throw new Error('expected a failure');
  return result.failure;
}

describe('authorize', () => {
  it('allows when every requirement holds, and with no requirements', () => {
    expect(authorize(base, { scopes: ['read'], anyRoles: ['admin', 'member'], orgId: 'org_1' })).toEqual({
      ok: true,
    });
    expect(authorize(base, {}).ok).toBe(true);
    expect(authorize(base).ok).toBe(true);
    expect(authorize(base, { scopes: [], roles: [] }).ok).toBe(true);
  });

  it('scope_insufficient: 403 with the required scopes in failure.scope and the challenge', () => {
    const f = failure(authorize(base, { scopes: ['read', 'admin:all'] }));
    expect(f.reason).toBe('scope_insufficient');
    expect(f.status).toBe(403);
    expect(f.scope).toEqual(['read', 'admin:all']);
    expect(f.challenge).toContain('error="insufficient_scope"');
    expect(f.challenge).toContain('scope="read admin:all"');
    expect(f.provider).toBe('oidc');
  });

  it('anyScopes needs one of them', () => {
    expect(authorize(base, { anyScopes: ['x', 'read'] }).ok).toBe(true);
    const f = failure(authorize(base, { anyScopes: ['x', 'y'] }));
    expect(f.reason).toBe('scope_insufficient');
    expect(f.scope).toEqual(['x', 'y']);
  });

  it('role_insufficient for roles and anyRoles', () => {
    expect(failure(authorize(base, { roles: ['member', 'admin'] })).reason).toBe('role_insufficient');
    expect(failure(authorize(base, { anyRoles: ['admin', 'owner'] })).reason).toBe('role_insufficient');
    expect(authorize(base, { roles: ['member', 'billing'] }).ok).toBe(true);
  });

  it('org_mismatch for another org and for a principal without an org', () => {
    expect(failure(authorize(base, { orgId: 'org_2' })).reason).toBe('org_mismatch');
    const orgless = freezePrincipal({ ...base, orgId: null });
    const f = failure(authorize(orgless, { orgId: 'org_1' }));
    expect(f.reason).toBe('org_mismatch');
    expect(f.status).toBe(403);
  });

  it('checks the org first, then scopes, then roles', () => {
    const all = { orgId: 'org_2', scopes: ['nope'], roles: ['nope'] };
    expect(failure(authorize(base, all)).reason).toBe('org_mismatch');
    expect(failure(authorize(base, { ...all, orgId: 'org_1' })).reason).toBe('scope_insufficient');
    expect(failure(authorize(base, { ...all, orgId: 'org_1', scopes: ['read'] })).reason).toBe(
      'role_insufficient',
    );
  });

  it('uses the given trace id and realm, or generates a trace id', () => {
    const f = failure(authorize(base, { scopes: ['x'], traceId: 'trace-1', realm: 'api' }));
    expect(f.traceId).toBe('trace-1');
    expect(f.challenge).toContain('realm="api"');
    expect(failure(authorize(base, { scopes: ['x'] })).traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is pure: it mutates nothing and returns frozen results', () => {
    const requirements = Object.freeze({ scopes: Object.freeze(['x']) });
    const result = authorize(base, requirements);
    expect(Object.isFrozen(result)).toBe(true);
    expect(authorize(base, requirements)).toMatchObject({ ok: false });
  });

  it('throws TypeError for programmer errors', () => {
    expect(() => authorize(null as unknown as Principal, {})).toThrow(TypeError);
    expect(() => authorize(base, { scopes: 'read' as unknown as string[] })).toThrow(TypeError);
    expect(() => authorize(base, { anyScopes: [] })).toThrow(/anyScopes/);
    expect(() => authorize(base, { anyRoles: [] })).toThrow(/anyRoles/);
    expect(() => authorize(base, { orgId: 5 as unknown as string })).toThrow(TypeError);
  });
});
