// The one IdentityPlane contract, run against oidc (the real dev issuer), auth0 and clerk (loopback
// fakes of their APIs, with the real vendor SDKs).
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { Auth0Fake } from '../peers/auth0-fake';
import { CLERK_FAKE_SECRET, ClerkFake } from '../peers/clerk-fake';
import { newRsaKey } from '../peers/fake-http';
import { identityPlaneContract } from './identity-plane.contract';

const ORG = 'org_contract';
const now = () => Math.floor(Date.now() / 1000);

/** A token signed by a fresh key that claims `kid`: the provider has that kid, not that key. */
async function forgedWithKid(kid: string, claims: Record<string, unknown>, typ: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ }).sign(privateKey);
}

identityPlaneContract('oidc (dev issuer)', async () => {
  const dev = await startDevIssuer({ port: 0 });
  const plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    jwksUri: dev.jwksUri,
    allowInsecureRequests: true,
    timeoutMs: 1000,
    jwks: { cooldownSec: 0 },
    resourceMetadataUrl: 'https://api.contract.test/.well-known/oauth-protected-resource/r',
  });
  const rsaKey = () => dev.signingKeys().find((k) => k.alg === 'RS256') as JWK;
  const sign = async (claims: Record<string, unknown>, jwk: JWK = rsaKey()) =>
    new SignJWT({
      iss: dev.issuer,
      aud: dev.audience,
      sub: 'user_contract',
      org_id: ORG,
      scope: 'read',
      roles: ['admin'],
      sid: 'sess_contract',
      iat: now(),
      exp: now() + 300,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string, typ: 'at+jwt' })
      .sign(await importJWK(jwk, 'RS256'));
  return {
    provider: 'oidc',
    plane,
    orgId: ORG,
    authorizationServers: [dev.issuer],
    mint: {
      valid: ({ scopes = ['read'], roles = ['admin'] } = {}) => sign({ scope: scopes.join(' '), roles }),
      expired: () => sign({ iat: now() - 900, exp: now() - 600 }),
      forged: () =>
        forgedWithKid(
          rsaKey().kid as string,
          { iss: dev.issuer, aud: dev.audience, sub: 'x', exp: now() + 60 },
          'at+jwt',
        ),
      wrongAudience: () => sign({ aud: 'https://other.test' }),
      otherOrg: () => sign({ org_id: 'org_other' }),
    },
    outage: {
      unseenKey: async () => {
        await dev.rotateKeys();
        return sign({});
      },
      down: () => dev.setOnline(false),
      up: () => dev.setOnline(true),
    },
    close: async () => {
      await plane.close();
      await dev.stop();
    },
  };
});

identityPlaneContract('auth0 (loopback fake, auth0 SDK)', async () => {
  const fake = await Auth0Fake.start();
  const plane = await createIdentityPlane({
    provider: 'auth0',
    domain: fake.domain,
    audience: fake.audience,
    rolesClaim: 'https://acme.test/roles',
    fetch: fake.fetch,
    timeoutMs: 1000,
    jwks: { cooldownSec: 0 },
    flags: { auth0: true },
  });
  const user = (claims: Record<string, unknown> = {}) =>
    fake.accessToken({ org_id: ORG, scope: 'read', 'https://acme.test/roles': ['admin'], ...claims });
  return {
    provider: 'auth0',
    plane,
    orgId: ORG,
    authorizationServers: [`https://${fake.domain}/`],
    mint: {
      // Auth0 RBAC: API permissions arrive in `permissions`; both it and `scope` become scopes.
      valid: ({ scopes = ['read'], roles = ['admin'] } = {}) =>
        user({ scope: 'openid', permissions: scopes, 'https://acme.test/roles': roles }),
      expired: () => user({ iat: now() - 900, exp: now() - 600 }),
      forged: () =>
        forgedWithKid(
          fake.signingKey.kid,
          { iss: fake.issuer, aud: fake.audience, sub: 'x', exp: now() + 60 },
          'JWT',
        ),
      wrongAudience: () => user({ aud: 'https://other.test' }),
      otherOrg: () => user({ org_id: 'org_other' }),
    },
    outage: {
      unseenKey: async () => fake.accessToken({ org_id: ORG }, {}, await fake.rotate()),
      down: async () => fake.server.down(),
      up: async () => fake.server.up(),
    },
    close: async () => {
      await plane.close();
      await fake.close();
    },
  };
});

identityPlaneContract('clerk (loopback fake, @clerk/backend)', async () => {
  const fake = await ClerkFake.start();
  const plane = await createIdentityPlane({
    provider: 'clerk',
    secretKey: CLERK_FAKE_SECRET,
    apiUrl: fake.apiUrl,
    allowInsecureRequests: true,
    authorizedParties: ['https://app.acme.test'],
    timeoutMs: 1000,
    jwks: { cooldownSec: 0 },
    flags: { clerk: true },
  });
  // Clerk has one role per org session and permissions of the form org:<feature>:<permission>.
  const valid = (
    scopes: readonly string[] = ['org:reports:read'],
    roles: readonly string[] = ['org:admin'],
  ) => fake.sessionToken({ orgId: ORG, role: roles[0] ?? 'org:member', permissions: [...scopes] });
  return {
    provider: 'clerk',
    plane,
    orgId: ORG,
    authorizationServers: [], // no publishable key: the Frontend API is unknown
    names: { read: 'org:reports:read', write: 'org:reports:write', role: 'org:admin' },
    mint: {
      valid: ({ scopes, roles } = {}) => valid(scopes, roles),
      expired: () => fake.sessionToken({ orgId: ORG, iat: now() - 900, nbf: now() - 900, exp: now() - 600 }),
      forged: async () => {
        const impostor = await newRsaKey(fake.signingKey.kid);
        return fake.sessionToken({ orgId: ORG, key: impostor });
      },
      // Clerk session tokens carry no `aud`: the relying party is the authorized party (`azp`).
      wrongAudience: () => fake.sessionToken({ orgId: ORG, azp: 'https://evil.test' }),
      otherOrg: () => fake.sessionToken({ orgId: 'org_other' }),
    },
    outage: {
      unseenKey: async () => fake.sessionToken({ orgId: ORG, key: await fake.rotate() }),
      down: async () => fake.server.down(),
      up: async () => fake.server.up(),
    },
    close: async () => {
      await plane.close();
      await fake.close();
    },
  };
});
