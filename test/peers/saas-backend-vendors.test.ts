// examples/saas-backend switches provider by environment variables alone: auth0 and clerk against
// their loopback fakes. The only code-side option is the network seam (`fetch`) that sends the auth0
// SDK's and the JWKS's https://<tenant> requests to the fake; Clerk's apiUrl is an env variable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSaasBackend } from '../../examples/saas-backend/server';
import { loadConfig } from '../../src/config/env';
import { Auth0Fake } from './auth0-fake';
import { CLERK_FAKE_SECRET, ClerkFake } from './clerk-fake';

let auth0: Auth0Fake;
let clerk: ClerkFake;
beforeAll(async () => {
  auth0 = await Auth0Fake.start();
  clerk = await ClerkFake.start();
  clerk.apiKeys.set('ak_ci', { id: 'ak_1', subject: 'org_acme', scopes: ['read'] });
});
afterAll(async () => {
  await auth0.close();
  await clerk.close();
});

describe('examples/saas-backend with vendor providers', () => {
  it('AUTHPLANE_PROVIDER=auth0: 200 with an Auth0 token, 403 for another org, 401 without', async () => {
    const env = {
      AUTHPLANE_PROVIDER: 'auth0',
      AUTHPLANE_FLAGS: 'auth0',
      AUTHPLANE_AUTH0_DOMAIN: auth0.domain,
      AUTHPLANE_AUTH0_AUDIENCE: auth0.audience,
      AUTHPLANE_AUTH0_ROLES_CLAIM: 'https://acme.test/roles',
    };
    const api = await startSaasBackend({ env, overrides: { fetch: auth0.fetch } });
    try {
      expect(api.provider).toBe('auth0');
      const token = await auth0.accessToken({ org_id: 'org_acme', permissions: ['read'] });
      const ok = await fetch(`${api.url}/items`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ for: 'auth0|user-1' });
      const org = await fetch(`${api.url}/orgs/org_other/reports`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(org.status).toBe(403);
      expect((await fetch(`${api.url}/items`)).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  it('AUTHPLANE_PROVIDER=clerk: 200 with a session token and with an API key', async () => {
    const env = {
      AUTHPLANE_PROVIDER: 'clerk',
      AUTHPLANE_FLAGS: 'clerk',
      AUTHPLANE_CLERK_SECRET_KEY: CLERK_FAKE_SECRET,
      AUTHPLANE_CLERK_API_URL: clerk.apiUrl,
      AUTHPLANE_CLERK_AUTHORIZED_PARTIES: 'https://app.acme.test',
      AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'true',
    };
    const api = await startSaasBackend({ env });
    try {
      const session = await clerk.sessionToken({ orgId: 'org_acme', permissions: ['org:reports:read'] });
      const read = await fetch(`${api.url}/orgs/org_acme/reports`, {
        headers: { authorization: `Bearer ${session}` },
      });
      // The route needs scope `read`; a Clerk session carries org permissions instead.
      expect(read.status).toBe(403);
      const key = await fetch(`${api.url}/items`, { headers: { authorization: 'Bearer ak_ci' } });
      expect(key.status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('loadConfig: the auth0 and clerk variables, and errors naming the variable', () => {
    expect(
      loadConfig({
        AUTHPLANE_PROVIDER: 'auth0',
        AUTHPLANE_AUTH0_DOMAIN: 'acme.eu.auth0.com',
        AUTHPLANE_AUTH0_CUSTOM_DOMAINS: 'login.acme.test, id.acme.test',
        AUTHPLANE_AUTH0_AUDIENCE: 'https://api.acme.test',
        AUTHPLANE_AUTH0_CLIENT_ID: 'cid',
        AUTHPLANE_AUTH0_CLIENT_SECRET: 'csecret',
        AUTHPLANE_AUTH0_ROLES_CLAIM: 'https://acme.test/roles',
        AUTHPLANE_TOKEN_TYPE: 'none',
      }),
    ).toEqual({
      provider: 'auth0',
      domain: 'acme.eu.auth0.com',
      customDomains: ['login.acme.test', 'id.acme.test'],
      audience: 'https://api.acme.test',
      clientId: 'cid',
      clientSecret: 'csecret',
      rolesClaim: 'https://acme.test/roles',
      tokenType: null,
    });
    expect(() =>
      loadConfig({ AUTHPLANE_PROVIDER: 'auth0', AUTHPLANE_AUTH0_DOMAIN: 'acme.eu.auth0.com' }),
    ).toThrow(/AUTHPLANE_AUTH0_AUDIENCE/);
    expect(() =>
      loadConfig({
        AUTHPLANE_PROVIDER: 'auth0',
        AUTHPLANE_AUTH0_DOMAIN: 'https://acme',
        AUTHPLANE_AUTH0_AUDIENCE: 'a',
      }),
    ).toThrow(/AUTHPLANE_AUTH0_DOMAIN/);
    expect(
      loadConfig({
        AUTHPLANE_PROVIDER: 'clerk',
        AUTHPLANE_CLERK_SECRET_KEY: 'sk_live_abc',
        AUTHPLANE_CLERK_PUBLISHABLE_KEY: 'pk_live_abc',
        AUTHPLANE_CLERK_JWT_KEY: '-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----',
        AUTHPLANE_CLERK_API_URL: 'https://api.clerk.com',
        AUTHPLANE_CLERK_AUTHORIZED_PARTIES: 'none',
      }),
    ).toMatchObject({
      provider: 'clerk',
      authorizedParties: null,
      jwtKey: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----',
    });
    expect(() =>
      loadConfig({ AUTHPLANE_PROVIDER: 'clerk', AUTHPLANE_CLERK_SECRET_KEY: 'sk_live_abc' }),
    ).toThrow(/AUTHPLANE_CLERK_AUTHORIZED_PARTIES/);
    expect(() =>
      loadConfig({
        AUTHPLANE_PROVIDER: 'clerk',
        AUTHPLANE_CLERK_SECRET_KEY: 'oops',
        AUTHPLANE_CLERK_AUTHORIZED_PARTIES: 'none',
      }),
    ).toThrow(/AUTHPLANE_CLERK_SECRET_KEY/);
  });
});
