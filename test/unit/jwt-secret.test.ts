// The src/jwt additions for legacy issuers: HMAC secrets (symmetric verifiers only) and explicit null
// issuer/audience/subject checks.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import { createJwtVerifier, createLocalKeySet, createSecretKey } from '../../src/jwt/index';
import { makeKey, signToken } from './jwt-fixtures';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const b64 = (v: string) => Buffer.from(v).toString('base64url');
const hs = (claims: Record<string, unknown>, alg = 'HS256', secret = SECRET) => {
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256';
  return `${input}.${createHmac(digest, secret).update(input).digest('base64url')}`;
};
const exp = () => Math.floor(Date.now() / 1000) + 60;
const reason = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof AuthRejection) return err.reason;
    throw err;
  }
};

describe('createSecretKey + symmetric verifier', () => {
  const base = { issuer: null, audience: null, tokenType: null, requireSubject: false } as const;

  it('verifies HS256 and only the configured HMAC algorithms', () => {
    const v = createJwtVerifier({
      ...base,
      keys: createSecretKey(SECRET, { algorithms: ['HS256'] }),
      algorithms: ['HS256'],
      symmetric: true,
    });
    expect(reason(() => v.check(hs({ exp: exp() })))).toBe('ok');
    expect(reason(() => v.check(hs({ exp: exp() }, 'HS512')))).toBe('algorithm_not_allowed');
    expect(reason(() => v.check(hs({ exp: exp() }, 'HS256', `${SECRET}x`)))).toBe('signature_invalid');
    expect(reason(() => v.check(hs({ exp: exp() - 3600 })))).toBe('token_expired');
  });

  it('a symmetric verifier refuses asymmetric tokens; an asymmetric one never uses a secret', async () => {
    const rsa = await makeKey('RS256');
    const sym = createJwtVerifier({
      ...base,
      keys: createSecretKey(SECRET, { algorithms: ['HS256'] }),
      algorithms: ['HS256', 'RS256'],
      symmetric: true,
    });
    expect(reason(() => sym.check(hs({ exp: exp() })))).toBe('ok');
    expect(
      reason(() => sym.check(hs({ exp: exp() }).replace(/^[^.]+/, b64(JSON.stringify({ alg: 'RS256' }))))),
    ).toBe('algorithm_not_allowed');
    const token = await signToken(rsa);
    expect(reason(() => sym.check(token))).toBe('algorithm_not_allowed');

    const asym = createJwtVerifier({
      ...base,
      keys: createSecretKey(SECRET, { algorithms: ['HS256'] }),
      algorithms: ['HS256', 'RS256'],
    });
    expect(reason(() => asym.check(hs({ exp: exp() })))).toBe('algorithm_not_allowed');
    // A symmetric verifier over a public key set finds no key for HS256: refused all the same.
    const wrong = createJwtVerifier({
      ...base,
      keys: createLocalKeySet({ keys: [rsa.jwk] }, { algorithms: ['RS256'] }),
      algorithms: ['HS256'],
      symmetric: true,
    });
    expect(reason(() => wrong.check(hs({ exp: exp() })))).toBe('key_unknown'); // no public key verifies HS256
  });

  it('refuses short secrets, non-HMAC algorithms and verifiers without an issuer/audience decision', () => {
    expect(() => createSecretKey('x'.repeat(31), { algorithms: ['HS256'] })).toThrow(RangeError);
    expect(() => createSecretKey(SECRET, { algorithms: ['RS256'] })).toThrow(RangeError);
    const keys = createSecretKey(SECRET, { algorithms: ['HS256'] });
    expect(() => createJwtVerifier({ ...base, keys, algorithms: ['RS256'], symmetric: true })).toThrow(
      RangeError,
    );
    expect(() =>
      createJwtVerifier({ keys, algorithms: ['HS256'], symmetric: true } as unknown as Parameters<
        typeof createJwtVerifier
      >[0]),
    ).toThrow(/issuer and audience/);
  });

  it('null issuer/audience skip the checks but still type-check present claims; requireSubject false allows no sub', () => {
    const v = createJwtVerifier({
      ...base,
      keys: createSecretKey(SECRET, { algorithms: ['HS256'] }),
      algorithms: ['HS256'],
      symmetric: true,
    });
    expect(reason(() => v.check(hs({ exp: exp(), iss: 'x', aud: ['a'] })))).toBe('ok');
    expect(reason(() => v.check(hs({ exp: exp(), iss: 7 })))).toBe('claims_invalid');
    expect(reason(() => v.check(hs({ exp: exp(), aud: [1] })))).toBe('claims_invalid');
    expect(reason(() => v.check(hs({ exp: exp(), sub: '' })))).toBe('claims_invalid');
    const strict = createJwtVerifier({
      ...base,
      issuer: 'iss',
      audience: 'aud',
      requireSubject: true,
      keys: createSecretKey(SECRET, { algorithms: ['HS256'] }),
      algorithms: ['HS256'],
      symmetric: true,
    });
    expect(reason(() => strict.check(hs({ exp: exp(), iss: 'iss', aud: 'aud' })))).toBe('claims_invalid');
    expect(reason(() => strict.check(hs({ exp: exp(), iss: 'iss', aud: 'aud', sub: 'u' })))).toBe('ok');
  });
});
