import { AuthRejection } from '../../core/failure';
import { parseCompactJws } from '../../jwt/compact';
import { importJwk } from '../../jwt/keys';
import { verifySignature } from '../../jwt/signature';
import type { NodeRequestLike, RequestLike } from '../types';
import { normalizeHtu } from './request-target';
import { jwkThumbprint, sha256Base64url } from './thumbprint';

/**
 * Asymmetric JWS algorithms a DPoP proof may use by default (RFC 9449 §4.2: never `none`, never a MAC).
 *
 * @example
 * ```ts
 * createIdentityPlane({ provider: 'oidc', issuer, audience, dpop: { algorithms: ['ES256'] } });
 * ```
 */
export const DPOP_ALGORITHMS = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const);

/**
 * A DPoP proof algorithm.
 *
 * @example
 * ```ts
 * const alg: DpopAlgorithm = 'ES256';
 * ```
 */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * Largest DPoP header accepted, in characters. A proof is a small JWT whose header embeds a public key:
 * 8 KiB holds an RSA-4096 key with room to spare; anything longer is refused before it is decoded.
 *
 * @example
 * ```ts
 * proof.length <= MAX_DPOP_PROOF_BYTES;
 * ```
 */
export const MAX_DPOP_PROOF_BYTES = 8192;

const JWS_CHARS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JTI = 256;

/**
 * The DPoP header of a request: its one value, `null` when absent.
 *
 * @throws AuthRejection `dpop_proof_invalid` for several DPoP headers (RFC 9449 §4.3 step 1), or a value
 * above {@link MAX_DPOP_PROOF_BYTES} or with characters a compact JWS cannot hold.
 * @example
 * ```ts
 * const proof = readDpopHeader(request); // 'eyJ0eXAiOiJkcG9wK2p3dCIs…' or null
 * ```
 */
export function readDpopHeader(request: RequestLike): string | null {
  const values: string[] = [];
  const headers = (request as { headers?: unknown }).headers;
  if (typeof (headers as Headers | undefined)?.get === 'function') {
    const value = (headers as Headers).get('dpop');
    if (value !== null) values.push(value);
  } else {
    const raw = (request as NodeRequestLike).rawHeaders;
    if (Array.isArray(raw)) {
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i];
        const value = raw[i + 1];
        if (typeof name === 'string' && name.length === 4 && name.toLowerCase() === 'dpop') {
          if (typeof value === 'string') values.push(value);
        }
      }
    }
    if (values.length === 0) {
      const value = (headers as Record<string, unknown> | undefined)?.dpop;
      if (typeof value === 'string') values.push(value);
      else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') values.push(v);
    }
  }
  if (values.length === 0) return null;
  if (values.length > 1) throw proofInvalid('More than one DPoP header was presented');
  const value = (values[0] as string).trim();
  if (value.length > MAX_DPOP_PROOF_BYTES) {
    throw proofInvalid(`The DPoP proof exceeds ${MAX_DPOP_PROOF_BYTES} bytes`);
  }
  // A comma is how fetch joins repeated headers; a JWS never holds one. The class has no overlap
  // with the dots, so the match is linear.
  if (!JWS_CHARS.test(value)) {
    throw proofInvalid(
      value.includes(',') ? 'More than one DPoP proof was presented' : 'The DPoP proof is not a compact JWS',
    );
  }
  return value;
}

/**
 * What a proof must match besides its own signature.
 *
 * @example
 * ```ts
 * const expected: ProofExpectations = { method: 'GET', htu: 'https://api.example/items', accessToken, jkt, nowSec, maxAgeSec: 60, clockToleranceSec: 5, algorithms: DPOP_ALGORITHMS };
 * ```
 */
export interface ProofExpectations {
  readonly method: string;
  /** The normalized public URI of the request ({@link normalizeHtu}). */
  readonly htu: string;
  readonly accessToken: string;
  /** The token's `cnf.jkt`. */
  readonly jkt: string;
  readonly nowSec: number;
  readonly maxAgeSec: number;
  readonly clockToleranceSec: number;
  readonly algorithms: readonly string[];
}

