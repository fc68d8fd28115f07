// The Express variant of examples/saas-backend, configured only from the dev issuer's environment.
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSaasBackendExpress } from '../../examples/saas-backend/express';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import type { AuditEvent } from '../../src/telemetry/audit';

let dev: DevIssuer;
let api: Awaited<ReturnType<typeof startSaasBackendExpress>>;
const events: AuditEvent[] = [];

beforeAll(async () => {
  dev = await startDevIssuer();
  api = await startSaasBackendExpress({ env: dev.env(), audit: (e) => void events.push(e) });
});

afterAll(async () => {
  await api?.close();
  await dev?.stop();
});

const get = (path: string, token?: string, method = 'GET') =>
  fetch(`${api.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('examples/saas-backend/express.ts', () => {
  it('protects the same routes as the node:http variant', async () => {
    const read = await dev.mintServiceToken({ scope: 'read' });
    const write = await dev.mintServiceToken({ scope: 'read sync:write' });
    expect((await get('/health')).status).toBe(200);
    expect((await get('/items')).status).toBe(401);
    expect(await (await get('/items', read)).json()).toEqual({
      items: ['a', 'b'],
      for: dev.clients.service.clientId,
    });
    const denied = await get('/sync', read, 'POST');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('scope="sync:write"');
    expect((await get('/orgs/org_acme/reports', read)).status).toBe(200);
    const cross = await get('/orgs/org_globex/reports', read);
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { reason: string }).reason).toBe('org_mismatch');

    const started = await get('/sync', write, 'POST');
    expect(started.status).toBe(200);
    const privileged = events.find((e) => e.type === 'privileged');
    const succeeded = events.filter((e) => e.type === 'auth.succeeded').at(-1);
    expect(privileged).toMatchObject({
      action: 'sync.start',
      principal: { subject: dev.clients.service.clientId },
    });
    expect(privileged?.traceId).toBe(succeeded?.traceId);
  });

  it('lets a user in several orgs reach the other org through the directory', async () => {
    const jwk = dev.signingKeys().find((k) => k.alg === 'RS256') as JWK;
    const now = Math.floor(Date.now() / 1000);
    const alice = await new SignJWT({
      iss: dev.issuer,
      aud: dev.audience,
      sub: 'alice',
      client_id: 'authplane-cli',
      scope: 'read',
      org_id: 'org_acme',
      roles: ['admin'],
      iat: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'at+jwt' })
      .sign(await importJWK(jwk, 'RS256'));
    expect((await get('/orgs/org_globex/reports', alice)).status).toBe(200);
    const elsewhere = await get('/orgs/org_initech/reports', alice);
    expect(((await elsewhere.json()) as { reason: string }).reason).toBe('org_membership_missing');
  });
});
