// The DPoP proof verifier, nonces and challenge rendering, without a server: the checks the adapter
// tests cannot reach (crit, HMAC and RSA proofs, the htu normalization, nonce windows).
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFailure } from '../../src/core/failure';
import { toHttp } from '../../src/core/response';
import { createDpopNonces } from '../../src/identity/sender/dpop-nonce';
import { DPOP_ALGORITHMS, verifyDpopProof } from '../../src/identity/sender/dpop-proof';
import { createMemoryDpopReplayStore } from '../../src/identity/sender/dpop-replay';
import { normalizeHtu } from '../../src/identity/sender/request-target';
import { jwkThumbprint } from '../../src/identity/sender/thumbprint';
import { dpopKey, proof } from '../peers/dpop-client';

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('verifyDpopProof', async () => {
  const key = await dpopKey('EdDSA');
  const token = 'access-token';
  const jkt = jwkThumbprint(key.publicJwk as Record<string, unknown>);
  const expected = {
    method: 'GET',
    htu: 'https://api.example/items',
    accessToken: token,
    jkt,
    nowSec: Date.now() / 1000,
    maxAgeSec: 60,
    clockToleranceSec: 5,
    algorithms: DPOP_ALGORITHMS,
  };

  it('accepts a valid EdDSA proof and returns its jti and nonce', async () => {
    const p = await proof(key, {
      htm: 'GET',
      htu: 'https://api.example/items',
      accessToken: token,
      nonce: 'n1',
    });
    expect(verifyDpopProof(p, expected)).toMatchObject({ nonce: 'n1' });
  });

  it('refuses a proof whose alg is not in the configured list', async () => {
    const p = await proof(key, { htm: 'GET', htu: 'https://api.example/items', accessToken: token });
    expect(() => verifyDpopProof(p, { ...expected, algorithms: ['ES256'] })).toThrow(
      expect.objectContaining({ reason: 'dpop_proof_invalid' }),
    );
  });

  it('refuses crit, an HMAC alg and a symmetric jwk', async () => {
    const claims = {
      htm: 'GET',
      htu: expected.htu,
      jti: randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      ath: createHash('sha256').update(token).digest('base64url'),
    };
    const forged = [
      `${enc({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: key.publicJwk, crit: ['exp'] })}.${enc(claims)}.${'A'.repeat(86)}`,
      `${enc({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${enc(claims)}.${'A'.repeat(43)}`,
      `${enc({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${enc(claims)}.${'A'.repeat(86)}`,
      `${enc({ alg: 'EdDSA', typ: 'dpop+jwt' })}.${enc(claims)}.${'A'.repeat(86)}`,
    ];
    for (const p of forged) {
      expect(() => verifyDpopProof(p, expected)).toThrow(
        expect.objectContaining({ reason: 'dpop_proof_invalid' }),
      );
    }
  });

  it('messages name the failed check and never the proof', async () => {
    const p = await proof(key, { htm: 'POST', htu: expected.htu, accessToken: token });
    try {
      verifyDpopProof(p, expected);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/htm/);
      expect((err as Error).message).not.toContain(p.slice(0, 20));
    }
  });
});

describe('normalizeHtu', () => {
  it.each([
    ['HTTPS://API.Example:443/a/../items?x=1#f', 'https://api.example/items'],
    ['http://api.example:80/items', 'http://api.example/items'],
    ['https://api.example/%7euser/%2f', 'https://api.example/~user/%2F'],
  ])('%s -> %s', (input, output) => expect(normalizeHtu(input)).toBe(output));

  it.each(['ftp://api.example/x', '/items', 'https://user:pw@api.example/x', 42, 'x'.repeat(9000)])(
    'refuses %s',
    (input) => expect(normalizeHtu(input)).toBeNull(),
  );
});

describe('createDpopNonces', () => {
  it('accepts the current and the previous window only, and nothing forged', () => {
    let t = 1_000_000_000_000;
    const nonces = createDpopNonces({ rotateSec: 60, clock: () => t });
    const n = nonces.current();
    expect(nonces.isValid(n)).toBe(true);
    t += 60_000;
    expect(nonces.isValid(n)).toBe(true);
    expect(nonces.current()).not.toBe(n);
    t += 60_000;
    expect(nonces.isValid(n)).toBe(false);
    const other = createDpopNonces({ rotateSec: 60, clock: () => t });
    expect(nonces.isValid(other.current())).toBe(false);
    expect(nonces.isValid(undefined)).toBe(false);
    expect(nonces.isValid(`${nonces.current()}=`)).toBe(false);
  });

  it('instances sharing a secret accept each other’s nonces', () => {
    const secret = 's'.repeat(32);
    expect(createDpopNonces({ secret }).isValid(createDpopNonces({ secret }).current())).toBe(true);
    expect(() => createDpopNonces({ secret: 'short' })).toThrow(TypeError);
  });
});

describe('the memory replay store', () => {
  it('refuses a second use within the ttl, forgets after it, and refuses when full', async () => {
    let t = 0;
    const store = createMemoryDpopReplayStore({ maxEntries: 2, clock: () => t });
    expect(await store.use('a', 10)).toBe(true);
    expect(await store.use('a', 10)).toBe(false);
    expect(await store.use('b', 10)).toBe(true);
    await expect(store.use('c', 10)).rejects.toMatchObject({ reason: 'provider_unavailable' });
    t = 11_000;
    expect(await store.use('a', 10)).toBe(true);
  });
});

describe('DPoP challenges and the DPoP-Nonce header', () => {
  it('renders the DPoP scheme for dpop reasons and the nonce header', () => {
    const f = createFailure({
      reason: 'dpop_nonce_required',
      traceId: 't',
      dpopAlgs: ['ES256'],
      dpopNonce: 'abc',
      realm: 'api',
    });
    expect(f.challenge).toBe(
      'DPoP realm="api", error="use_dpop_nonce", error_description="The DPoP proof must carry the server nonce", algs="ES256"',
    );
    expect(toHttp(f).headers['dpop-nonce']).toBe('abc');
  });

  it('keeps the Bearer challenge unchanged when DPoP is off', () => {
    expect(createFailure({ reason: 'token_expired', traceId: 't' }).challenge).toBe(
      'Bearer error="invalid_token", error_description="The token has expired"',
    );
    expect(
      createFailure({ reason: 'credentials_missing', traceId: 't', dpopAlgs: ['ES256'] }).challenge,
    ).toBe('Bearer, DPoP algs="ES256"');
  });
});
