// RFC 9470 step-up through every framework adapter on a real server, with user tokens signed by the dev
// issuer's own keys (acr and auth_time are what a browser login at a real issuer would carry).
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import { bearer, FRAMEWORKS, STEP_UP, send, type TestServer } from './http-servers';

let dev: DevIssuer;
const planes: IdentityPlane[] = [];

beforeAll(async () => {
  dev = await startDevIssuer();
});

afterAll(async () => {
  for (const plane of planes) await plane.close();
  await dev?.stop();
});

async function userToken(extra: Record<string, unknown>): Promise<string> {
  const jwk = dev.signingKeys().find((k) => k.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: dev.issuer,
    aud: dev.audience,
    sub: 'alice',
    client_id: dev.clients.cli.clientId,
    scope: 'openid read',
    org_id: 'org_acme',
    iat: now,
    exp: now + 300,
    ...extra,
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string, typ: 'at+jwt' })
    .sign(await importJWK(jwk, 'ES256'));
}

describe.each(FRAMEWORKS)('%s adapter: requireAuthentication (RFC 9470)', (_name, start) => {
  let server: TestServer;

  beforeAll(async () => {
    const plane = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: dev.audience,
      algorithms: ['ES256'],
      allowInsecureRequests: true,
    });
    planes.push(plane);
    server = await start(plane);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('passes a recent MFA authentication', async () => {
    const token = await userToken({
      acr: 'urn:authplane:mfa',
      auth_time: Math.floor(Date.now() / 1000) - 30,
    });
    const res = await send(`${server.url}/step-up`, { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.json().subject).toBe('alice');
  });

  it.each([
    ['a password-only login', { acr: 'urn:authplane:pwd', auth_time: 0 }],
    ['an MFA login 10 minutes old', { acr: 'urn:authplane:mfa', auth_time: -600 }],
    ['a token without acr or auth_time', {}],
  ])('asks %s to step up: 401 insufficient_user_authentication', async (_what, claims) => {
    const now = Math.floor(Date.now() / 1000);
    const shifted =
      'auth_time' in claims ? { ...claims, auth_time: now + (claims.auth_time as number) } : claims;
    const res = await send(`${server.url}/step-up`, { headers: bearer(await userToken(shifted)) });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({
      reason: 'authentication_insufficient',
      error: 'insufficient_user_authentication',
    });
    const challenge = res.headers['www-authenticate'];
    expect(challenge).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(challenge).toContain(`acr_values="${STEP_UP.acr.join(' ')}"`);
    expect(challenge).toContain(`max_age=${STEP_UP.maxAgeSec}`);
  });

  it('a service token (no user authentication) never passes a step-up route', async () => {
    const res = await send(`${server.url}/step-up`, {
      headers: bearer(await dev.mintServiceToken({ scope: 'read', alg: 'ES256' })),
    });
    expect(res.json().reason).toBe('authentication_insufficient');
  });
});
