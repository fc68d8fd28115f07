// Sender-constrained tokens against the dev issuer (oidc-provider issues DPoP-bound JWTs) and through
// every framework adapter on a real server: each DPoP check attacked one at a time, nonces, a proxy's
// public URL, the Redis replay store shared by two planes, the 60 KB header, and mTLS-bound tokens.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import type { DpopOptions } from '../../src/identity/sender/binding';
import type { DpopReplayStore } from '../../src/identity/sender/dpop-replay';
import type { GetCertificate } from '../../src/identity/sender/mtls';
import { jwkThumbprint } from '../../src/identity/sender/thumbprint';
import type { IdentityPlane, RequestLike } from '../../src/identity/types';
import { createRedisDpopReplayStore } from '../../src/stores/redis';
import { type DpopKey, dpopHeaders, dpopKey, proof } from './dpop-client';
import { bearer, FRAMEWORKS, type RawResponse, send, type TestServer } from './http-servers';
import { legacyConfig, targetConfig } from './migration-fixtures';

const REDIS_URL = process.env.REDIS_URL;

let dev: DevIssuer;
let key: DpopKey;
let other: DpopKey;
let bound: string; // DPoP-bound to `key`, scope read
let unbound: string; // a plain bearer token, scope read
let replayStore: DpopReplayStore & { close(): Promise<void> };
const planes: IdentityPlane[] = [];
const prefix = `ap_dpop_${randomBytes(4).toString('hex')}:`;

async function planeOf(extra: { dpop?: DpopOptions; getCertificate?: GetCertificate } = {}) {
  const plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    allowInsecureRequests: true,
    timeoutMs: 1000,
    ...extra,
  });
  planes.push(plane);
  return plane;
}

beforeAll(async () => {
  if (!REDIS_URL) throw new Error('REDIS_URL is not set: the DPoP replay tests need the real Redis');
  dev = await startDevIssuer();
  key = await dpopKey('ES256');
  other = await dpopKey('ES256');
  bound = await dev.mintDpopToken({ key: key.privateJwk, scope: 'read' });
  unbound = await dev.mintServiceToken({ scope: 'read' });
  replayStore = await createRedisDpopReplayStore({ url: REDIS_URL, keyPrefix: prefix });
});

afterAll(async () => {
  for (const plane of planes) await plane.close();
  await replayStore?.close();
  await dev?.stop();
});

function expectFailure(res: RawResponse, status: number, reason: string): void {
  expect({ status: res.status, reason: res.json().reason }).toEqual({ status, reason });
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('the dev issuer issues DPoP-bound tokens', () => {
  it('binds the token to the proof key (cnf.jkt is its RFC 7638 thumbprint)', () => {
    const claims = decodeJwt(bound);
    expect(claims.cnf).toEqual({ jkt: jwkThumbprint(key.publicJwk as Record<string, unknown>) });
    expect(claims.client_id).toBe(dev.clients.service.dpopClientId);
  });

  it('refuses the DPoP client a token without a proof', async () => {
    const res = await fetch(dev.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${dev.clients.service.dpopClientId}:${dev.clients.service.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: dev.audience, scope: 'read' }),
    });
    expect(res.status).toBe(400);
  });
});

