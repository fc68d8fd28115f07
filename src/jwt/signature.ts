import { createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { AuthRejection } from '../core/failure';
import type { VerificationKey } from './types';

/**
 * Verifies a JWS signature synchronously with an imported key (an HMAC secret is compared in constant time). The algorithm must be one the key
 * is pinned to (else `algorithm_not_allowed`: e.g. a `kid` naming an RSA key under `ES256`); a
 * signature of the wrong length or that does not verify is `signature_invalid`.
 *
 * @example
 * ```ts
 * verifySignature('RS256', key, jws.signingInput, jws.signature);
 * ```
 */
export function verifySignature(alg: string, key: VerificationKey, data: Buffer, signature: Buffer): void {
  const args = key.verifyArgs.get(alg);
  if (args === undefined) {
    throw new AuthRejection('algorithm_not_allowed', 'The token algorithm does not match its key');
  }
  if (signature.length !== args.signatureLength) throw new AuthRejection('signature_invalid');
  if (key.kty === 'oct') {
    // HMAC: recompute and compare in constant time (crypto.verify is for asymmetric keys only).
    const mac = createHmac(args.digest as string, args.key as KeyObject)
      .update(data)
      .digest();
    if (!timingSafeEqual(mac, signature)) throw new AuthRejection('signature_invalid');
    return;
  }
  let ok: boolean;
  try {
    // The key argument is a KeyObject or a frozen options object; both are what crypto.verify takes.
    ok = verify(args.digest, data, args.key as Parameters<typeof verify>[2], signature);
  } catch (cause) {
    throw new AuthRejection('signature_invalid', undefined, { cause });
  }
  if (!ok) throw new AuthRejection('signature_invalid');
}
