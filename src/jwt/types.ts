import type { KeyObject } from 'node:crypto';

/**
 * A decoded JOSE header. Only the members the verifier reads are typed; the rest stay `unknown`.
 *
 * @example
 * ```ts
 * const header: JwtHeader = { alg: 'RS256', kid: 'k1', typ: 'at+jwt' };
 * ```
 */
export interface JwtHeader {
  readonly alg?: unknown;
  readonly kid?: unknown;
  readonly typ?: unknown;
  readonly [name: string]: unknown;
}

/**
 * A decoded JWT claims set. Registered claims are checked by `checkClaims` before anyone reads them.
 *
 * @example
 * ```ts
 * const claims: JwtClaims = { iss: 'https://id.example', sub: 'u1', aud: 'api', exp: 1_900_000_000 };
 * ```
 */
export interface JwtClaims {
  readonly iss?: unknown;
  readonly sub?: unknown;
  readonly aud?: unknown;
  readonly exp?: unknown;
  readonly nbf?: unknown;
  readonly iat?: unknown;
  readonly jti?: unknown;
  readonly [name: string]: unknown;
}

/**
 * A public key ready for `crypto.verify`: imported once, pinned to the algorithms its type allows.
 *
 * @example
 * ```ts
 * const key = importJwk(jwk, ['RS256']);
 * if (key.ok) key.value.algorithms.has('RS256'); // true
 * ```
 */
export interface VerificationKey {
  readonly kid: string | undefined;
  /** `oct` only for a shared HMAC secret (`createSecretKey`), which only a `symmetric` verifier accepts. */
  readonly kty: 'RSA' | 'EC' | 'OKP' | 'oct';
  /** The header `alg` values this key may verify (type-pinned, narrowed by the JWK's own `alg`). */
  readonly algorithms: ReadonlySet<string>;
  readonly keyObject: KeyObject;
  /** Identity of the public key material, so a refetch can keep an already imported key. */
  readonly fingerprint: string;
  /** Per-algorithm argument for `crypto.verify`, built once (padding, salt length, DSA encoding). */
  readonly verifyArgs: ReadonlyMap<string, VerifyArgs>;
}

/**
 * The precomputed `algorithm`, `key` and expected signature length of one `crypto.verify` call.
 *
 * @example
 * ```ts
 * const args = key.verifyArgs.get('PS256'); // { digest: 'sha256', key: { key, padding, saltLength }, signatureLength: 256 }
 * ```
 */
export interface VerifyArgs {
  readonly digest: string | null;
  readonly key: KeyObject | { readonly key: KeyObject; readonly [option: string]: unknown };
  /** Exact signature length in bytes (RSA modulus, ECDSA r||s, Ed25519). */
  readonly signatureLength: number;
}

/**
 * Where the verifier gets keys: a remote JWKS cache or a local key set. `resolve` answers
 * synchronously when it can (the hot path) and returns a promise only when it must fetch.
 *
 * @example
 * ```ts
 * const key = resolver.resolve('k1', 'RS256');
 * const ready = key instanceof Promise ? await key : key;
 * ```
 */
export interface KeyResolver {
  resolve(
    kid: string | undefined,
    alg: string,
    signal?: AbortSignal,
  ): VerificationKey | Promise<VerificationKey>;
}