/**
 * The parts of a verified proof the plane still needs: the replay key and the nonce.
 *
 * @example
 * ```ts
 * const { jti, nonce } = verifyDpopProof(proof, expected);
 * ```
 */
export interface VerifiedProof {
  readonly jti: string;
  readonly nonce: unknown;
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3) for a request and its bound access token, in this order:
 * compact JWS (size-capped, canonical base64url, JSON objects); `typ` is `dpop+jwt`; `alg` is one of
 * `algorithms` (asymmetric); `jwk` is a public key (a private member is refused) that fits `alg`;
 * the signature verifies with it; `jti` (string, ≤ 256), `htm` equals the method, `htu` equals the
 * request URI after normalization (no query, no fragment); `iat` within `maxAgeSec` in the past and
 * `clockToleranceSec` in the future; `ath` equals base64url(SHA-256(access token)); the RFC 7638
 * thumbprint of `jwk` equals the token's `cnf.jkt`. Every failure is `dpop_proof_invalid`. The nonce
 * and the replay check are the caller's (they need state).
 *
 * @throws AuthRejection `dpop_proof_invalid` with a message naming the failed check (never the proof).
 * @example
 * ```ts
 * verifyDpopProof(readDpopHeader(request)!, { method: 'GET', htu, accessToken, jkt, nowSec, maxAgeSec: 60, clockToleranceSec: 5, algorithms: DPOP_ALGORITHMS });
 * ```
 */
export function verifyDpopProof(proof: string, expected: ProofExpectations): VerifiedProof {
  let jws: ReturnType<typeof parseCompactJws>;
  try {
    jws = parseCompactJws(proof, MAX_DPOP_PROOF_BYTES);
  } catch {
    throw proofInvalid('The DPoP proof is not a well-formed JWT');
  }
  const { header, claims } = jws;
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
    throw proofInvalid('The DPoP proof typ is not dpop+jwt');
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !expected.algorithms.includes(alg)) {
    throw proofInvalid('The DPoP proof algorithm is not allowed');
  }
  if (header.crit !== undefined) throw proofInvalid('The DPoP proof has a crit header');
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) throw proofInvalid('The DPoP proof has no jwk');
  const j = jwk as Record<string, unknown>;
  // RFC 9449 §4.3 step 7: a private key in the header is refused outright (it would be disclosed anyway).
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
    if (j[member] !== undefined) throw proofInvalid('The DPoP proof jwk contains a private key');
  }
  const imported = importJwk({ kty: j.kty, crv: j.crv, x: j.x, y: j.y, n: j.n, e: j.e }, [alg]);
  if (!imported.ok) throw proofInvalid('The DPoP proof jwk does not fit its algorithm');
  try {
    verifySignature(alg, imported.value, jws.signingInput, jws.signature);
  } catch {
    throw proofInvalid('The DPoP proof signature is invalid');
  }

  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) {
    throw proofInvalid('The DPoP proof has no valid jti');
  }
  if (claims.htm !== expected.method)
    throw proofInvalid('The DPoP proof htm does not match the request method');
  if (normalizeHtu(claims.htu) !== expected.htu) {
    throw proofInvalid('The DPoP proof htu does not match the request URL');
  }
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw proofInvalid('The DPoP proof has no valid iat');
  if (iat > expected.nowSec + expected.clockToleranceSec)
    throw proofInvalid('The DPoP proof was issued in the future');
  if (iat < expected.nowSec - expected.maxAgeSec - expected.clockToleranceSec) {
    throw proofInvalid('The DPoP proof is too old');
  }
  if (claims.ath !== sha256Base64url(expected.accessToken)) {
    throw proofInvalid('The DPoP proof ath does not match the access token');
  }
  if (jwkThumbprint(j) !== expected.jkt) {
    throw proofInvalid('The DPoP proof key is not the key the token is bound to');
  }
  return { jti, nonce: claims.nonce };
}

function proofInvalid(message: string): AuthRejection {
  return new AuthRejection('dpop_proof_invalid', message);
}