describe.each(FRAMEWORKS)('%s adapter: DPoP', (_name, start) => {
  let server: TestServer;
  let nonced: TestServer;
  let plane: IdentityPlane;
  let noncePlane: IdentityPlane;
  const items = () => `${server.url}/items`;
  const call = async (token: string, p: string, url = items(), method = 'GET') =>
    send(url, { method, headers: dpopHeaders(token, p) });

  beforeAll(async () => {
    plane = await planeOf({ dpop: { replayStore } });
    server = await start(plane);
    noncePlane = await planeOf({ dpop: { replayStore, nonce: true } });
    nonced = await start(noncePlane);
  });

  afterAll(async () => {
    await server?.close();
    await nonced?.close();
  });

  it('accepts the dev issuer’s DPoP-bound token with a valid proof', async () => {
    const res = await call(bound, await proof(key, { htm: 'GET', htu: items(), accessToken: bound }));
    expect(res.status).toBe(200);
    expect(res.json().subject).toBe(dev.clients.service.dpopClientId);
  });

  it('accepts an htu with a query and a fragment (RFC 9449 §4.3: they are not compared)', async () => {
    const htu = `${items()}?page=2#top`;
    const res = await call(
      bound,
      await proof(key, { htm: 'GET', htu, accessToken: bound }),
      `${items()}?page=3`,
    );
    expect(res.status).toBe(200);
  });

  it('refuses a replayed proof: 401 dpop_replayed in the DPoP scheme', async () => {
    const p = await proof(key, { htm: 'GET', htu: items(), accessToken: bound });
    expect((await call(bound, p)).status).toBe(200);
    const again = await call(bound, p);
    expectFailure(again, 401, 'dpop_replayed');
    expect(again.json().error).toBe('invalid_dpop_proof');
    expect(again.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof", /);
    expect(again.headers['www-authenticate']).toMatch(/algs="ES256 [^"]*EdDSA[^"]*"/);
  });

  const attacks: Array<[string, () => Promise<string>]> = [
    ['a proof for another method (htm)', () => proof(key, { htm: 'POST', htu: items(), accessToken: bound })],
    [
      'a proof for another URL (htu)',
      () => proof(key, { htm: 'GET', htu: `${server.url}/any`, accessToken: bound }),
    ],
    [
      'a proof for another origin (htu)',
      () => proof(key, { htm: 'GET', htu: 'https://evil.example/items', accessToken: bound }),
    ],
    [
      'a stale proof (iat 10 minutes ago)',
      () =>
        proof(key, {
          htm: 'GET',
          htu: items(),
          accessToken: bound,
          iat: Math.floor(Date.now() / 1000) - 600,
        }),
    ],
    [
      'a proof from the future (iat in 10 minutes)',
      () =>
        proof(key, {
          htm: 'GET',
          htu: items(),
          accessToken: bound,
          iat: Math.floor(Date.now() / 1000) + 600,
        }),
    ],
    [
      'a proof for another access token (ath)',
      () => proof(key, { htm: 'GET', htu: items(), accessToken: unbound }),
    ],
    ['a proof without ath', () => proof(key, { htm: 'GET', htu: items(), accessToken: bound, ath: null })],
    [
      'a proof signed with another key (jkt mismatch)',
      () => proof(other, { htm: 'GET', htu: items(), accessToken: bound }),
    ],
    [
      'a proof naming the bound key but signed by another',
      () => proof(other, { htm: 'GET', htu: items(), accessToken: bound, headerJwk: key.publicJwk }),
    ],
    [
      'a private key in the proof header',
      () => proof(key, { htm: 'GET', htu: items(), accessToken: bound, headerJwk: key.privateJwk }),
    ],
    [
      'typ other than dpop+jwt',
      () => proof(key, { htm: 'GET', htu: items(), accessToken: bound, typ: 'JWT' }),
    ],
    ['alg none', async () => unsignedProof(items(), bound)],
    ['a proof that is not a JWT', async () => 'not-a-jwt'],
  ];

  it.each(attacks)('refuses %s: 401 dpop_proof_invalid', async (_what, make) => {
    const res = await call(bound, await make());
    expectFailure(res, 401, 'dpop_proof_invalid');
    expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('refuses the DPoP scheme without a proof, and with two proofs', async () => {
    const none = await send(items(), { headers: ['Authorization', `DPoP ${bound}`] });
    expectFailure(none, 401, 'dpop_proof_invalid');
    const p1 = await proof(key, { htm: 'GET', htu: items(), accessToken: bound });
    const p2 = await proof(key, { htm: 'GET', htu: items(), accessToken: bound });
    const two = await send(items(), { headers: [...dpopHeaders(bound, p1), 'DPoP', p2] });
    expectFailure(two, 401, 'dpop_proof_invalid');
  });

  it('refuses a DPoP-bound token presented as Bearer, even with a valid proof beside it', async () => {
    const plain = await send(items(), { headers: bearer(bound) });
    expectFailure(plain, 401, 'token_type_mismatch');
    expect(plain.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token".*, DPoP algs="/);
    const p = await proof(key, { htm: 'GET', htu: items(), accessToken: bound });
    const withProof = await send(items(), { headers: [...bearer(bound), 'DPoP', p] });
    expectFailure(withProof, 401, 'token_type_mismatch');
  });

  it('refuses an unbound token presented with the DPoP scheme, in the DPoP scheme', async () => {
    const p = await proof(key, { htm: 'GET', htu: items(), accessToken: unbound });
    const res = await call(unbound, p);
    expectFailure(res, 401, 'token_type_mismatch');
    expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
    // The same token as Bearer is fine: DPoP is an addition, not a requirement.
    expect((await send(items(), { headers: bearer(unbound) })).status).toBe(200);
  });

  it('advertises DPoP beside Bearer when no credential is sent', async () => {
    const res = await send(items());
    expectFailure(res, 401, 'credentials_missing');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer, DPoP algs="ES256 /);
  });

  it('server nonces: no nonce is 401 dpop_nonce_required with a DPoP-Nonce header; the nonce then passes', async () => {
    const url = `${nonced.url}/items`;
    const first = await send(url, {
      headers: dpopHeaders(bound, await proof(key, { htm: 'GET', htu: url, accessToken: bound })),
    });
    expectFailure(first, 401, 'dpop_nonce_required');
    expect(first.json().error).toBe('use_dpop_nonce');
    expect(first.headers['www-authenticate']).toMatch(/^DPoP error="use_dpop_nonce"/);
    const nonce = first.headers['dpop-nonce'];
    expect(typeof nonce).toBe('string');
    const forged = await send(url, {
      headers: dpopHeaders(
        bound,
        await proof(key, {
          htm: 'GET',
          htu: url,
          accessToken: bound,
          nonce: `${nonce}`.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        }),
      ),
    });
    expectFailure(forged, 401, 'dpop_nonce_required');
    const ok = await send(url, {
      headers: dpopHeaders(
        bound,
        await proof(key, { htm: 'GET', htu: url, accessToken: bound, nonce: nonce as string }),
      ),
    });
    expect(ok.status).toBe(200);
  });
});

describe('DPoP behind a proxy (publicUrl)', () => {
  it.each(FRAMEWORKS)('%s: htu must be the public URL, not the one the server sees', async (_name, start) => {
    const server = await start(
      await planeOf({ dpop: { replayStore, publicUrl: 'https://api.example.com/v1' } }),
    );
    try {
      const publicHtu = 'https://API.example.com:443/v1/items';
      const ok = await send(`${server.url}/items`, {
        headers: dpopHeaders(bound, await proof(key, { htm: 'GET', htu: publicHtu, accessToken: bound })),
      });
      expect(ok.status).toBe(200);
      const local = await send(`${server.url}/items`, {
        headers: dpopHeaders(
          bound,
          await proof(key, { htm: 'GET', htu: `${server.url}/items`, accessToken: bound }),
        ),
      });
      expectFailure(local, 401, 'dpop_proof_invalid');
    } finally {
      await server.close();
    }
  });
});

describe('the Redis replay store', () => {
  it('refuses a proof replayed to another instance sharing the store', async () => {
    const a = await planeOf({ dpop: { replayStore } });
    const b = await planeOf({ dpop: { replayStore } });
    const url = 'https://api.example/items';
    const p = await proof(key, { htm: 'GET', htu: url, accessToken: bound });
    const request = () => new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: p } });
    expect((await a.authenticate(request())).ok).toBe(true);
    const replay = await b.authenticate(request());
    expect(replay.ok ? null : replay.failure.reason).toBe('dpop_replayed');
  });

  it('an unreachable store is provider_unavailable (503), never an accept', async () => {
    const down = await createRedisDpopReplayStore({ url: 'redis://127.0.0.1:1', keyPrefix: prefix }).catch(
      (e) => e,
    );
    expect(down).toBeInstanceOf(Error);
    const hanging: DpopReplayStore = { use: () => new Promise(() => {}) };
    const plane = await planeOf({ dpop: { replayStore: hanging } });
    const url = 'https://api.example/items';
    const p = await proof(key, { htm: 'GET', htu: url, accessToken: bound });
    const started = Date.now();
    const result = await plane.authenticate(
      new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: p } }),
    );
    expect(result.ok ? null : result.failure.reason).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(6000);
  });
});

