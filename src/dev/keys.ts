import { generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { DevSigningAlgorithm } from './types';

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };

function generate(alg: DevSigningAlgorithm): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      err ? reject(err) : resolve({ publicKey, privateKey });
    switch (alg) {
      case 'RS256':
        generateKeyPair('rsa', { modulusLength: 2048 }, done);
        break;
      case 'ES256':
        generateKeyPair('ec', { namedCurve: 'P-256' }, done);
        break;
      case 'EdDSA':
        generateKeyPair('ed25519', {}, done);
        break;
    }
  });
}

/**
 * A private signing JWK with `kid`, `alg` and `use`, as oidc-provider's keystore wants it.
 *
 * @example
 * ```ts
 * const jwk = await generateSigningKey('ES256', 1); // jwk.kid === 'dev-es256-1-…'
 * ```
 */
export async function generateSigningKey(alg: DevSigningAlgorithm, generation: number): Promise<JWK> {
  const { privateKey } = await generate(alg);
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  // The generation in the kid makes rotations easy to read in test output and logs.
  const kid = `dev-${alg.toLowerCase()}-${generation}-${randomBytes(4).toString('hex')}`;
  return { ...jwk, kid, alg, use: 'sig' };
}

/**
 * One key per algorithm, generated in parallel.
 *
 * @example
 * ```ts
 * const keys = await generateKeySet(DEV_SIGNING_ALGORITHMS, 2);
 * ```
 */
export async function generateKeySet(
  algs: readonly DevSigningAlgorithm[],
  generation: number,
): Promise<Map<DevSigningAlgorithm, JWK>> {
  const keys = await Promise.all(algs.map((alg) => generateSigningKey(alg, generation)));
  return new Map(algs.map((alg, i) => [alg, keys[i] as JWK]));
}

/**
 * The public part of a private JWK.
 *
 * @example
 * ```ts
 * const jwks = { keys: privateKeys.map(toPublicJwk) };
 * ```
 */
export function toPublicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...rest } = jwk;
  return rest;
}
