import type { DevIssuer, DevSigningAlgorithm } from 'authplane/dev';
import { startDevIssuer } from 'authplane/dev';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
} from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveDeviceCode, CookieJar, completeBrowserLogin } from './user-agent';

let dev: DevIssuer;
let service: oidc.Configuration;
let cli: oidc.Configuration;

const insecure = { execute: [oidc.allowInsecureRequests] };

beforeAll(async () => {
  dev = await startDevIssuer();
  const { clientId, clientSecret } = dev.clients.service;
  service = await oidc.discovery(
    new URL(dev.issuer),
    clientId,
    clientSecret,
    oidc.ClientSecretBasic(clientSecret),
    insecure,
  );
  cli = await oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), insecure);
});

afterAll(async () => {
  await dev?.stop();
});

async function fetchJwks(): Promise<JSONWebKeySet> {
  return (await (await fetch(dev.jwksUri)).json()) as JSONWebKeySet;
}

async function verify(token: string, algorithms?: string[]) {
  // A fresh local set per call: createRemoteJWKSet's 30 s cooldown would hide a rotation.
  const jwks = createLocalJWKSet(await fetchJwks());
  return jwtVerify(token, jwks, { issuer: dev.issuer, audience: dev.audience, typ: 'at+jwt', algorithms });
}

function redirectUri(port = 53682): string {
  return dev.clients.cli.redirectUri.replace('127.0.0.1', `127.0.0.1:${port}`);
}

async function browserLogin(login: string, scope = 'openid offline_access read sync:write') {
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedState = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(cli, {
    redirect_uri: redirectUri(),
    scope,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    login_hint: login,
  });
  const callback = await completeBrowserLogin(url.href);
  return oidc.authorizationCodeGrant(cli, new URL(callback), { pkceCodeVerifier, expectedState });
}

async function oauthError(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  // A 401 with WWW-Authenticate (bad client credentials) carries its error code in the challenge.
  if (err instanceof oidc.WWWAuthenticateChallengeError) return err.cause[0]?.parameters.error;
  expect(err).toBeInstanceOf(oidc.ResponseBodyError);
  return (err as oidc.ResponseBodyError).error;
}

describe('dev issuer: client_credentials', () => {
  it.each(['RS256', 'ES256', 'EdDSA'] as const)(
    'issues an RFC 9068 JWT signed with %s',
    async (alg: DevSigningAlgorithm) => {
      const token = await dev.mintServiceToken({ alg, scope: 'read sync:write' });
      const { payload, protectedHeader } = await verify(token, [alg]);
      expect(protectedHeader).toMatchObject({ alg, typ: 'at+jwt' });
      expect(protectedHeader.kid).toBe(dev.signingKeys().find((k) => k.alg === alg)?.kid);
      expect(payload).toMatchObject({
        iss: dev.issuer,
        aud: dev.audience,
        scope: 'read sync:write',
        org_id: dev.clients.service.orgId,
        roles: ['service'],
        client_id: dev.clients.service.variants[alg],
        sub: dev.clients.service.variants[alg],
      });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
    },
  );

  it('works through openid-client with the resource indicator', async () => {
    const tokens = await oidc.clientCredentialsGrant(service, {
      scope: 'read write admin',
      resource: dev.audience,
    });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const { payload } = await verify(tokens.access_token, ['RS256']);
    expect(payload.scope).toBe('read write admin');
  });

  it('targets the API even without a resource parameter', async () => {
    const tokens = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    expect(decodeJwt(tokens.access_token).aud).toBe(dev.audience);
  });

  it('refuses an unknown resource with invalid_target and a wrong secret with invalid_client', async () => {
    expect(
      await oauthError(oidc.clientCredentialsGrant(service, { resource: 'https://other.example' })),
    ).toBe('invalid_target');
    const wrong = await oidc.discovery(
      new URL(dev.issuer),
      dev.clients.service.clientId,
      'not-the-secret',
      oidc.ClientSecretBasic('not-the-secret'),
      insecure,
    );
    expect(await oauthError(oidc.clientCredentialsGrant(wrong, { resource: dev.audience }))).toBe(
      'invalid_client',
    );
  });

  it('exposes the private signing keys so tests can sign variants that the JWKS verifies', async () => {
    const keys = dev.signingKeys();
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    const es = keys.find((k) => k.alg === 'ES256');
    if (!es?.kid) throw new Error('no ES256 key');
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ scope: 'read' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: es.kid })
      .setIssuer(dev.issuer)
      .setAudience(dev.audience)
      .setSubject('alice')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(await importJWK(es, 'ES256'));
    await expect(verify(expired)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });
});