describe('attacker-sized input', () => {
  it('refuses a 60 KB DPoP header quickly, from a Web Request and a node request', async () => {
    const plane = await planeOf({ dpop: { replayStore } });
    const huge = `${'a'.repeat(30_000)}.${'b'.repeat(30_000)}.c`;
    const spaces = `a${' '.repeat(60_000)}.b.c`;
    for (const value of [huge, spaces, `${','.repeat(60_000)}`]) {
      const started = performance.now();
      const web = await plane.authenticate(
        new Request('https://api.example/items', {
          headers: { authorization: `DPoP ${bound}`, dpop: value },
        }),
      );
      const node = await plane.authenticate({
        method: 'GET',
        url: '/items',
        headers: { host: 'api.example', authorization: `DPoP ${bound}`, dpop: value },
        rawHeaders: ['Host', 'api.example', 'Authorization', `DPoP ${bound}`, 'DPoP', value],
      } as RequestLike);
      expect(web.ok ? null : web.failure.reason).toBe('dpop_proof_invalid');
      expect(node.ok ? null : node.failure.reason).toBe('dpop_proof_invalid');
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('refuses a 60 KB DPoP Authorization value without scanning it', async () => {
    const plane = await planeOf({ dpop: { replayStore } });
    const started = performance.now();
    const result = await plane.authenticate(
      new Request('https://api.example/items', { headers: { authorization: `DPoP ${' '.repeat(60_000)}x` } }),
    );
    expect(result.ok ? null : result.failure.reason).toBe('credentials_malformed');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a 60 KB DPoP header through a real server never reaches a pass', async () => {
    const server = await FRAMEWORKS[0]?.[1](await planeOf({ dpop: { replayStore } }));
    try {
      const res = await send(`${server?.url}/items`, { headers: dpopHeaders(bound, 'a'.repeat(60_000)) });
      // node's parser refuses headers above 16 KB (431) before any adapter runs; either way, no 200.
      expect([401, 431]).toContain(res.status);
    } finally {
      await server?.close();
    }
  });
});

describe('the URL of a node request', () => {
  it('uses Express’s originalUrl under a mounted router, the Host header and the method', async () => {
    const plane = await planeOf({ dpop: { replayStore } });
    const request = async (htu: string, htm = 'GET') =>
      plane.authenticate({
        method: 'GET',
        url: '/items',
        originalUrl: '/api/items?x=1',
        headers: { host: 'api.example:8080' },
        rawHeaders: [
          'Host',
          'api.example:8080',
          'Authorization',
          `DPoP ${bound}`,
          'DPoP',
          await proof(key, { htm, htu, accessToken: bound }),
        ],
      });
    expect((await request('http://api.example:8080/api/items')).ok).toBe(true);
    const mounted = await request('http://api.example:8080/items');
    expect(mounted.ok ? null : mounted.failure.reason).toBe('dpop_proof_invalid');
    const method = await request('http://api.example:8080/api/items', 'get');
    expect(method.ok ? null : method.failure.reason).toBe('dpop_proof_invalid');
  });
});

describe('the migration plane', () => {
  it('holds a DPoP-bound target token to its proof while dual-running', async () => {
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      dpop: { replayStore },
    });
    planes.push(plane);
    const url = 'https://api.example/items';
    const p = await proof(key, { htm: 'GET', htu: url, accessToken: bound });
    const ok = await plane.authenticate(
      new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: p } }),
    );
    expect(ok.ok ? ok.principal.provider : ok.failure.reason).toBe('oidc');
    const replay = await plane.authenticate(
      new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: p } }),
    );
    expect(replay.ok ? null : replay.failure.reason).toBe('dpop_replayed');
    const asBearer = await plane.authenticate(
      new Request(url, { headers: { authorization: `Bearer ${bound}` } }),
    );
    expect(asBearer.ok ? null : asBearer.failure.reason).toBe('token_type_mismatch');
  });
});

