/**
 * `npm run demo`: the SDK end to end on embedded defaults, with no vendor account and no network.
 * Starts the local dev issuer (oidc-provider), an embedded SQLite store for API keys, and
 * examples/saas-backend, then plays a scripted client and prints what each request got. Exits 1 if any
 * outcome differs from what authplane promises.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKeys } from 'authplane/apikeys';
import { startDevIssuer } from 'authplane/dev';
import { openSqliteStores } from 'authplane/stores/sqlite';
import { importJWK, type JWK, SignJWT } from 'jose';
import { startSaasBackend } from './saas-backend/server';

interface Row {
  scenario: string;
  expected: string;
  got: string;
  ok: boolean;
}

const issuer = await startDevIssuer({ port: 0 });
// API keys for CI live in the embedded SQLite file (no server), beside the humans' JWTs on the same routes.
const dataDir = mkdtempSync(join(tmpdir(), 'authplane-demo-'));
const sqlite = await openSqliteStores({ filename: join(dataDir, 'authplane.db') });
const keys = createApiKeys({ store: sqlite.apiKeys, prefix: 'ap_live' });
// The unknown-kid cooldown is 30 s by default (a forged-kid flood costs one JWKS fetch per cooldown);
// 1 s here so the demo can show both a rotation and an outage without waiting.
const api = await startSaasBackend({
  env: issuer.env(),
  overrides: { jwks: { cooldownSec: 1 }, apiKeys: keys },
});
const rows: Row[] = [];

async function call(
  method: string,
  path: string,
  token?: string,
  header: 'authorization' | 'x-api-key' = 'authorization',
): Promise<{ status: number; reason: string }> {
  const headers: Record<string, string> = {};
  if (token) headers[header] = header === 'authorization' ? `Bearer ${token}` : token;
  const res = await fetch(`${api.url}${path}`, { method, headers });
  const body =
    res.status === 200 ? null : ((await res.json().catch(() => null)) as { reason?: string } | null);
  return { status: res.status, reason: body?.reason ?? '' };
}

async function expect(
  scenario: string,
  expected: { status: number; reason?: string },
  request: Promise<{ status: number; reason: string }>,
) {
  const got = await request;
  const ok = got.status === expected.status && (expected.reason ?? '') === got.reason;
  rows.push({
    scenario,
    expected: `${expected.status} ${expected.reason ?? ''}`.trim(),
    got: `${got.status} ${got.reason}`.trim(),
    ok,
  });
}

/** A token signed with the issuer's real current key, with claims the scenario chooses. */
async function signWithIssuerKey(claims: { aud?: string; exp?: number }, keyIndex = 0): Promise<string> {
  const jwk = (await issuer.signingKeys())[keyIndex] as JWK & { kid: string; alg: string };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'read', client_id: issuer.clients.service.clientId })
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(issuer.issuer)
    .setAudience(claims.aud ?? issuer.audience)
    .setSubject(issuer.clients.service.clientId)
    .setJti(randomUUID())
    .setIssuedAt(now - 7200)
    .setExpirationTime(claims.exp ?? now + 600)
    .sign(await importJWK(jwk, jwk.alg));
}

try {
  const readToken = await issuer.mintServiceToken({ scope: 'read' });
  await expect('valid token, GET /items', { status: 200 }, call('GET', '/items', readToken));
  await expect('no token', { status: 401, reason: 'credentials_missing' }, call('GET', '/items'));
  await expect(
    'missing scope, POST /sync',
    { status: 403, reason: 'scope_insufficient' },
    call('POST', '/sync', readToken),
  );
  await expect(
    'another org, GET /orgs/org_globex/reports',
    { status: 403, reason: 'org_mismatch' },
    call('GET', '/orgs/org_globex/reports', readToken),
  );
  const expired = await signWithIssuerKey({ exp: Math.floor(Date.now() / 1000) - 3600 });
  await expect('expired token', { status: 401, reason: 'token_expired' }, call('GET', '/items', expired));
  const [head, payload, signature = ''] = readToken.split('.');
  const forged = `${head}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  await expect(
    'forged signature',
    { status: 401, reason: 'signature_invalid' },
    call('GET', '/items', forged),
  );
  const otherAudience = await signWithIssuerKey({ aud: 'https://another-api.example' });
  await expect(
    'token for another audience',
    { status: 401, reason: 'audience_mismatch' },
    call('GET', '/items', otherAudience),
  );

  const { key: ciKey, record } = await keys.issue({
    ownerId: 'ci-bot',
    orgId: 'org_acme',
    scopes: ['read'],
    name: 'CI',
  });
  await expect(
    'CI API key (X-API-Key), GET /items',
    { status: 200 },
    call('GET', '/items', ciKey, 'x-api-key'),
  );
  await expect(
    'CI API key, POST /sync',
    { status: 403, reason: 'scope_insufficient' },
    call('POST', '/sync', ciKey),
  );
  await keys.revoke(record.id);
  await expect(
    'CI API key after revocation',
    { status: 401, reason: 'api_key_revoked' },
    call('GET', '/items', ciKey),
  );

  await issuer.rotateKeys();
  const rotated = await issuer.mintServiceToken({ scope: 'read' });
  await expect('key rotated at the issuer, new kid', { status: 200 }, call('GET', '/items', rotated));
  await expect('token signed before rotation', { status: 200 }, call('GET', '/items', readToken));

  await issuer.setOnline(false);
  await expect('issuer down, cached key', { status: 200 }, call('GET', '/items', rotated));
  await issuer.rotateKeys();
  await new Promise((resolve) => setTimeout(resolve, 1100)); // past the cooldown: the cache may refetch
  const unseenKid = await signWithIssuerKey({});
  await expect(
    'issuer down, unseen kid',
    { status: 503, reason: 'provider_unavailable' },
    call('GET', '/items', unseenKid),
  );
} finally {
  await api.close();
  await keys.close();
  await sqlite.close();
  rmSync(dataDir, { recursive: true, force: true });
  await issuer.stop();
}

const width = Math.max(...rows.map((r) => r.scenario.length)) + 2;
console.log(
  `\nauthplane demo — provider ${api.provider}, issuer ${issuer.issuer} (local dev issuer, SQLite key store, no vendor account)\n`,
);
console.log(`${'scenario'.padEnd(width)}${'expected'.padEnd(30)}${'got'.padEnd(30)}`);
for (const r of rows)
  console.log(
    `${r.scenario.padEnd(width)}${r.expected.padEnd(30)}${r.got.padEnd(30)}${r.ok ? 'ok' : 'MISMATCH'}`,
  );
const bad = rows.filter((r) => !r.ok).length;
console.log(
  bad === 0 ? `\nall ${rows.length} outcomes as promised` : `\n${bad} of ${rows.length} outcomes differ`,
);
process.exitCode = bad === 0 ? 0 : 1;