describe('dev issuer: auth code + PKCE for the CLI client', () => {
  it('logs a chosen user in headlessly and issues JWT access, ID and refresh tokens', async () => {
    const tokens = await browserLogin('bob');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.claims()?.sub).toBe('bob');
    const { payload } = await verify(tokens.access_token);
    expect(payload).toMatchObject({
      sub: 'bob',
      aud: dev.audience,
      org_id: 'org_acme',
      roles: ['member'],
      client_id: dev.clients.cli.clientId,
    });
    expect(String(payload.scope).split(' ').sort()).toEqual(['read', 'sync:write']);
  });

  it('rotates refresh tokens; reusing an old one revokes the whole grant', async () => {
    const first = await browserLogin('alice');
    const rt1 = first.refresh_token as string;
    const second = await oidc.refreshTokenGrant(cli, rt1);
    const rt2 = second.refresh_token as string;
    expect(rt2).toEqual(expect.any(String));
    expect(rt2).not.toBe(rt1);
    expect((await verify(second.access_token)).payload).toMatchObject({ sub: 'alice', roles: ['admin'] });

    expect(await oauthError(oidc.refreshTokenGrant(cli, rt1))).toBe('invalid_grant');
    expect(await oauthError(oidc.refreshTokenGrant(cli, rt2))).toBe('invalid_grant');
  });

  it('keeps the issuer session across logins when the same jar is reused', async () => {
    const jar = new CookieJar();
    const verifier = oidc.randomPKCECodeVerifier();
    const authorize = async () =>
      oidc.buildAuthorizationUrl(cli, {
        redirect_uri: redirectUri(40000),
        scope: 'openid read',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        login_hint: 'carol',
      });
    const first = new URL(await completeBrowserLogin((await authorize()).href, { jar }));
    const second = new URL(await completeBrowserLogin((await authorize()).href, { jar }));
    expect(first.searchParams.get('code')).toBeTruthy();
    expect(second.searchParams.get('code')).toBeTruthy();
    expect(second.port).toBe('40000');
  });

  it('ends with access_denied for a user that does not exist', async () => {
    const url = oidc.buildAuthorizationUrl(cli, {
      redirect_uri: redirectUri(),
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const callback = new URL(await completeBrowserLogin(url.href, { login: 'mallory' }));
    expect(callback.searchParams.get('error')).toBe('access_denied');
  });
});

describe('dev issuer: device flow', () => {
  it('completes end to end with a short polling interval', async () => {
    const da = await oidc.initiateDeviceAuthorization(cli, { scope: 'openid offline_access read write' });
    expect(da.interval).toBe(1);
    expect(da.verification_uri_complete).toEqual(expect.any(String));
    const polling = oidc.pollDeviceAuthorizationGrant(cli, da);
    await approveDeviceCode(da.verification_uri_complete as string, { login: 'carol' });
    const tokens = await polling;
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const { payload } = await verify(tokens.access_token);
    expect(payload).toMatchObject({ sub: 'carol', org_id: 'org_globex', roles: ['admin'] });
    expect(String(payload.scope).split(' ').sort()).toEqual(['read', 'write']);
  });

  it('refuses a code that was already used', async () => {
    const da = await oidc.initiateDeviceAuthorization(cli, { scope: 'openid read' });
    const polling = oidc.pollDeviceAuthorizationGrant(cli, da);
    await approveDeviceCode(da.verification_uri_complete as string);
    await polling;
    await expect(approveDeviceCode(da.verification_uri_complete as string)).rejects.toThrow(
      /device approval failed/,
    );
  });
});

describe('dev issuer: introspection and revocation', () => {
  it('introspects an opaque access token, then reports it inactive once revoked', async () => {
    const opaque = await dev.mintOpaqueToken({ scope: 'read write' });
    expect(opaque.split('.')).toHaveLength(1);
    const active = await oidc.tokenIntrospection(service, opaque);
    expect(active).toMatchObject({
      active: true,
      scope: 'read write',
      aud: dev.audience,
      iss: dev.issuer,
      org_id: dev.clients.service.orgId,
      client_id: dev.clients.service.variants.opaque,
    });
    await oidc.tokenRevocation(service, opaque);
    expect((await oidc.tokenIntrospection(service, opaque)).active).toBe(false);
  });

  it('introspects a refresh token, which the CLI client can revoke', async () => {
    const tokens = await browserLogin('bob');
    const rt = tokens.refresh_token as string;
    const active = await oidc.tokenIntrospection(service, rt);
    expect(active).toMatchObject({
      active: true,
      sub: 'bob',
      client_id: dev.clients.cli.clientId,
      iss: dev.issuer,
    });
    expect(String(active.scope).split(' ')).toContain('offline_access');
    await oidc.tokenRevocation(cli, rt);
    expect((await oidc.tokenIntrospection(service, rt)).active).toBe(false);
    expect(await oauthError(oidc.refreshTokenGrant(cli, rt))).toBe('invalid_grant');
  });

  it('cannot introspect a JWT access token', async () => {
    const jwt = await dev.mintServiceToken();
    expect(await oauthError(oidc.tokenIntrospection(service, jwt))).toBe('unsupported_token_type');
  });
});

describe('dev issuer: key rotation, outage and counters', () => {
  it('rotates keys: the new kid signs, the old one stays published until retired', async () => {
    const before = await dev.mintServiceToken({ alg: 'ES256' });
    const oldKid = decodeProtectedHeader(before).kid;
    const session = await browserLogin('alice');

    await dev.rotateKeys();
    const after = await dev.mintServiceToken({ alg: 'ES256' });
    const newKid = decodeProtectedHeader(after).kid;
    expect(newKid).not.toBe(oldKid);
    expect(dev.signingKeys().map((k) => k.kid)).toContain(newKid);
    const published = (await fetchJwks()).keys.map((k) => k.kid);
    expect(published).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(published).toHaveLength(6);
    await expect(verify(before)).resolves.toBeDefined();
    await expect(verify(after)).resolves.toBeDefined();

    // Grants live in storage shared by the old and the new Provider: the session survives rotation.
    const refreshed = await oidc.refreshTokenGrant(cli, session.refresh_token as string);
    expect(decodeProtectedHeader(refreshed.access_token).kid).toBe(
      dev.signingKeys().find((k) => k.alg === 'RS256')?.kid,
    );

    await dev.retireOldKeys();
    expect((await fetchJwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
    await expect(verify(before)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(verify(after)).resolves.toBeDefined();
  });

  it('goes offline (connection refused) and back online on the same port', async () => {
    const { issuer, port } = dev;
    await (await fetch(`${issuer}/.well-known/openid-configuration`)).text(); // leaves a keep-alive socket open
    await dev.setOnline(false);
    expect(dev.online).toBe(false);
    const err = await fetch(`${issuer}/.well-known/openid-configuration`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { cause?: { code?: string } })?.cause?.code).toBe('ECONNREFUSED');

    await dev.setOnline(true);
    expect(dev.port).toBe(port);
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(issuer);
    await expect(verify(await dev.mintServiceToken())).resolves.toBeDefined();
  });

  it('counts JWKS GETs and token requests', async () => {
    const { jwksRequests, tokenRequests } = dev.stats;
    await fetchJwks();
    const remote = createRemoteJWKSet(new URL(dev.jwksUri));
    const token = await dev.mintServiceToken();
    await jwtVerify(token, remote, { issuer: dev.issuer, audience: dev.audience });
    await jwtVerify(token, remote, { issuer: dev.issuer, audience: dev.audience }); // cached: no fetch
    expect(dev.stats.jwksRequests).toBe(jwksRequests + 2);
    expect(dev.stats.tokenRequests).toBe(tokenRequests + 1);
  });

  it('describes itself as backend environment variables', () => {
    expect(dev.env()).toMatchObject({
      AUTHPLANE_PROVIDER: 'oidc',
      AUTHPLANE_ISSUER: dev.issuer,
      AUTHPLANE_AUDIENCE: dev.audience,
      AUTHPLANE_JWKS_URI: dev.jwksUri,
    });
  });
});

describe('dev issuer: options', () => {
  it('refuses a non-loopback host and bad numbers', async () => {
    await expect(startDevIssuer({ host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'host',
    });
    await expect(startDevIssuer({ accessTokenTtlSec: 0 })).rejects.toMatchObject({
      path: 'accessTokenTtlSec',
    });
  });

  it('honours audience, users and token lifetime, and stops idempotently', async () => {
    const other = await startDevIssuer({
      audience: 'https://api.example.test',
      accessTokenTtlSec: 60,
      users: [{ id: 'dave', email: 'dave@initech.test', name: 'Dave', orgId: null, roles: ['member'] }],
    });
    try {
      const token = await other.mintServiceToken();
      const payload = decodeJwt(token);
      expect(payload.aud).toBe('https://api.example.test');
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
      expect(other.users.map((u) => u.id)).toEqual(['dave']);
      expect(other.issuer).not.toBe(dev.issuer);
    } finally {
      await other.stop();
      await other.stop();
    }
    expect(other.online).toBe(false);
    await expect(fetch(other.jwksUri)).rejects.toThrow();
  });
});
