// Adapter behaviour that needs no network: argument checks made once at construction, a guard used
// without authenticate (a wiring mistake, surfaced loudly), and Hono through app.request.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal } from '../../src/core/principal';
import * as ex from '../../src/http/express';
import * as fy from '../../src/http/fastify';
import * as ho from '../../src/http/hono';
import * as nd from '../../src/http/node';
import { createPlane } from '../../src/identity/plane';
import type { IdentityPlane } from '../../src/identity/types';

const plane = createPlane({
  name: 'test',
  async verify(token) {
    if (token !== 'good.token.value') throw new AuthRejection('signature_invalid');
    return freezePrincipal({
      subject: 'svc',
      providerSubject: 'svc',
      provider: 'test',
      kind: 'service',
      orgId: 'org_a',
      roles: ['reader'],
      scopes: ['read'],
      sessionId: null,
      expiresAt: null,
      authMethod: 'jwt',
      claims: {},
    });
  },
});

describe.each([
  ['node', nd],
  ['express', ex],
  ['fastify', fy],
  ['hono', ho],
] as const)('%s adapter construction', (_name, adapter) => {
  it('refuses what can never work, when the route is declared', () => {
    expect(() => adapter.authenticate({} as IdentityPlane)).toThrow(TypeError);
    expect(() => adapter.requireScopes()).toThrow(TypeError);
    expect(() => adapter.requireAnyRole()).toThrow(TypeError);
    expect(() => adapter.requireScopes('')).toThrow(TypeError);
    expect(() => adapter.requireOrg({} as never)).toThrow(TypeError);
    expect(() => adapter.requireAccess({ roles: 'admin' as unknown as string[] })).toThrow(TypeError);
  });
});

describe('hono adapter in process', () => {
  const app = new Hono<ho.AuthEnv>();
  app.use('/api/*', ho.authenticate(plane));
  app.get('/api/items', ho.requireScopes('read'), (c) =>
    c.json({ subject: c.var.auth.subject, trace: ho.traceIdOf(c) }),
  );
  app.get('/api/admin', ho.requireAnyRole('admin', 'owner'), (c) => c.json({ ok: true }));
  app.get('/api/orgs/:orgId', ho.requireOrg({ param: 'orgId' }, { roles: ['reader'] }), (c) =>
    c.json({ ok: true }),
  );
  app.get('/unguarded', ho.requireScopes('read'), (c) => c.json({ ok: true }));

  const auth = { authorization: 'Bearer good.token.value' };

  it('attaches the principal and exposes the decision’s trace id', async () => {
    const res = await app.request('/api/items', {
      headers: { ...auth, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ subject: 'svc', trace: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('answers refusals with toResponse', async () => {
    const bad = await app.request('/api/items', { headers: { authorization: 'Bearer bad.token.value' } });
    expect(bad.status).toBe(401);
    const role = await app.request('/api/admin', { headers: auth });
    expect(role.status).toBe(403);
    expect(((await role.json()) as { reason: string }).reason).toBe('role_insufficient');
    expect((await app.request('/api/orgs/org_a', { headers: auth })).status).toBe(200);
    const other = await app.request('/api/orgs/org_b', { headers: auth });
    expect(((await other.json()) as { reason: string }).reason).toBe('org_mismatch');
    const junk = await app.request('/api/orgs/a%20b', { headers: auth });
    expect(((await junk.json()) as { reason: string }).reason).toBe('org_mismatch');
  });

  it('fails loudly (500, never a pass) when a guard runs without authenticate', async () => {
    const res = await app.request('/unguarded', { headers: auth });
    expect(res.status).toBe(500);
  });
});
