import { createHash, createSecretKey as nodeSecretKey } from 'node:crypto';
import type { KeyResolver, VerificationKey, VerifyArgs } from './types';

/** Shortest HMAC secret accepted: 256 bits, the output size of HS256 (RFC 7518 §3.2). */
export const MIN_HMAC_SECRET_BYTES = 32;

const HMAC = {
  HS256: { digest: 'sha256', length: 32 },
  HS384: { digest: 'sha384', length: 48 },
  HS512: { digest: 'sha512', length: 64 },
} as const;

/**
 * An HMAC algorithm `createSecretKey` can pin a secret to.
 *
 * @example
 * ```ts
 * const alg: HmacAlgorithm = 'HS256';
 * ```
 */
export type HmacAlgorithm = keyof typeof HMAC;

/**
 * One shared HMAC secret as a key resolver, for issuers that sign with a secret (a legacy SimpleJWT
 * `SIGNING_KEY`). Use it only with `createJwtVerifier({ symmetric: true, … })`, which then refuses
 * every asymmetric algorithm, so the secret can never be confused with a public key or the other way
 * round. The header `kid` is ignored: there is exactly one key. The secret is copied into a
 * `KeyObject`; it never appears in an error.
 *
 * @throws RangeError for a secret shorter than 32 bytes (or `minBytes`) or an algorithm outside HS256/384/512.
 * @example
 * ```ts
 * const keys = createSecretKey(process.env.LEGACY_SECRET!, { algorithms: ['HS256'] });
 * const verifier = createJwtVerifier({ keys, symmetric: true, algorithms: ['HS256'], issuer: null,
 *   audience: null, tokenType: null, requireSubject: false });
 * ```
 */
export function createSecretKey(
  secret: string | Uint8Array,
  options: {
    algorithms: readonly string[];
    /** Shortest secret accepted. Default 32; lower only for an explicitly allowed weak legacy key. */
    minBytes?: number;
  },
): KeyResolver {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const minBytes = Math.max(1, options.minBytes ?? MIN_HMAC_SECRET_BYTES);
  if (bytes.length < minBytes) {
    bytes.fill(0);
    throw new RangeError(`an HMAC secret must be at least ${minBytes} bytes`);
  }
  const verifyArgs = new Map<string, VerifyArgs>();
  const keyObject = nodeSecretKey(bytes);
  for (const alg of options.algorithms) {
    const spec = HMAC[alg as HmacAlgorithm];
    if (!spec) throw new RangeError('algorithms of a secret key must be HS256, HS384 or HS512');
    verifyArgs.set(alg, Object.freeze({ digest: spec.digest, key: keyObject, signatureLength: spec.length }));
  }
  if (verifyArgs.size === 0) throw new RangeError('a secret key needs at least one algorithm');
  const key: VerificationKey = Object.freeze({
    kid: undefined,
    kty: 'oct',
    algorithms: new Set(verifyArgs.keys()),
    keyObject,
    // A digest, not the secret: fingerprints may be compared or logged by key caches.
    fingerprint: `oct|${createHash('sha256').update(bytes).digest('base64url')}`,
    verifyArgs,
  });
  bytes.fill(0);
  return Object.freeze({
    resolve(_kid: string | undefined, _alg: string): VerificationKey {
      return key;
    },
  });
}
