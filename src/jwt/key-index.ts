import { AuthRejection } from '../core/failure';
import { importJwk } from './keys';
import type { VerificationKey } from './types';

/**
 * An immutable set of imported keys, indexed by `kid` so the hot path is one `Map` lookup.
 *
 * @example
 * ```ts
 * const { index } = buildKeyIndex(jwks.keys, { algorithms: ['RS256'], maxKeys: 64 });
 * index.find('k1', 'RS256');
 * ```
 */
export class KeyIndex {
  readonly keys: readonly VerificationKey[];
  readonly #byKid = new Map<string, VerificationKey[]>();

  constructor(keys: readonly VerificationKey[]) {
    this.keys = Object.freeze([...keys]);
    for (const key of keys) {
      if (key.kid === undefined) continue;
      const list = this.#byKid.get(key.kid);
      if (list) list.push(key);
      else this.#byKid.set(key.kid, [key]);
    }
  }

  /**
   * The key for a token header, or `undefined` when no key matches (the caller may refetch).
   * A `kid` naming a key that cannot verify `alg` (another key type) is `algorithm_not_allowed`.
   * Without a `kid`, the token is accepted only if exactly one key fits `alg`; several is
   * `key_unknown` (the token does not say which one).
   */
  find(kid: string | undefined, alg: string): VerificationKey | undefined {
    if (kid !== undefined) {
      const list = this.#byKid.get(kid);
      if (list === undefined) return undefined;
      for (let i = 0; i < list.length; i++) {
        const key = list[i] as VerificationKey;
        if (key.algorithms.has(alg)) return key;
      }
      throw new AuthRejection('algorithm_not_allowed', 'The token algorithm does not match its key');
    }
    let found: VerificationKey | undefined;
    for (const key of this.keys) {
      if (!key.algorithms.has(alg)) continue;
      if (found !== undefined) {
        throw new AuthRejection('key_unknown', 'The token has no key id and several keys could verify it');
      }
      found = key;
    }
    return found;
  }
}

/**
 * Imports a JWKS `keys` array into a `KeyIndex`. Unusable keys are skipped and counted (one bad
 * key must not disable the others); at most `maxKeys` usable keys are kept, in published order.
 * Keys whose material is unchanged since `previous` are reused rather than imported again.
 *
 * @example
 * ```ts
 * const { index, ignored } = buildKeyIndex(keys, { algorithms: ['ES256'], maxKeys: 64 }, oldIndex);
 * ```
 */
export function buildKeyIndex(
  jwks: readonly unknown[],
  options: { algorithms: readonly string[]; maxKeys: number },
  previous?: KeyIndex,
): { index: KeyIndex; ignored: number } {
  const reusable = new Map<string, VerificationKey>();
  if (previous) for (const key of previous.keys) reusable.set(key.fingerprint, key);
  const keys: VerificationKey[] = [];
  let ignored = 0;
  for (const jwk of jwks) {
    if (keys.length >= options.maxKeys) {
      ignored++;
      continue;
    }
    const result = importJwk(jwk, options.algorithms);
    if (!result.ok) {
      ignored++;
      continue;
    }
    keys.push(reusable.get(result.value.fingerprint) ?? result.value);
  }
  return { index: new KeyIndex(keys), ignored };
}
