// Every framework adapter (node:http, Express 5, Fastify 5, Hono 4) on a real server bound to
// 127.0.0.1, with real HTTP requests and real tokens from the dev issuer (oidc-provider): minted by
// its token endpoint, or signed with its own current keys for user and expired variants.
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TRACE_ID_HEADER, toResponse } from '../../src/core/response';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { type Authorizer, createAuthorizer, type MembershipHook } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import type { AuditEvent } from '../../src/telemetry/audit';
import { bearer, FRAMEWORKS, type RawResponse, send, type TestServer } from './http-servers';

let dev: DevIssuer;
const audit: AuditEvent[] = [];
const planes: IdentityPlane[] = [];
const memberships = new Map<string, { roles: string[] }>([
  ['alice|org_globex', { roles: ['member'] }], // alice (admin in org_acme) is a plain member of org_globex
]);
const lookups: string[] = [];

/** The directory: alice also belongs to org_globex; org_down is a directory outage. */
const isMember: MembershipHook = async (principal, orgId) => {
  lookups.push(`${principal.subject}|${orgId}`);
  if (orgId === 'org_down') throw new Error('directory unreachable');
  return memberships.get(`${principal.subject}|${orgId}`) ?? false;
};

async function planeOf(): Promise<IdentityPlane> {
  const plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    allowInsecureRequests: true,
    timeoutMs: 1000,
    audit: (event) => {
      audit.push(event);
    },
  });
  planes.push(plane);
  return plane;
}

/** A user token signed with the issuer's own current key (what a browser login would yield). */
async function userToken(
  user: { sub: string; org: string; roles: string[] },
  extra: Record<string, unknown> = {},
) {
  const jwk = dev.signingKeys().find((k) => k.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: dev.issuer,
    aud: dev.audience,
    sub: user.sub,
    client_id: dev.clients.cli.clientId,
    scope: 'openid read',
    org_id: user.org,
    roles: user.roles,
    iat: now,
    exp: now + 300,
    ...extra,
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string, typ: 'at+jwt' })
    .sign(await importJWK(jwk, 'ES256'));
}

const ALICE = { sub: 'alice', org: 'org_acme', roles: ['admin'] };
const BOB = { sub: 'bob', org: 'org_acme', roles: ['member'] };

let serviceRead: string;
let serviceAll: string;
let alice: string;
let bob: string;
let expired: string;

beforeAll(async () => {
  dev = await startDevIssuer();
  serviceRead = await dev.mintServiceToken({ scope: 'read' });
  serviceAll = await dev.mintServiceToken({ scope: 'read sync:write', alg: 'EdDSA' });
  alice = await userToken(ALICE);
  bob = await userToken(BOB);
  const past = Math.floor(Date.now() / 1000) - 600;
  expired = await userToken(ALICE, { iat: past - 300, exp: past });
});

afterAll(async () => {
  for (const plane of planes) await plane.close();
  await dev?.stop();
});

function expectFailure(res: RawResponse, status: number, reason: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  const json = res.json();
  expect(json.reason).toBe(reason);
  // The trace id is in the body and in the header, and they agree.
  expect(typeof json.trace_id).toBe('string');
  expect(res.headers[TRACE_ID_HEADER]).toBe(json.trace_id);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  return json;
}

