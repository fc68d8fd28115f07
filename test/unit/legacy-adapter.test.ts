// The legacy adapter against real tokens: jose-signed SimpleJWT-style access/refresh tokens (HS256 with a
// shared secret, RS256 with a PEM or a JWK), hand-crafted attack tokens, through createIdentityPlane.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createLegacyAdapter, legacyApiKeyPrincipal } from '../../providers/legacy/index';
import { loadConfig } from '../../src/config/env';
import { ConfigError } from '../../src/core/errors';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';

const SECRET = 'legacy-django-signing-key-0123456789-abcdef';
const secretBytes = new TextEncoder().encode(SECRET);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const now = () => Math.floor(Date.now() / 1000);
let seq = 0;

/** What djangorestframework-simplejwt puts in an access token, plus the org/scope claims of our app. */
function simpleJwtClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    token_type: 'access',
    exp: now() + 300,
    iat: now(),
    jti: `jti-${++seq}-${Date.now()}`,
    user_id: 42,
    org_id: 'org_acme',
    scope: 'read sync:write',
    roles: ['admin'],
    ...extra,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

function hs256(extra: Record<string, unknown> = {}, key: Uint8Array = secretBytes, alg = 'HS256') {
  return new SignJWT(simpleJwtClaims(extra)).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

function rs256(
  extra: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: KeyObject = rsa.privateKey,
) {
  return new SignJWT(simpleJwtClaims(extra))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header })
    .sign(key);
}

const b64 = (v: string) => Buffer.from(v).toString('base64url');
function craftHmac(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  secret: string | Buffer,
) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const planes: IdentityPlane[] = [];
async function plane(config: Record<string, unknown>): Promise<IdentityPlane> {
  const p = await createIdentityPlane({ provider: 'legacy', ...config } as never);
  planes.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(planes.splice(0).map((p) => p.close()));
});

async function reason(p: IdentityPlane, token: string): Promise<string> {
  const result = await p.verify(token);
  if (result.ok) return 'ok';
  // Never the credential in a message or challenge.
  expect(result.failure.message).not.toContain(token.slice(0, 20));
  expect(result.failure.challenge ?? '').not.toContain(token.slice(0, 20));
  expect(result.failure.provider).toBe('legacy');
  return result.failure.reason;
}

