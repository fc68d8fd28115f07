import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from 'aws-jwt-verify';
import { createVerifier } from 'fast-jwt';
import { createRemoteJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { createIdentityPlane } from '../src/index';
import { type Contender, measureAll, report } from './harness';

type Alg = 'RS256' | 'ES256' | 'EdDSA';
const ALGS: readonly Alg[] = ['RS256', 'ES256', 'EdDSA'];
const TOKENS_PER_ALG = 4000;
const AUDIENCE = 'https://api.bench.local';

interface Fixture {
  alg: Alg;
  kid: string;
  publicJwk: JWK;
  publicKey: KeyObject;
  publicPem: string;
  tokens: string[];
}

async function fixture(alg: Alg, issuer: string): Promise<Fixture> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
  });
  const kid = `bench-${alg.toLowerCase()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const nodeKey = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  // Fresh tokens each call: distinct jti and sub, so no verifier can serve a memoised answer.
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: TOKENS_PER_ALG }, (_, i) =>
      new SignJWT({ scope: 'read write', org_id: 'org_bench', client_id: 'bench' })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject(`user-${i}`)
        .setJti(`jti-${alg}-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    ),
  );
  return {
    alg,
    kid,
    publicJwk,
    publicKey: nodeKey,
    publicPem: nodeKey.export({ type: 'spki', format: 'pem' }).toString(),
    tokens,
  };
}

/** Signature-only verify with a cached KeyObject: the physical limit of any JWT verifier on node. */
function signatureOnly(f: Fixture): (token: string) => boolean {
  const options = f.alg === 'ES256' ? { key: f.publicKey, dsaEncoding: 'ieee-p1363' as const } : f.publicKey;
  const digest = f.alg === 'EdDSA' ? null : 'sha256';
  return (token) => {
    const dot = token.lastIndexOf('.');
    return cryptoVerify(
      digest,
      Buffer.from(token.slice(0, dot)),
      options,
      Buffer.from(token.slice(dot + 1), 'base64url'),
    );
  };
}

function must(ok: unknown, name: string): void {
  if (!ok) throw new Error(`${name} rejected a valid benchmark token`);
}

/**
 * `npm run bench` part 1: verifications per second of one warm verifier per library, fresh tokens each call.
 */
export async function benchJwtVerify(durationMs: number): Promise<void> {
  const keys: JWK[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${issuer}/jwks`;
  const fixtures = await Promise.all(ALGS.map((alg) => fixture(alg, issuer)));
  keys.push(...fixtures.map((f) => f.publicJwk));

  const planeWith = (maxCachedTokens: number) =>
    createIdentityPlane({
      provider: 'oidc',
      issuer,
      audience: AUDIENCE,
      jwksUri,
      algorithms: [...ALGS],
      allowInsecureRequests: true,
      tokenCache: { maxEntries: maxCachedTokens },
    });
  // Fresh tokens each call means every token is verified: the verified-token cache is off for the
  // comparison, and measured on its own (reused tokens) in an info row.
  const plane = await planeWith(0);
  const cachedPlane = await planeWith(10_000);
  const joseJwks = createRemoteJWKSet(new URL(jwksUri));
  const aws = JwtVerifier.create({ issuer, audience: AUDIENCE, jwksUri });
  // aws-jwt-verify fetches only over https; give it the same JWKS directly (the warm state hydrate() reaches).
  aws.cacheJwks({ keys: keys as never });

  try {
    for (const f of fixtures) {
      const n = f.tokens.length;
      const tok = (i: number) => f.tokens[i % n] as string;
      const fast = createVerifier({
        key: f.publicPem,
        algorithms: [f.alg],
        allowedIss: issuer,
        allowedAud: AUDIENCE,
      });
      const sig = signatureOnly(f);
      const contenders: Contender[] = [
        {
          name: 'node:crypto verify (signature only, limit)',
          role: 'limit',
          run: (i) => must(sig(tok(i)), 'node:crypto'),
        },
        {
          name: 'authplane plane.verify (oidc, token cache off)',
          role: 'authplane',
          run: async (i) => must((await plane.verify(tok(i))).ok, 'authplane'),
        },
        {
          name: 'authplane, reused tokens (token cache, info)',
          role: 'info',
          run: async (i) => must((await cachedPlane.verify(tok(i))).ok, 'authplane cached'),
        },
        {
          name: 'jose jwtVerify (remote JWKS, warm)',
          role: 'peer',
          run: async (i) =>
            must(await jwtVerify(tok(i), joseJwks, { issuer, audience: AUDIENCE, typ: 'at+jwt' }), 'jose'),
        },
        {
          name: 'fast-jwt createVerifier (PEM key, sync)',
          role: 'peer',
          run: (i) => must(fast(tok(i)), 'fast-jwt'),
        },
        {
          name: 'aws-jwt-verify verify (hydrated)',
          role: 'peer',
          run: async (i) => must(await aws.verify(tok(i)), 'aws'),
        },
        {
          name: 'aws-jwt-verify verifySync (hydrated)',
          role: 'peer',
          run: (i) => must(aws.verifySync(tok(i)), 'aws sync'),
        },
      ];
      const rows = await measureAll(contenders, durationMs);
      report(`JWT verification, ${f.alg}, ${n} distinct tokens, sequential calls`, rows);
    }
  } finally {
    await plane.close();
    await cachedPlane.close();
    server.close();
  }
}
