import { AuthRejection } from '../core/failure';
import { buildKeyIndex } from './key-index';
import type { KeyResolver, VerificationKey } from './types';

/**
 * A fixed key set (no network), e.g. a legacy issuer's public key or a JWKS file. Every answer is
 * synchronous; a key not in the set is `key_unknown`.
 *
 * @example
 * ```ts
 * const keys = createLocalKeySet({ keys: [publicJwk] }, { algorithms: ['RS256'] });
 * const verifier = createJwtVerifier({ keys, issuer, audience, algorithms: ['RS256'] });
 * ```
 */
export function createLocalKeySet(
  jwks: { readonly keys: readonly unknown[] },
  options: { algorithms: readonly string[]; maxKeys?: number },
): KeyResolver & { readonly size: number } {
  const { index } = buildKeyIndex(jwks.keys, {
    algorithms: options.algorithms,
    maxKeys: options.maxKeys ?? 64,
  });
  return Object.freeze({
    size: index.keys.length,
    resolve(kid: string | undefined, alg: string): VerificationKey {
      const key = index.find(kid, alg);
      if (key === undefined) throw new AuthRejection('key_unknown');
      return key;
    },
  });
}