describe('legacy adapter: HS256 shared secret', () => {
  it('maps a SimpleJWT access token to a legacy principal', async () => {
    const p = await plane({ secret: SECRET });
    const result = await p.verify(await hs256());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.principal).toMatchObject({
      subject: '42',
      providerSubject: '42',
      provider: 'legacy',
      kind: 'user',
      orgId: 'org_acme',
      roles: ['admin'],
      scopes: ['read', 'sync:write'],
      sessionId: null,
      authMethod: 'jwt',
    });
    expect(result.principal.expiresAt).toBeInstanceOf(Date);
    expect(Object.isFrozen(result.principal)).toBe(true);
    expect(p.provider).toBe('legacy');
  });

  it('refuses a refresh token presented as access (token_type_mismatch), unless the check is off', async () => {
    const refresh = await hs256({ token_type: 'refresh' });
    expect(await reason(await plane({ secret: SECRET }), refresh)).toBe('token_type_mismatch');
    expect(await reason(await plane({ secret: SECRET }), await hs256({ token_type: undefined }))).toBe(
      'token_type_mismatch',
    );
    expect(await reason(await plane({ secret: SECRET, tokenType: null }), refresh)).toBe('ok');
  });

  it('refuses expired, forged, not-yet-valid and malformed tokens with their reasons', async () => {
    const p = await plane({ secret: SECRET });
    expect(await reason(p, await hs256({ exp: now() - 60 }))).toBe('token_expired');
    expect(await reason(p, await hs256({ nbf: now() + 600 }))).toBe('token_not_yet_valid');
    expect(await reason(p, await hs256({}, new TextEncoder().encode(`${SECRET}-other`)))).toBe(
      'signature_invalid',
    );
    expect(await reason(p, await hs256({ exp: undefined }))).toBe('claims_invalid');
    expect(await reason(p, 'not-a-jwt')).toBe('credentials_malformed');
    const good = await hs256();
    expect(await reason(p, `${good}=`)).toBe('credentials_malformed');
  });

  it('pins the algorithm: RS256, HS384 and alg none are algorithm_not_allowed; key-bearing headers are refused', async () => {
    const p = await plane({ secret: SECRET });
    expect(await reason(p, await rs256())).toBe('algorithm_not_allowed');
    expect(await reason(p, await hs256({}, secretBytes, 'HS384'))).toBe('algorithm_not_allowed');
    const none = `${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify(simpleJwtClaims()))}.`;
    expect(await reason(p, none)).toBe('algorithm_not_allowed');
    const jwk = craftHmac({ alg: 'HS256', jwk: { kty: 'oct', k: b64(SECRET) } }, simpleJwtClaims(), SECRET);
    expect(await reason(p, jwk)).toBe('header_rejected');
    const jku = craftHmac({ alg: 'HS256', jku: 'https://evil.test/jwks' }, simpleJwtClaims(), SECRET);
    expect(await reason(p, jku)).toBe('header_rejected');
  });

  it('honours jti revocation through the plane, and requires a jti by default', async () => {
    const p = await plane({ secret: SECRET });
    const token = await hs256();
    const first = await p.verify(token);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    await p.revoke({ jti: first.principal.claims.jti as string });
    expect(await reason(p, token)).toBe('token_revoked');
    expect(await reason(p, await hs256())).toBe('ok'); // another jti
    expect(await reason(p, await hs256({ jti: undefined }))).toBe('claims_invalid');
    expect(
      await reason(await plane({ secret: SECRET, requireJti: false }), await hs256({ jti: undefined })),
    ).toBe('ok');
  });

  it('enforces issuer and audience only when configured', async () => {
    const bare = await hs256();
    const p = await plane({ secret: SECRET, issuer: 'legacy-api', audience: ['web', 'cli'] });
    expect(await reason(p, bare)).toBe('claims_invalid'); // no iss at all while one is required
    expect(await reason(p, await hs256({ iss: 'legacy-api', aud: 'cli' }))).toBe('ok');
    expect(await reason(p, await hs256({ iss: 'other', aud: 'cli' }))).toBe('issuer_mismatch');
    expect(await reason(p, await hs256({ iss: 'legacy-api', aud: 'mobile' }))).toBe('audience_mismatch');
    expect(await reason(await plane({ secret: SECRET }), await hs256({ iss: 'anything', aud: 'x' }))).toBe(
      'ok',
    );
  });

  it('reads configurable claim names: the user id in sub, org, scopes, roles, and a service kind', async () => {
    const p = await plane({
      secret: SECRET,
      claims: {
        subject: 'sub',
        org: 'tenant',
        scopes: ['permissions', 'scope'],
        roles: 'groups',
        kind: 'typ_kind',
      },
    });
    const result = await p.verify(
      await hs256({
        sub: 'svc-7',
        user_id: undefined,
        tenant: 'org_t',
        permissions: ['deploy'],
        groups: 'ops',
        typ_kind: 'service',
      }),
    );
    expect(result.ok && result.principal).toMatchObject({
      subject: 'svc-7',
      kind: 'service',
      orgId: 'org_t',
      roles: ['ops'],
      scopes: ['deploy', 'read', 'sync:write'],
    });
    expect(await reason(p, await hs256({ sub: undefined }))).toBe('claims_invalid'); // no user id
    expect(await reason(p, await hs256({ sub: 's', groups: 7 }))).toBe('claims_invalid');
  });
});

describe('legacy adapter: RS256 public key', () => {
  it('verifies with a PEM (header kid ignored: one key) and with a JWK (kid matched)', async () => {
    const pem = await plane({ publicKey: publicPem });
    expect(await reason(pem, await rs256())).toBe('ok');
    expect(await reason(pem, await rs256({}, { kid: 'whatever' }))).toBe('ok');

    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'legacy-1' };
    const byJwk = await plane({ publicKey: jwk });
    expect(await reason(byJwk, await rs256({}, { kid: 'legacy-1' }))).toBe('ok');
    expect(await reason(byJwk, await rs256({}, { kid: 'other' }))).toBe('key_unknown');
  });

  it('refuses HS256 signed with the public key as secret (alg confusion) and tokens of another key', async () => {
    const p = await plane({ publicKey: publicPem });
    expect(await reason(p, craftHmac({ alg: 'HS256', typ: 'JWT' }, simpleJwtClaims(), publicPem))).toBe(
      'algorithm_not_allowed',
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(await reason(p, await rs256({}, {}, other.privateKey))).toBe('signature_invalid');
    expect(await reason(p, await rs256({ token_type: 'refresh' }))).toBe('token_type_mismatch');
  });
});