describe('without the dpop option', () => {
  it('refuses the DPoP scheme and DPoP-bound tokens, through plane.verify too', async () => {
    const plane = await planeOf();
    const url = 'https://api.example/items';
    const p = await proof(key, { htm: 'GET', htu: url, accessToken: bound });
    const scheme = await plane.authenticate(
      new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: p } }),
    );
    expect(scheme.ok ? null : scheme.failure.reason).toBe('credentials_malformed');
    const asBearer = await plane.authenticate(
      new Request(url, { headers: { authorization: `Bearer ${bound}` } }),
    );
    expect(asBearer.ok ? null : asBearer.failure.reason).toBe('token_type_mismatch');
    const verified = await plane.verify(bound);
    expect(verified.ok ? null : verified.failure.reason).toBe('token_type_mismatch');
  });
});

// mTLS-bound tokens (RFC 8705): the proxy forwards the client certificate URL-encoded in a header.
describe('certificate-bound tokens (cnf x5t#S256)', () => {
  let dir: string;
  let pem: string;
  let otherPem: string;
  let certBound: string;
  const header = 'x-client-cert';
  const getCertificate: GetCertificate = (request) => {
    const headers = (request as { headers: unknown }).headers;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(header);
    const value = (headers as Record<string, unknown>)[header];
    return typeof value === 'string' ? value : null;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ap-mtls-'));
    const make = (name: string) => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${name}`,
          '-keyout',
          join(dir, `${name}.key`),
          '-out',
          join(dir, `${name}.pem`),
        ],
        { stdio: 'ignore' },
      );
      return readFileSync(join(dir, `${name}.pem`), 'utf8');
    };
    pem = make('client');
    otherPem = make('other');
    const thumbprint = Buffer.from(
      new X509Certificate(pem).fingerprint256.replaceAll(':', ''),
      'hex',
    ).toString('base64url');
    certBound = await signed({ cnf: { 'x5t#S256': thumbprint } });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(FRAMEWORKS)(
    '%s: the bound certificate passes; none, another or no hook is refused',
    async (_name, start) => {
      const server = await start(await planeOf({ getCertificate }));
      const without = await start(await planeOf());
      try {
        const url = `${server.url}/items`;
        const ok = await send(url, { headers: [...bearer(certBound), header, encodeURIComponent(pem)] });
        expect(ok.status).toBe(200);
        expectFailure(await send(url, { headers: bearer(certBound) }), 401, 'token_type_mismatch');
        expectFailure(
          await send(url, { headers: [...bearer(certBound), header, encodeURIComponent(otherPem)] }),
          401,
          'token_type_mismatch',
        );
        expectFailure(
          await send(`${without.url}/items`, {
            headers: [...bearer(certBound), header, encodeURIComponent(pem)],
          }),
          401,
          'token_type_mismatch',
        );
      } finally {
        await server.close();
        await without.close();
      }
    },
  );

  it('a getCertificate hook that throws or hangs is provider_unavailable, never an accept', async () => {
    const request = () =>
      new Request('https://api.example/x', { headers: { authorization: `Bearer ${certBound}` } });
    const throwing = await planeOf({
      getCertificate: () => {
        throw new Error('proxy header unreadable');
      },
    });
    const thrown = await throwing.authenticate(request());
    expect(thrown.ok ? null : thrown.failure.reason).toBe('provider_unavailable');
    const hanging = await planeOf({ getCertificate: () => new Promise(() => {}) });
    const started = Date.now();
    const hung = await hanging.authenticate(request());
    expect(hung.ok ? null : hung.failure.reason).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('accepts an RFC 9440 Client-Cert value and refuses an unknown confirmation method', async () => {
    const plane = await planeOf({
      getCertificate: () => `:${new X509Certificate(pem).raw.toString('base64')}:`,
    });
    expect(
      (
        await plane.authenticate(
          new Request('https://api.example/x', { headers: { authorization: `Bearer ${certBound}` } }),
        )
      ).ok,
    ).toBe(true);
    const weird = await signed({ cnf: { jwk: key.publicJwk } });
    const result = await plane.authenticate(
      new Request('https://api.example/x', { headers: { authorization: `Bearer ${weird}` } }),
    );
    expect(result.ok ? null : result.failure.reason).toBe('token_type_mismatch');
  });
});

/** A token signed with the dev issuer's own current ES256 key. */
async function signed(extra: Record<string, unknown>): Promise<string> {
  const jwk = dev.signingKeys().find((k) => k.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: dev.issuer,
    aud: dev.audience,
    sub: 'svc',
    client_id: 'svc',
    scope: 'read',
    iat: now,
    exp: now + 300,
    ...extra,
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string, typ: 'at+jwt' })
    .sign(await importJWK(jwk, 'ES256'));
}

function unsignedProof(htu: string, token: string): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = {
    htm: 'GET',
    htu,
    jti: randomBytes(8).toString('hex'),
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(token).digest('base64url'),
  };
  return `${enc({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${enc(claims)}.`;
}
