// Property-based: random and mutated tokens through the REAL OIDC adapter and strict parser (not a test
// double). Whatever arrives, verify never throws, never accepts anything but the genuine tokens, answers
// with a reason code, and never echoes the credential in its message or challenge.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../src/core/reasons';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import { AUDIENCE, b64, ISSUER, type JwksServer, makeKey, signToken, startJwksServer } from './jwt-fixtures';

let server: JwksServer;
let plane: IdentityPlane;
let genuine: string[] = [];

beforeAll(async () => {
  const rs = await makeKey('RS256');
  const es = await makeKey('ES256');
  server = await startJwksServer([rs.jwk, es.jwk]);
  plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: server.url,
    algorithms: ['RS256', 'ES256'],
    allowInsecureRequests: true,
  });
  genuine = [await signToken(rs), await signToken(es)];
});

afterAll(async () => {
  await plane?.close();
  await server?.close();
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \t\n%"{}é\u0000'.split(
  '',
);
const char = fc.constantFrom(...ALPHABET);

/** A genuine token changed in one place: a character replaced, inserted or removed, or a cut. */
const mutated = fc
  .tuple(fc.nat(1), fc.nat(4000), fc.constantFrom('replace', 'insert', 'delete', 'truncate'), char)
  .map(([which, at, how, c]) => {
    const token = genuine[which] as string;
    const i = at % token.length;
    if (how === 'replace') return token.slice(0, i) + c + token.slice(i + 1);
    if (how === 'insert') return token.slice(0, i) + c + token.slice(i);
    if (how === 'delete') return token.slice(0, i) + token.slice(i + 1);
    return token.slice(0, i);
  });

/** A genuine signature under a header or payload the attacker chose. */
const resegmented = fc
  .tuple(
    fc.nat(1),
    fc.constantFrom('header', 'payload'),
    fc.oneof(
      fc.jsonValue(),
      fc.record({
        alg: fc.constantFrom('none', 'None', 'HS256', 'RS256', 'ES256', 'EdDSA', 'PS256', ''),
        kid: fc.oneof(fc.string(), fc.constant(undefined)),
        typ: fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt', 'jwt', undefined),
        crit: fc.option(fc.array(fc.string(), { maxLength: 2 }), { nil: undefined }),
        jwk: fc.option(fc.object(), { nil: undefined }),
        b64: fc.option(fc.boolean(), { nil: undefined }),
      }),
    ),
  )
  .map(([which, part, value]) => {
    const [header, payload, signature] = (genuine[which] as string).split('.');
    const swapped = b64(JSON.stringify(value) ?? 'null');
    return part === 'header' ? `${swapped}.${payload}.${signature}` : `${header}.${swapped}.${signature}`;
  });

const anything = fc.oneof(fc.string(), fc.string({ unit: char, maxLength: 400 }), mutated, resegmented);

describe('the OIDC adapter under random and mutated tokens', () => {
  it('never throws, never accepts a changed token, always gives a safe reason', async () => {
    await fc.assert(
      fc.asyncProperty(anything, async (token) => {
        const result = await plane.verify(token);
        if (result.ok) {
          expect(genuine).toContain(token);
          return;
        }
        expect(REASON_CODES).toContain(result.failure.reason);
        // The issuer is up: garbage is a 4xx decision, never an outage.
        expect(result.failure.reason).not.toBe('provider_unavailable');
        for (let i = 0; i + 16 <= token.length; i += 8) {
          const piece = token.slice(i, i + 16);
          expect(result.failure.message).not.toContain(piece);
          expect(result.failure.challenge ?? '').not.toContain(piece);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('still accepts the genuine tokens afterwards (no state was poisoned)', async () => {
    for (const token of genuine) expect((await plane.verify(token)).ok).toBe(true);
  });
});
