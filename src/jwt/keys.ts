import { constants, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { VerificationKey, VerifyArgs } from './types';

/** Smallest RSA modulus accepted (RFC 7518 §3.3, NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048;

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const EC_ALG_BY_CURVE: Readonly<Record<string, { alg: string; sigLen: number }>> = {
  'P-256': { alg: 'ES256', sigLen: 64 },
  'P-384': { alg: 'ES384', sigLen: 96 },
  'P-521': { alg: 'ES512', sigLen: 132 },
};
/** Ed25519 keys verify both the polymorphic `EdDSA` and the fully specified `Ed25519` (RFC 9864). */
const ED25519_ALGS = ['EdDSA', 'Ed25519'] as const;

/**
 * The outcome of importing one JWK: a key, or why it was ignored (for diagnostics, never thrown:
 * one unusable key must not take a whole key set down).
 *
 * @example
 * ```ts
 * const result = importJwk(jwk, ['RS256']);
 * if (!result.ok) console.debug(result.ignored);
 * ```
 */
export type ImportResult =
  | { readonly ok: true; readonly value: VerificationKey }
  | { readonly ok: false; readonly ignored: string };

/**
 * Imports a public JWK as a node `KeyObject`, pinned to the algorithms its type allows:
 * RSA (>= 2048 bits) to RS and PS, EC P-256/384/521 to ES256/384/512 exactly, OKP Ed25519 to
 * EdDSA/Ed25519. A JWK `alg` must be one of those and narrows the set to it; `use` must be `sig`
 * when present, `key_ops` must contain `verify` when present. Private keys, `oct` keys, other
 * curves and algorithms outside `allowed` are ignored.
 *
 * @example
 * ```ts
 * const result = importJwk({ kty: 'RSA', kid: 'k1', n, e: 'AQAB' }, ['RS256', 'PS256']);
 * ```
 */
export function importJwk(jwk: unknown, allowed: readonly string[]): ImportResult {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return ignored('not an object');
  const j = jwk as Record<string, unknown>;
  const kid = j.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) return ignored('kid not a string');
  if (j.d !== undefined || j.p !== undefined || j.k !== undefined) return ignored('private or symmetric key');
  if (j.use !== undefined && j.use !== 'sig') return ignored('use is not sig');
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) {
    return ignored('key_ops lacks verify');
  }
  if (j.alg !== undefined && typeof j.alg !== 'string') return ignored('alg not a string');

  let candidates: readonly string[];
  let publicJwk: JsonWebKey;
  let sigLen = 0;
  switch (j.kty) {
    case 'RSA':
      if (typeof j.n !== 'string' || typeof j.e !== 'string') return ignored('RSA key without n/e');
      candidates = RSA_ALGS;
      publicJwk = { kty: 'RSA', n: j.n, e: j.e };
      break;
    case 'EC': {
      const curve = typeof j.crv === 'string' ? EC_ALG_BY_CURVE[j.crv] : undefined;
      if (!curve || typeof j.x !== 'string' || typeof j.y !== 'string') return ignored('unsupported EC key');
      candidates = [curve.alg];
      sigLen = curve.sigLen;
      publicJwk = { kty: 'EC', crv: j.crv as string, x: j.x, y: j.y };
      break;
    }
    case 'OKP':
      if (j.crv !== 'Ed25519' || typeof j.x !== 'string') return ignored('unsupported OKP key');
      candidates = ED25519_ALGS;
      sigLen = 64;
      publicJwk = { kty: 'OKP', crv: 'Ed25519', x: j.x };
      break;
    default:
      return ignored('unsupported kty');
  }

  let algorithms = candidates.filter((alg) => allowed.includes(alg));
  if (typeof j.alg === 'string') {
    if (!candidates.includes(j.alg)) return ignored('alg does not fit the key type');
    // EdDSA and Ed25519 name the same operation on an Ed25519 key.
    const same: readonly string[] = j.kty === 'OKP' ? ED25519_ALGS : [j.alg];
    algorithms = algorithms.filter((alg) => same.includes(alg));
  }
  if (algorithms.length === 0) return ignored('no allowed algorithm fits the key');

  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: publicJwk, format: 'jwk' });
  } catch {
    return ignored('invalid key material');
  }
  if (j.kty === 'RSA') {
    const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return ignored('RSA modulus below 2048 bits');
    sigLen = Math.ceil(bits / 8);
  }

  const verifyArgs = new Map<string, VerifyArgs>();
  for (const alg of algorithms) verifyArgs.set(alg, buildVerifyArgs(alg, keyObject, sigLen));
  const value: VerificationKey = Object.freeze({
    kid: kid as string | undefined,
    kty: j.kty as 'RSA' | 'EC' | 'OKP',
    algorithms: new Set(algorithms),
    keyObject,
    fingerprint: fingerprintOf(j, algorithms),
    verifyArgs,
  });
  return { ok: true, value };
}

/**
 * The identity of a JWK's public material and usage, used to keep an imported key across refetches.
 *
 * @example
 * ```ts
 * fingerprintOf({ kty: 'OKP', crv: 'Ed25519', x: '…', kid: 'k1' }, ['EdDSA']); // 'OKP|k1|Ed25519|…|EdDSA'
 * ```
 */
export function fingerprintOf(j: Record<string, unknown>, algorithms: readonly string[]): string {
  return [j.kty, j.kid, j.crv, j.n, j.e, j.x, j.y, algorithms.join(',')].map((v) => v ?? '').join('|');
}

function buildVerifyArgs(alg: string, key: KeyObject, signatureLength: number): VerifyArgs {
  const bits = alg.slice(2);
  const digest = alg === 'EdDSA' || alg === 'Ed25519' ? null : `sha${bits}`;
  switch (alg.slice(0, 2)) {
    case 'PS':
      return Object.freeze({
        digest,
        // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the hash length.
        key: Object.freeze({
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: Number(bits) / 8,
        }),
        signatureLength,
      });
    case 'ES':
      // JWS carries r||s (IEEE P1363), not DER.
      return Object.freeze({
        digest,
        key: Object.freeze({ key, dsaEncoding: 'ieee-p1363' }),
        signatureLength,
      });
    default:
      return Object.freeze({ digest, key, signatureLength });
  }
}

function ignored(why: string): ImportResult {
  return { ok: false, ignored: why };
}
