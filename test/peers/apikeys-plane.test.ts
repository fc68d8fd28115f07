// CI keys and humans through the same plane and the same route: a real node:http server, the real dev
// issuer (a browser login for the human token), API keys in a SQLite file, and a legacy key table.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyApiKeyPrincipal } from '../../providers/legacy/index';
import { type ApiKeys, createApiKeys } from '../../src/apikeys/keys';
import { toHttp } from '../../src/core/response';
import { startDevIssuer } from '../../src/dev/index';
import type { DevIssuer } from '../../src/dev/types';
import { authorize } from '../../src/identity/authorize';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import { openSqliteStores, type SqliteStores } from '../../src/stores/sqlite';
import { completeBrowserLogin } from './user-agent';

const dir = mkdtempSync(join(tmpdir(), 'authplane-keys-plane-'));
let dev: DevIssuer;
let stores: SqliteStores;
let keys: ApiKeys;

beforeAll(async () => {
  dev = await startDevIssuer();
  stores = await openSqliteStores({ filename: join(dir, 'authplane.db') });
  keys = createApiKeys({
    store: stores.apiKeys,
    prefix: 'ap_test',
    isMember: (_owner, org) => org !== 'org_gone',
  });
});
afterAll(async () => {
  await keys?.close();
  await stores?.close();
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One route, guarded like an application guards it: authenticate, then require `sync:write`. */
async function serve(plane: IdentityPlane): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const result = await plane.authenticate(req);
    const failure = result.ok ? authorize(result.principal, { scopes: ['sync:write'] }) : result;
    if (!failure.ok) {
      const { status, headers, body } = toHttp(failure.failure);
      res.writeHead(status, headers).end(body);
      return;
    }
    const p = result.ok ? result.principal : null;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ subject: p?.subject, provider: p?.provider, kind: p?.kind, orgId: p?.orgId }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sync`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function call(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, challenge: res.headers.get('www-authenticate') };
}

/** A human's access token: the dev issuer's real authorization-code + PKCE login, as alice. */
async function humanToken(login: string): Promise<string> {
  const cli = await oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const redirectUri = dev.clients.cli.redirectUri.replace('127.0.0.1', '127.0.0.1:53682');
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedState = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(cli, {
    redirect_uri: redirectUri,
    scope: 'openid read sync:write',
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    login_hint: login,
  });
  const callback = await completeBrowserLogin(url.href, { login });
  const tokens = await oidc.authorizationCodeGrant(cli, new URL(callback), {
    pkceCodeVerifier,
    expectedState,
  });
  return tokens.access_token;
}

describe('one plane, one route: CI keys and human JWTs (oidc)', () => {
  let plane: IdentityPlane;
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    plane = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: dev.audience,
      allowInsecureRequests: true,
      apiKeys: keys,
    });
    server = await serve(plane);
  });
  afterAll(async () => {
    await server?.close();
    await plane?.close();
  });

  it('accepts a CI key (Bearer and X-API-Key) and a human token on the same route', async () => {
    const { key, record } = await keys.issue({
      ownerId: 'usr_ci',
      orgId: 'org_acme',
      scopes: ['sync:write'],
      name: 'GitHub Actions',
    });
    const bearer = await call(server.url, { authorization: `Bearer ${key}` });
    expect(bearer).toMatchObject({
      status: 200,
      body: { subject: 'usr_ci', provider: 'api_key', kind: 'api_key' },
    });
    const header = await call(server.url, { 'x-api-key': key });
    expect(header).toMatchObject({ status: 200, body: { provider: 'api_key', orgId: 'org_acme' } });

    const human = await call(server.url, { authorization: `Bearer ${await humanToken('alice')}` });
    expect(human).toMatchObject({ status: 200, body: { provider: 'oidc', kind: 'user', orgId: 'org_acme' } });

    // The key service is the key's decider; the plane is still the oidc plane.
    expect(plane.provider).toBe('oidc');
    const direct = await plane.verify(key);
    expect(direct.ok && direct.principal.providerSubject).toBe(record.id);
  });

  it('a revoked key is 401 api_key_revoked, a key without the scope 403, a forged key 401 api_key_invalid', async () => {
    const revoked = await keys.issue({ ownerId: 'usr_ci', orgId: 'org_acme', scopes: ['sync:write'] });
    await keys.revoke(revoked.record.id);
    const r = await call(server.url, { 'x-api-key': revoked.key });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: 'invalid_token', reason: 'api_key_revoked' });
    expect(r.challenge).toContain('error="invalid_token"');
    const failed = await plane.verify(revoked.key);
    expect(!failed.ok && failed.failure.provider).toBe('api_key');

    const readOnly = await keys.issue({ ownerId: 'usr_ci', orgId: 'org_acme', scopes: ['read'] });
    const s = await call(server.url, { authorization: `Bearer ${readOnly.key}` });
    expect(s.status).toBe(403);
    expect(s.body).toMatchObject({ error: 'insufficient_scope', reason: 'scope_insufficient' });
    expect(s.challenge).toContain('scope="sync:write"');

    const last = readOnly.key.at(-1) === 'A' ? 'B' : 'A';
    const forged = `${readOnly.key.slice(0, -1)}${last}`;
    expect((await call(server.url, { 'x-api-key': forged })).body).toMatchObject({
      reason: 'api_key_invalid',
    });

    const gone = await keys.issue({ ownerId: 'usr_left', orgId: 'org_gone', scopes: ['sync:write'] });
    expect((await call(server.url, { 'x-api-key': gone.key })).body).toMatchObject({
      reason: 'org_membership_missing',
    });
  });

  it('bad human tokens still get their JWT reasons, and plane.revoke is for tokens, not keys', async () => {
    const token = await dev.mintServiceToken({ scope: 'sync:write' });
    expect((await call(server.url, { authorization: `Bearer ${token}` })).status).toBe(200);
    const ok = await plane.verify(token);
    if (!ok.ok) throw new Error('expected a valid token');
    await plane.revoke({ jti: ok.principal.claims.jti as string });
    expect((await call(server.url, { authorization: `Bearer ${token}` })).body).toMatchObject({
      reason: 'token_revoked',
    });
    expect((await call(server.url, { authorization: `Bearer ${token.slice(0, -2)}AA` })).status).toBe(401);
    // Two different credentials at once stay ambiguous, whatever their kinds.
    const { key } = await keys.issue({ ownerId: 'usr_ci', orgId: 'org_acme', scopes: ['sync:write'] });
    expect((await call(server.url, { authorization: `Bearer ${token}`, 'x-api-key': key })).status).toBe(400);
  });
});

describe('legacy plane: legacy JWTs, authplane keys and keys of the old table on one route', () => {
  const SECRET = randomBytes(48).toString('base64url');
  const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
  let legacyDb: Database.Database;
  let legacyKeys: ApiKeys;
  let plane: IdentityPlane;
  let server: Awaited<ReturnType<typeof serve>>;
  const oldKey = `lk_${randomBytes(20).toString('hex')}`;
  const oldReadOnly = `lk_${randomBytes(20).toString('hex')}`;

  beforeAll(async () => {
    // The table the application had before authplane: hashed keys, integer user ids, a revoked flag.
    legacyDb = new Database(join(dir, 'legacy-app.db'));
    legacyDb.exec(`CREATE TABLE old_api_keys (
      id INTEGER PRIMARY KEY, key_sha256 TEXT UNIQUE NOT NULL, user_id INTEGER NOT NULL,
      org_id TEXT NOT NULL, scopes TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)`);
    const insert = legacyDb.prepare(
      'INSERT INTO old_api_keys (key_sha256, user_id, org_id, scopes) VALUES (?, ?, ?, ?)',
    );
    insert.run(sha256(oldKey), 42, 'org_acme', 'sync:write read');
    insert.run(sha256(oldReadOnly), 43, 'org_acme', 'read');
    const find = legacyDb.prepare(
      'SELECT id, user_id, org_id, scopes FROM old_api_keys WHERE key_sha256 = ? AND revoked = 0',
    );

    legacyKeys = createApiKeys({
      store: stores.apiKeys,
      prefix: 'ap_test',
      provider: 'api_key',
      isLegacyKey: (credential) => /^lk_[0-9a-f]{40}$/.test(credential),
      legacyVerifier: async (key) => {
        const row = find.get(sha256(key)) as
          | { id: number; user_id: number; org_id: string; scopes: string }
          | undefined;
        return row
          ? legacyApiKeyPrincipal({
              keyId: String(row.id),
              ownerId: String(row.user_id),
              orgId: row.org_id,
              scopes: row.scopes.split(' '),
            })
          : null;
      },
    });
    plane = await createIdentityPlane({ provider: 'legacy', secret: SECRET, apiKeys: legacyKeys });
    server = await serve(plane);
  });
  afterAll(async () => {
    await server?.close();
    await plane?.close();
    await legacyKeys?.close();
    legacyDb?.close();
  });

  const legacyJwt = (claims: Record<string, unknown> = {}) =>
    new SignJWT({
      token_type: 'access',
      user_id: 7,
      jti: randomBytes(8).toString('hex'),
      scope: 'sync:write',
      ...claims,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));

  it('serves a legacy JWT, an old-table key and a new key; refuses refresh tokens and unknown old keys', async () => {
    expect(await call(server.url, { authorization: `Bearer ${await legacyJwt()}` })).toMatchObject({
      status: 200,
      body: { subject: '7', provider: 'legacy', kind: 'user' },
    });
    expect(await call(server.url, { 'x-api-key': oldKey })).toMatchObject({
      status: 200,
      body: { subject: '42', provider: 'legacy', kind: 'api_key', orgId: 'org_acme' },
    });
    const { key } = await legacyKeys.issue({ ownerId: 'usr_ci', orgId: 'org_acme', scopes: ['sync:write'] });
    expect(await call(server.url, { authorization: `Bearer ${key}` })).toMatchObject({
      status: 200,
      body: { provider: 'api_key', kind: 'api_key' },
    });

    expect((await call(server.url, { 'x-api-key': oldReadOnly })).status).toBe(403);
    expect((await call(server.url, { 'x-api-key': `lk_${'0'.repeat(40)}` })).body).toMatchObject({
      reason: 'api_key_invalid',
    });
    legacyDb.prepare('UPDATE old_api_keys SET revoked = 1 WHERE key_sha256 = ?').run(sha256(oldKey));
    expect((await call(server.url, { 'x-api-key': oldKey })).body).toMatchObject({
      reason: 'api_key_invalid',
    });

    expect(
      (await call(server.url, { authorization: `Bearer ${await legacyJwt({ token_type: 'refresh' })}` }))
        .body,
    ).toMatchObject({
      reason: 'token_type_mismatch',
    });
  });
});