describe('legacy adapter: configuration', () => {
  const configError = async (config: Record<string, unknown>): Promise<ConfigError> => {
    const err = await createIdentityPlane({ provider: 'legacy', ...config } as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  };

  it('refuses a secret shorter than 32 bytes without echoing it', async () => {
    const err = await configError({ secret: 'short-secret-31-bytes-long-xxxx' });
    expect(err.path).toBe('secret');
    expect(err.message).toContain('32 bytes');
    expect(err.message).not.toContain('short-secret');
    expect(() => createLegacyAdapter({ provider: 'legacy', secret: 'x'.repeat(31) })).toThrow(ConfigError);
  });

  it('needs a secret or a publicKey, algorithms that fit them, and a usable key', async () => {
    expect((await configError({})).path).toBe('secret');
    // Both at once is a rotation from HS256 to RS256 (each key stays pinned to its type; see legacy-django tests).
    expect((await configError({ secret: SECRET, publicKey: publicPem, algorithms: ['RS256'] })).path).toBe(
      'algorithms',
    );
    expect((await configError({ secret: SECRET, algorithms: ['RS256'] })).path).toBe('algorithms');
    expect((await configError({ publicKey: publicPem, algorithms: ['HS256'] })).path).toBe('algorithms');
    expect((await configError({ publicKey: 'not a pem' })).path).toBe('publicKey');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect((await configError({ publicKey: weak.toString() })).path).toBe('publicKey');
    expect((await configError({ secret: SECRET, bogus: 1 })).path).toBe('bogus');
  });

  it('loads from the environment: AUTHPLANE_LEGACY_SECRET, _PUBLIC_KEY (escaped newlines) and claim names', async () => {
    const fromEnv = loadConfig({
      AUTHPLANE_PROVIDER: 'legacy',
      AUTHPLANE_LEGACY_SECRET: SECRET,
      AUTHPLANE_LEGACY_USER_ID_CLAIM: 'sub',
      AUTHPLANE_LEGACY_SCOPES_CLAIM: 'scope,permissions',
      AUTHPLANE_ISSUER: 'legacy-api',
    });
    const p = await plane(fromEnv as Record<string, unknown>);
    expect(await reason(p, await hs256({ sub: 'u9', iss: 'legacy-api', permissions: ['x'] }))).toBe('ok');

    const pemEnv = loadConfig({
      AUTHPLANE_PROVIDER: 'legacy',
      AUTHPLANE_LEGACY_PUBLIC_KEY: publicPem.trim().replaceAll('\n', '\\n'),
      AUTHPLANE_TOKEN_TYPE: 'none',
    });
    const q = await plane(pemEnv as Record<string, unknown>);
    expect(await reason(q, await rs256({ token_type: 'refresh' }))).toBe('ok');

    expect(() => loadConfig({ AUTHPLANE_PROVIDER: 'legacy', AUTHPLANE_LEGACY_SECRET: 'short' })).toThrow(
      expect.objectContaining({ path: 'AUTHPLANE_LEGACY_SECRET' }),
    );
    expect(() =>
      loadConfig({ AUTHPLANE_PROVIDER: 'legacy', AUTHPLANE_LEGACY_PUBLIC_KEY: '{not json' }),
    ).toThrow(expect.objectContaining({ path: 'AUTHPLANE_LEGACY_PUBLIC_KEY' }));
  });

  it('legacyApiKeyPrincipal builds a frozen api_key principal for rows of an old key table', () => {
    const principal = legacyApiKeyPrincipal({
      keyId: '17',
      ownerId: '42',
      orgId: 'org_acme',
      scopes: ['ci'],
    });
    expect(principal).toMatchObject({
      subject: '42',
      providerSubject: '17',
      provider: 'legacy',
      kind: 'api_key',
      authMethod: 'api_key',
      scopes: ['ci'],
    });
    expect(Object.isFrozen(principal)).toBe(true);
  });
});