describe.each(FRAMEWORKS)('%s adapter on a real server', (_name, start) => {
  let server: TestServer;
  let authorizer: Authorizer;

  beforeAll(async () => {
    authorizer = createAuthorizer({ isMember, cacheTtlSec: 60 });
    server = await start(await planeOf(), authorizer);
  });

  afterAll(async () => {
    await server?.close();
  });

  afterEach(async () => {
    if (!dev.online) await dev.setOnline(true);
  });

  it('serves a public route without credentials', async () => {
    const res = await send(`${server.url}/health`);
    expect(res.status).toBe(200);
  });

  it('accepts a valid token and attaches the principal', async () => {
    const res = await send(`${server.url}/items`, { headers: bearer(serviceRead) });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ subject: dev.clients.service.clientId, orgId: dev.clients.service.orgId });
  });

  it('refuses a request without credentials: 401 with a bare Bearer challenge', async () => {
    const res = await send(`${server.url}/items`);
    expectFailure(res, 401, 'credentials_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses an expired token: 401 invalid_token', async () => {
    const res = await send(`${server.url}/items`, { headers: bearer(expired) });
    expectFailure(res, 401, 'token_expired');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('refuses a missing scope: 403 with the RFC 6750 scope attribute', async () => {
    const res = await send(`${server.url}/sync`, { method: 'POST', headers: bearer(serviceRead) });
    const json = expectFailure(res, 403, 'scope_insufficient');
    expect(json.error).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(res.headers['www-authenticate']).toMatch(/scope="sync:write"/);
    const ok = await send(`${server.url}/sync`, { method: 'POST', headers: bearer(serviceAll) });
    expect(ok.status).toBe(200);
  });

  it('accepts any one of the listed scopes', async () => {
    expect((await send(`${server.url}/any`, { headers: bearer(serviceRead) })).status).toBe(200);
  });

  it('refuses cross-org access: 403 org_mismatch, from a route parameter and from a header', async () => {
    const own = await send(`${server.url}/orgs/org_acme/reports`, { headers: bearer(serviceRead) });
    expect(own.status).toBe(200);
    expect(own.json().org).toBe('org_acme');

    const before = audit.length;
    const cross = await send(`${server.url}/orgs/org_globex/reports`, { headers: bearer(serviceRead) });
    const json = expectFailure(cross, 403, 'org_mismatch');
    // A service credential is bound to its org: the membership directory is never asked.
    expect(lookups.filter((l) => l.startsWith(dev.clients.service.clientId))).toEqual([]);
    const denied = audit.slice(before).find((e) => e.type === 'authz.denied');
    expect(denied).toMatchObject({
      reason: 'org_mismatch',
      orgId: 'org_globex',
      traceId: json.trace_id,
      principal: { subject: dev.clients.service.clientId, kind: 'service', orgId: 'org_acme' },
    });

    const header = await send(`${server.url}/header-org`, {
      headers: [...bearer(serviceRead), 'X-Org-Id', 'org_globex'],
    });
    expectFailure(header, 403, 'org_mismatch');
    const twoOrgs = await send(`${server.url}/header-org`, {
      headers: [...bearer(serviceRead), 'X-Org-Id', 'org_acme', 'X-Org-Id', 'org_globex'],
    });
    expectFailure(twoOrgs, 403, 'org_mismatch');
    const noOrg = await send(`${server.url}/header-org`, { headers: bearer(serviceRead) });
    expectFailure(noOrg, 403, 'org_mismatch');
    expect((await send(`${server.url}/token-org`, { headers: bearer(serviceRead) })).status).toBe(200);
  });

  it('lets a user act on another org they belong to, with that org’s roles', async () => {
    const globex = await send(`${server.url}/orgs/org_globex/reports`, { headers: bearer(alice) });
    expect(globex.status).toBe(200);
    expect(globex.json()).toMatchObject({ subject: 'alice', org: 'org_globex' });
    // alice is admin in org_acme (her token) but only a member in org_globex (the directory).
    expect((await send(`${server.url}/orgs/org_acme/admin`, { headers: bearer(alice) })).status).toBe(200);
    const admin = await send(`${server.url}/orgs/org_globex/admin`, { headers: bearer(alice) });
    expectFailure(admin, 403, 'role_insufficient');
  });

  it('refuses a user who is not a member: 403 org_membership_missing', async () => {
    const res = await send(`${server.url}/orgs/org_globex/reports`, { headers: bearer(bob) });
    expectFailure(res, 403, 'org_membership_missing');
  });

  it('fails closed when the membership directory is down: 503 with Retry-After', async () => {
    const res = await send(`${server.url}/orgs/org_down/reports`, { headers: bearer(alice) });
    expectFailure(res, 503, 'provider_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses two Authorization headers: 400 credentials_ambiguous', async () => {
    const res = await send(`${server.url}/items`, {
      headers: [...bearer(serviceRead), ...bearer(serviceAll)],
    });
    const json = expectFailure(res, 400, 'credentials_ambiguous');
    expect(json.error).toBe('invalid_request');
  });

  it('answers 503 with Retry-After when the issuer is down, never 401', async () => {
    await dev.setOnline(false);
    const cold = await planeOf(); // discovery fails: the plane starts, requests get 503
    const outage = await start(cold, authorizer);
    try {
      const res = await send(`${outage.url}/items`, { headers: bearer(serviceRead) });
      expectFailure(res, 503, 'provider_unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['www-authenticate']).toBeUndefined();
    } finally {
      await outage.close();
    }
  });
});

describe('the Web-standard path (Next.js route handlers, fetch runtimes): plane.authenticate + toResponse', () => {
  /** A Next.js-style route handler: no adapter, a Web Request in, a Web Response out. */
  function routeHandler(plane: IdentityPlane) {
    return async function GET(request: Request): Promise<Response> {
      const result = await plane.authenticate(request);
      if (!result.ok) return toResponse(result.failure);
      return Response.json({ subject: result.principal.subject });
    };
  }

  it('accepts a real Request with a valid token and refuses the others with toResponse', async () => {
    const GET = routeHandler(await planeOf());
    const ok = await GET(
      new Request('https://app.example/api/items', { headers: { authorization: `Bearer ${serviceRead}` } }),
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ subject: dev.clients.service.clientId });

    const missing = await GET(new Request('https://app.example/api/items'));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await missing.json()) as { reason: string; trace_id: string };
    expect(body.reason).toBe('credentials_missing');
    expect(missing.headers.get(TRACE_ID_HEADER)).toBe(body.trace_id);

    const headers = new Headers();
    headers.append('authorization', `Bearer ${serviceRead}`);
    headers.append('authorization', `Bearer ${serviceAll}`);
    const twice = await GET(new Request('https://app.example/api/items', { headers }));
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { reason: string }).reason).toBe('credentials_ambiguous');

    const stale = await GET(
      new Request('https://app.example/api/items', { headers: { authorization: `Bearer ${expired}` } }),
    );
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { reason: string }).reason).toBe('token_expired');
  });

  it('continues the caller’s W3C trace: the failure carries the traceparent’s trace id', async () => {
    const GET = routeHandler(await planeOf());
    const res = await GET(
      new Request('https://app.example/api/items', {
        headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      }),
    );
    expect(res.headers.get(TRACE_ID_HEADER)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
