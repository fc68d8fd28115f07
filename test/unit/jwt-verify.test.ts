import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import { createJwtVerifier, createLocalKeySet, type JwtVerifier } from '../../src/jwt/index';
import {
  AUDIENCE,
  b64,
  baseClaims,
  craft,
  ISSUER,
  makeKey,
  nowSec,
  reasonOf,
  signToken,
  type TestKey,
} from './jwt-fixtures';

const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
let rsa: TestKey;
let ps: TestKey;
let ec: TestKey;
let ed: TestKey;
let verifier: JwtVerifier;

function verifierFor(keys: TestKey[], options: Partial<Parameters<typeof createJwtVerifier>[0]> = {}) {
  return createJwtVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: [...ALGS],
    keys: createLocalKeySet({ keys: keys.map((k) => k.jwk) }, { algorithms: [...ALGS] }),
    ...options,
  });
}

beforeAll(async () => {
  [rsa, ps, ec, ed] = await Promise.all([
    makeKey('RS256'),
    makeKey('PS256'),
    makeKey('ES256'),
    makeKey('EdDSA'),
  ]);
  verifier = verifierFor([rsa, ps, ec, ed]);
});

describe('valid controls', () => {
  it.each(ALGS)('accepts a jose-signed %s at+jwt token and returns its claims', async (alg) => {
    const key = { RS256: rsa, PS256: ps, ES256: ec, EdDSA: ed }[alg];
    const token = await signToken(key, { sub: `sub-${alg}` });
    const verified = await verifier.verify(token);
    expect(verified.alg).toBe(alg);
    expect(verified.kid).toBe(key.kid);
    expect(verified.claims.sub).toBe(`sub-${alg}`);
    expect(Object.isFrozen(verified.header)).toBe(true);
  });

  it('accepts typ application/at+jwt in any case (RFC 7515 §4.1.9)', async () => {
    const token = await signToken(rsa, {}, { typ: 'Application/AT+JWT' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ alg: 'RS256' });
  });

  it('accepts an audience array that contains a configured audience', async () => {
    const token = await signToken(rsa, { aud: ['https://other.test', AUDIENCE] });
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const token = await signToken(rsa, { exp: nowSec() - 2 });
    await expect(verifier.verify(token)).resolves.toBeTruthy();
  });

  it('check() answers synchronously once the key is known', async () => {
    const token = await signToken(ec);
    const verified = verifier.check(token);
    expect(verified).not.toBeInstanceOf(Promise);
    expect(() => verifier.check(`${token}x`)).toThrow(AuthRejection);
  });

  it('a cached header is reused only for a byte-identical header segment', async () => {
    const first = await signToken(rsa);
    await verifier.verify(first);
    const otherTyp = await signToken(rsa, {}, { typ: 'JWT' });
    expect(await reasonOf(verifier.verify(otherTyp))).toBe('token_type_mismatch');
  });
});

