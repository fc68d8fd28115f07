// RFC 9470 step-up in authorize and the authorizer: acr and auth_time, each requirement attacked.
import { describe, expect, it } from 'vitest';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { toHttp } from '../../src/core/response';
import { authorize } from '../../src/identity/authorize';
import { createAuthorizer } from '../../src/identity/authorizer';

const now = () => Math.floor(Date.now() / 1000);
const user = (claims: Record<string, unknown>): Principal =>
  freezePrincipal({
    subject: 'alice',
    providerSubject: 'alice',
    provider: 'oidc',
    kind: 'user',
    orgId: 'org_1',
    roles: [],
    scopes: ['read'],
    sessionId: null,
    expiresAt: null,
    authMethod: 'jwt',
    claims,
  });

function failure(result: ReturnType<typeof authorize>) {
  if (result.ok) throw new Error('expected a failure');
  return result.failure;
}

describe('authorize: step-up (RFC 9470)', () => {
  const needs = { acr: ['urn:mfa', 'urn:phr'], maxAgeSec: 300 };

  it('passes a recent authentication of an accepted acr', () => {
    expect(authorize(user({ acr: 'urn:phr', auth_time: now() - 10 }), needs).ok).toBe(true);
  });

  it.each([
    ['a weaker acr', { acr: 'urn:pwd', auth_time: now() }],
    ['no acr', { auth_time: now() }],
    ['an acr of the wrong type', { acr: ['urn:mfa'], auth_time: now() }],
    ['an old authentication', { acr: 'urn:mfa', auth_time: now() - 301 - 5 }],
    ['no auth_time', { acr: 'urn:mfa' }],
    ['an auth_time that is a string', { acr: 'urn:mfa', auth_time: `${now()}` }],
  ])('refuses %s: 401 insufficient_user_authentication with acr_values and max_age', (_what, claims) => {
    const f = failure(authorize(user(claims), { ...needs, traceId: 'trace-1' }));
    expect(f).toMatchObject({
      reason: 'authentication_insufficient',
      status: 401,
      error: 'insufficient_user_authentication',
      traceId: 'trace-1',
      acrValues: ['urn:mfa', 'urn:phr'],
      maxAgeSec: 300,
    });
    expect(f.challenge).toMatch(
      /^Bearer error="insufficient_user_authentication", error_description="[^"]+"/,
    );
    expect(f.challenge).toContain('acr_values="urn:mfa urn:phr"');
    expect(f.challenge).toContain('max_age=300');
    expect(JSON.parse(toHttp(f).body)).toMatchObject({ error: 'insufficient_user_authentication' });
  });

  it('answers a DPoP-bound principal in the DPoP scheme', () => {
    const f = failure(authorize(user({ acr: 'urn:pwd', cnf: { jkt: 'abc' } }), { acr: ['urn:mfa'] }));
    expect(f.challenge).toMatch(/^DPoP error="insufficient_user_authentication", /);
    const scope = failure(authorize(user({ cnf: { jkt: 'abc' } }), { scopes: ['admin'] }));
    expect(scope.challenge).toMatch(/^DPoP error="insufficient_scope", /);
  });

  it('checks only what is asked: acr alone, max age alone', () => {
    expect(authorize(user({ acr: 'urn:mfa' }), { acr: ['urn:mfa'] }).ok).toBe(true);
    expect(authorize(user({ auth_time: now() - 5 }), { maxAgeSec: 60 }).ok).toBe(true);
    const f = failure(authorize(user({ auth_time: now() - 120 }), { maxAgeSec: 60 }));
    expect(f.challenge).toContain('max_age=60');
    expect(f.challenge).not.toContain('acr_values');
  });

  it('comes before the 403 checks: a client steps up first', () => {
    const f = failure(authorize(user({ acr: 'urn:pwd' }), { acr: ['urn:mfa'], scopes: ['admin'] }));
    expect(f.reason).toBe('authentication_insufficient');
  });

  it.each([{ acr: [] }, { acr: 'urn:mfa' }, { acr: [''] }, { maxAgeSec: -1 }, { maxAgeSec: Number.NaN }])(
    'refuses malformed requirements %o as a programmer error',
    (requirements) => {
      expect(() => authorize(user({}), requirements as never)).toThrow(TypeError);
    },
  );

  it('the authorizer applies it in the token’s org and in another org reached through membership', async () => {
    const authorizer = createAuthorizer({ isMember: async () => ({ roles: ['admin'] }) });
    const weak = user({ acr: 'urn:pwd', auth_time: now() });
    const own = await authorizer.check(weak, { acr: ['urn:mfa'] });
    expect(own.ok ? null : own.failure.reason).toBe('authentication_insufficient');
    const other = await authorizer.check(weak, { orgId: 'org_2', acr: ['urn:mfa'] });
    expect(other.ok ? null : other.failure.reason).toBe('authentication_insufficient');
    const strong = user({ acr: 'urn:mfa', auth_time: now() });
    expect((await authorizer.check(strong, { orgId: 'org_2', acr: ['urn:mfa'] })).ok).toBe(true);
  });
});