describe('compact serialization', () => {
  let good: string;
  beforeAll(async () => {
    good = await signToken(rsa);
  });
  const parts = () => good.split('.') as [string, string, string];

  it.each([
    ['empty', () => ''],
    ['one segment', () => 'abc'],
    ['two segments', () => parts().slice(0, 2).join('.')],
    ['four segments', () => `${good}.x`],
    ['padding on the signature', () => `${good}==`],
    ['padding on the payload', () => `${parts()[0]}.${parts()[1]}=.${parts()[2]}`],
    ['whitespace inside', () => `${parts()[0]}.${parts()[1]} .${parts()[2]}`],
    ['newline inside', () => `${parts()[0]}\n.${parts()[1]}.${parts()[2]}`],
    ['standard base64 characters', () => good.replace(/-/g, '+').replace(/_/g, '/')],
    ['non-alphabet character', () => `${parts()[0]}.${parts()[1]}.${parts()[2].slice(0, -1)}!`],
    ['header not JSON', () => `${b64('not json')}.${parts()[1]}.${parts()[2]}`],
    ['header a JSON array', () => `${b64('["RS256"]')}.${parts()[1]}.${parts()[2]}`],
    ['header JSON null', () => `${b64('null')}.${parts()[1]}.${parts()[2]}`],
    ['payload a JSON string', () => `${parts()[0]}.${b64('"claims"')}.${parts()[2]}`],
    ['payload a number', () => `${parts()[0]}.${b64('42')}.${parts()[2]}`],
    ['empty header', () => `.${parts()[1]}.${parts()[2]}`],
  ])('%s -> credentials_malformed', async (_name, make) => {
    expect(await reasonOf(verifier.verify(make()))).toBe('credentials_malformed');
  });

  it('refuses non-canonical trailing bits in the signature', async () => {
    const [h, p, s] = parts();
    // RS256 signatures are 256 bytes: 342 characters, the last one carrying 2 unused bits.
    const last = s.charAt(s.length - 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const tweaked = alphabet.charAt(alphabet.indexOf(last) ^ 1);
    const forged = `${h}.${p}.${s.slice(0, -1)}${tweaked}`;
    // Same bytes once decoded: a lenient decoder would accept this second spelling of the token.
    expect(Buffer.from(forged.split('.')[2] as string, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(
      true,
    );
    expect(await reasonOf(verifier.verify(forged))).toBe('credentials_malformed');
  });

  it('refuses a token over maxTokenBytes before decoding it', async () => {
    const huge = await signToken(rsa, { padding: 'x'.repeat(10_000) });
    expect(await reasonOf(verifier.verify(huge))).toBe('credentials_malformed');
    const roomy = verifierFor([rsa], { maxTokenBytes: 64 * 1024 });
    await expect(roomy.verify(huge)).resolves.toBeTruthy();
  });

  it('a validly signed header or payload that is not UTF-8 -> credentials_malformed, never U+FFFD', async () => {
    const claims = JSON.stringify({ ...baseClaims(), sub: 'SUBJECT' });
    const header = JSON.stringify({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' });
    const signed = (h: Buffer, p: Buffer) => {
      const input = `${b64(h)}.${b64(p)}`;
      return `${input}.${nodeSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
    };
    const withByte = (json: string, marker: string, byte: number) => {
      const [before, after] = json.split(marker) as [string, string];
      return Buffer.concat([Buffer.from(before), Buffer.from([byte]), Buffer.from(after)]);
    };
    // The control: the same construction with valid bytes is accepted.
    await expect(verifier.verify(signed(Buffer.from(header), Buffer.from(claims)))).resolves.toBeTruthy();
    for (const byte of [0xff, 0xc3, 0x80]) {
      const badPayload = signed(Buffer.from(header), withByte(claims, 'SUBJECT', byte));
      expect(await reasonOf(verifier.verify(badPayload))).toBe('credentials_malformed');
      const badHeader = signed(withByte(header, 'at+jwt', byte), Buffer.from(claims));
      expect(await reasonOf(verifier.verify(badHeader))).toBe('credentials_malformed');
    }
    // A byte-order mark is not part of JSON either.
    const bom = signed(
      Buffer.from(header),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(claims)]),
    );
    expect(await reasonOf(verifier.verify(bom))).toBe('credentials_malformed');
  });

  it('a 5-segment token (JWE) -> header_rejected', async () => {
    const jwe = `${b64('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a.b.c.d`;
    expect(await reasonOf(verifier.verify(jwe))).toBe('header_rejected');
  });

  it('never puts the token in the error message', async () => {
    const token = `${parts()[0]}.${parts()[1]}.${parts()[2].slice(0, -4)}AAAA`;
    const err = await verifier.verify(token).catch((e: unknown) => e as AuthRejection);
    expect(err).toBeInstanceOf(AuthRejection);
    for (const part of parts()) expect(String((err as Error).message)).not.toContain(part.slice(0, 12));
  });
});

describe('RFC 8725 attacks on the header', () => {
  it('alg none (unsigned) -> algorithm_not_allowed', async () => {
    const token = craft({ alg: 'none', typ: 'at+jwt' }, baseClaims(), { none: true });
    expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
  });

  it('alg None/NONE variants -> algorithm_not_allowed', async () => {
    for (const alg of ['None', 'NONE', 'nOnE', '']) {
      const token = craft({ alg, kid: rsa.kid, typ: 'at+jwt' }, baseClaims(), { none: true });
      expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
    }
  });

  it('missing alg -> algorithm_not_allowed', async () => {
    const token = craft({ kid: rsa.kid, typ: 'at+jwt' }, baseClaims(), { key: rsa });
    expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
  });

  it('HS256 signed with the RSA public key (PEM and JWK) as secret -> algorithm_not_allowed', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const jwkJson = JSON.stringify(rsa.jwk);
    for (const secret of [pem, jwkJson]) {
      const token = craft({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' }, baseClaims(), {
        hmacSecret: secret,
      });
      expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
    }
  });

  it('HS256 is refused even when listed in the algorithms', async () => {
    const permissive = verifierFor([rsa], { algorithms: ['HS256', 'RS256', 'none'] });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const token = craft({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' }, baseClaims(), { hmacSecret: pem });
    expect(await reasonOf(permissive.verify(token))).toBe('algorithm_not_allowed');
  });

  it('an algorithm outside the allow-list -> algorithm_not_allowed', async () => {
    const rsOnly = verifierFor([rsa, ec], { algorithms: ['RS256'] });
    expect(await reasonOf(rsOnly.verify(await signToken(ec)))).toBe('algorithm_not_allowed');
  });

  it('a kid that names a key of another type -> algorithm_not_allowed', async () => {
    // An ES256 signature presented under the RSA key's kid.
    const token = craft({ alg: 'ES256', kid: rsa.kid, typ: 'at+jwt' }, baseClaims(), { key: ec });
    expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
  });

  it('RS256 under a PS256-pinned JWK (JWK alg must match the header) -> algorithm_not_allowed', async () => {
    const token = craft({ alg: 'RS256', kid: ps.kid, typ: 'at+jwt' }, baseClaims(), {
      key: { ...ps, alg: 'RS256' },
    });
    expect(await reasonOf(verifier.verify(token))).toBe('algorithm_not_allowed');
  });

  it.each(['jwk', 'jku', 'x5u', 'x5c'])(
    'a %s header -> header_rejected (keys are never taken from the token)',
    async (param) => {
      const attacker = await makeKey('RS256');
      const values: Record<string, unknown> = {
        jwk: attacker.jwk,
        jku: 'https://attacker.test/jwks',
        x5u: 'https://attacker.test/cert.pem',
        x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
      };
      const token = craft(
        { alg: 'RS256', kid: attacker.kid, typ: 'at+jwt', [param]: values[param] },
        baseClaims(),
        { key: attacker },
      );
      expect(await reasonOf(verifier.verify(token))).toBe('header_rejected');
    },
  );

  it.each([
    ['crit', { crit: ['exp'] }],
    ['crit with an unknown extension', { crit: ['urn:example'], 'urn:example': true }],
    ['b64: false (RFC 7797)', { b64: false, crit: ['b64'] }],
    ['b64 without crit', { b64: false }],
    ['zip', { zip: 'DEF' }],
    ['enc', { enc: 'A256GCM' }],
  ])('%s -> header_rejected', async (_name, extra) => {
    const token = craft({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', ...extra }, baseClaims(), { key: rsa });
    expect(await reasonOf(verifier.verify(token))).toBe('header_rejected');
  });

  it('a non-string kid -> credentials_malformed', async () => {
    const token = craft({ alg: 'RS256', kid: 7, typ: 'at+jwt' }, baseClaims(), { key: rsa });
    expect(await reasonOf(verifier.verify(token))).toBe('credentials_malformed');
  });
});

describe('signature', () => {
  it('a signature by another key with the same kid -> signature_invalid', async () => {
    const impostor = await makeKey('RS256', rsa.kid);
    expect(await reasonOf(verifier.verify(await signToken(impostor)))).toBe('signature_invalid');
  });

  it('a payload changed after signing -> signature_invalid', async () => {
    const [h, , s] = (await signToken(rsa)).split('.');
    const forged = `${h}.${b64(JSON.stringify({ ...baseClaims(), sub: 'admin' }))}.${s}`;
    expect(await reasonOf(verifier.verify(forged))).toBe('signature_invalid');
  });

  it.each(ALGS)('%s: a truncated or empty signature -> signature_invalid', async (alg) => {
    const key = { RS256: rsa, PS256: ps, ES256: ec, EdDSA: ed }[alg];
    const [h, p, s] = (await signToken(key)).split('.') as [string, string, string];
    const shorter = b64(Buffer.from(s, 'base64url').subarray(0, 10));
    expect(await reasonOf(verifier.verify(`${h}.${p}.${shorter}`))).toBe('signature_invalid');
    expect(await reasonOf(verifier.verify(`${h}.${p}.`))).toBe('signature_invalid');
  });

  it('an ES256 signature in DER form (not r||s) -> signature_invalid', async () => {
    const { sign } = await import('node:crypto');
    const [h, p] = (await signToken(ec)).split('.') as [string, string, string];
    const der = sign('sha256', Buffer.from(`${h}.${p}`), ec.privateKey);
    expect(await reasonOf(verifier.verify(`${h}.${p}.${b64(der)}`))).toBe('signature_invalid');
  });

  it('an unknown kid in a local key set -> key_unknown', async () => {
    const stranger = await makeKey('RS256');
    expect(await reasonOf(verifier.verify(await signToken(stranger)))).toBe('key_unknown');
  });
});

describe('keys', () => {
  it('an RSA key below 2048 bits is ignored', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak: TestKey = {
      alg: 'RS256',
      kid: 'weak',
      publicKey,
      privateKey,
      jwk: { ...(await exportJWK(publicKey)), kid: 'weak', alg: 'RS256' },
    };
    const keys = createLocalKeySet({ keys: [weak.jwk] }, { algorithms: ['RS256'] });
    expect(keys.size).toBe(0);
    const weakVerifier = createJwtVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256'],
      keys,
    });
    // jose refuses to sign with a weak key; node:crypto does not.
    const token = craft({ alg: 'RS256', kid: 'weak', typ: 'at+jwt' }, baseClaims(), { key: weak });
    expect(await reasonOf(weakVerifier.verify(token))).toBe('key_unknown');
  });

  it('private, symmetric, enc-use and malformed JWKs are ignored', async () => {
    const privateJwk = await exportJWK(rsa.privateKey);
    const keys = createLocalKeySet(
      {
        keys: [
          { ...privateJwk, kid: 'private' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
          { ...rsa.jwk, kid: 'enc', use: 'enc' },
          { ...rsa.jwk, kid: 'ops', key_ops: ['encrypt'] },
          { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA', kid: 'k1' },
          { kty: 'RSA', kid: 'broken', n: 'AA', e: 'AQAB' },
          'not a key',
          null,
        ],
      },
      { algorithms: [...ALGS] },
    );
    expect(keys.size).toBe(0);
  });

  it('a token without kid is accepted only when exactly one key fits its algorithm', async () => {
    const lone = verifierFor([rsa, ec]);
    const noKid = await signToken(rsa, {}, { kid: undefined });
    await expect(lone.verify(noKid)).resolves.toMatchObject({ kid: undefined });
    const other = await makeKey('RS256');
    const ambiguous = verifierFor([rsa, other]);
    expect(await reasonOf(ambiguous.verify(noKid))).toBe('key_unknown');
  });
});

describe('token type', () => {
  it('typ JWT when at+jwt is required -> token_type_mismatch', async () => {
    expect(await reasonOf(verifier.verify(await signToken(rsa, {}, { typ: 'JWT' })))).toBe(
      'token_type_mismatch',
    );
  });

  it('no typ when at+jwt is required -> token_type_mismatch', async () => {
    expect(await reasonOf(verifier.verify(await signToken(rsa, {}, { typ: undefined })))).toBe(
      'token_type_mismatch',
    );
  });

  it.each(['nonce', 'at_hash', 'c_hash'])(
    'an ID token (with %s) is refused even when any typ is accepted',
    async (claim) => {
      const lax = verifierFor([rsa], { tokenType: null });
      await expect(lax.verify(await signToken(rsa, {}, { typ: 'JWT' }))).resolves.toBeTruthy();
      const idToken = await signToken(rsa, { [claim]: 'x' }, { typ: 'JWT' });
      expect(await reasonOf(lax.verify(idToken))).toBe('token_type_mismatch');
    },
  );
});

describe('claims', () => {
  it.each([
    ['another issuer', { iss: 'https://evil.test' }, 'issuer_mismatch'],
    ['the issuer with a trailing slash', { iss: `${ISSUER}/` }, 'issuer_mismatch'],
    ['no issuer', { iss: undefined }, 'claims_invalid'],
    ['another audience', { aud: 'https://other.test' }, 'audience_mismatch'],
    ['an audience array without ours', { aud: ['https://a.test', 'https://b.test'] }, 'audience_mismatch'],
    ['no audience', { aud: undefined }, 'claims_invalid'],
    ['an empty audience array', { aud: [] }, 'claims_invalid'],
    ['a non-string audience entry', { aud: [AUDIENCE, 5] }, 'claims_invalid'],
    ['no exp', { exp: undefined }, 'claims_invalid'],
    ['a string exp', { exp: String(nowSec() + 600) }, 'claims_invalid'],
    ['an expired token', { exp: nowSec() - 60 }, 'token_expired'],
    ['nbf in the future', { nbf: nowSec() + 120 }, 'token_not_yet_valid'],
    ['iat in the future', { iat: nowSec() + 120 }, 'token_not_yet_valid'],
    ['a string nbf', { nbf: 'soon' }, 'claims_invalid'],
    ['no sub', { sub: undefined }, 'claims_invalid'],
    ['an empty sub', { sub: '' }, 'claims_invalid'],
    ['a numeric sub', { sub: 42 }, 'claims_invalid'],
    ['a numeric jti', { jti: 42 }, 'claims_invalid'],
    ['an object sid', { sid: { id: 1 } }, 'claims_invalid'],
    ['a numeric client_id', { client_id: 7 }, 'claims_invalid'],
  ])('%s -> %s', async (_name, claims, reason) => {
    expect(await reasonOf(verifier.verify(await signToken(rsa, claims)))).toBe(reason);
  });

  it('uses the injected clock', async () => {
    const token = await signToken(rsa, { exp: nowSec() + 60 });
    const future = verifierFor([rsa], { clock: () => Date.now() + 3_600_000 });
    expect(await reasonOf(future.verify(token))).toBe('token_expired');
  });

  it('checks the signature before the claims', async () => {
    const impostor = await makeKey('RS256', rsa.kid);
    const token = await signToken(impostor, { exp: nowSec() - 3600, iss: 'https://evil.test' });
    expect(await reasonOf(verifier.verify(token))).toBe('signature_invalid');
  });
});

describe('options', () => {
  it('refuses a verifier with no usable algorithm or an absurd tolerance', () => {
    const keys = createLocalKeySet({ keys: [] }, { algorithms: ['RS256'] });
    expect(() =>
      createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256', 'none'], keys }),
    ).toThrow(RangeError);
    expect(() =>
      createJwtVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['RS256'],
        keys,
        clockToleranceSec: 9999,
      }),
    ).toThrow(RangeError);
  });
});
