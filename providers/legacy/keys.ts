import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { decodeSecret, MIN_LEGACY_SECRET_BYTES, type SecretEncoding } from '../../src/config/legacy-keys';
import type { LegacyVerifierConfig } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { createLocalKeySet } from '../../src/jwt/local-keys';
import { createSecretKey } from '../../src/jwt/secret-key';
import type { KeyResolver, VerificationKey } from '../../src/jwt/types';
import { createJwtVerifier, type JwtVerifier, type VerifiedJwt } from '../../src/jwt/verify';

const HMAC = new Set(['HS256', 'HS384', 'HS512']);

/**
 * One configured key of a legacy verifier, as a strict JWT verifier pinned to that key's type.
 *
 * @internal
 * @example
 * ```ts
 * const [first] = buildKeyVerifiers(config, { path: '', issuer: null, audience: null, tolerance: 0 });
 * ```
 */
export interface KeyVerifier {
  readonly verifier: JwtVerifier;
  /** An HMAC secret shorter than 32 bytes (`allowWeakSecret`). */
  readonly weak: boolean;
  /** Bytes of a weak secret (for the start-up warning; never the secret itself). */
  readonly bytes: number;
}

/**
 * Builds one strict verifier per configured key (secret or public key), in the order given: `secret`,
 * then `secrets`, then `publicKey`. Rotation is "any of these keys": SimpleJWT tokens carry no `kid`.
 *
 * @internal
 * @throws ConfigError naming the field of an unusable key.
 * @example
 * ```ts
 * const keys = buildKeyVerifiers(verifierConfig, { path: 'verifiers.0.', tolerance: 0, clock, maxTokenBytes: 8192 });
 * ```
 */
export function buildKeyVerifiers(
  config: LegacyVerifierConfig,
  options: { path: string; tolerance: number; clock?: () => number; maxTokenBytes: number },
): KeyVerifier[] {
  const encoding = (config.secretEncoding ?? 'utf8') as SecretEncoding;
  const secrets: Array<{ value: string | Uint8Array; path: string }> = [];
  const publicKeys: Array<{ value: string | Record<string, unknown>; path: string }> = [];
  if (config.secret !== undefined) secrets.push({ value: config.secret, path: 'secret' });
  config.secrets?.forEach((entry, index) => {
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      secrets.push({ value: entry, path: `secrets.${index}` });
    } else {
      publicKeys.push({ value: entry.publicKey, path: `secrets.${index}.publicKey` });
    }
  });
  const configured = config.publicKey;
  if (Array.isArray(configured)) {
    configured.forEach((value, index) => {
      publicKeys.push({ value, path: `publicKey.${index}` });
    });
  } else if (configured !== undefined) {
    publicKeys.push({ value: configured as string | Record<string, unknown>, path: 'publicKey' });
  }

  const algorithms = config.algorithms ?? [
    ...(secrets.length > 0 ? ['HS256'] : []),
    ...(publicKeys.length > 0 ? ['RS256'] : []),
  ];
  const hmacAlgorithms = algorithms.filter((alg) => HMAC.has(alg));
  const publicAlgorithms = algorithms.filter((alg) => !HMAC.has(alg));
  const base = {
    issuer: config.issuer ?? null,
    audience: config.audience ?? null,
    // Legacy tokens say `typ: JWT` or nothing; the token type lives in a claim, checked by the adapter.
    tokenType: null,
    requireSubject: false,
    clockToleranceSec: options.tolerance,
    maxTokenBytes: options.maxTokenBytes,
    ...(options.clock ? { clock: options.clock } : {}),
  };

  const built: KeyVerifier[] = [];
  for (const { value, path } of secrets) {
    const bytes = decodeSecret(value, encoding);
    if (bytes === null) throw new ConfigError(options.path + path, `is not valid ${encoding}`);
    const length = bytes.length;
    try {
      const keys = createSecretKey(bytes, { algorithms: hmacAlgorithms, minBytes: 1 });
      built.push({
        verifier: createJwtVerifier({ ...base, algorithms: hmacAlgorithms, keys, symmetric: true }),
        weak: length < MIN_LEGACY_SECRET_BYTES,
        bytes: length,
      });
    } catch (cause) {
      throw new ConfigError(
        options.path + path,
        'is not a usable HMAC secret for the configured algorithms',
        {
          cause,
        },
      );
    } finally {
      bytes.fill(0);
    }
  }
  for (const { value, path } of publicKeys) {
    const keys = publicKeyResolver(value, publicAlgorithms, options.path + path);
    try {
      built.push({
        verifier: createJwtVerifier({ ...base, algorithms: publicAlgorithms, keys }),
        weak: false,
        bytes: 0,
      });
    } catch (cause) {
      throw new ConfigError(`${options.path}algorithms`, 'no usable algorithm for the configured key', {
        cause,
      });
    }
  }
  return built;
}

/**
 * Verifies a token with the first key that accepts its signature. A key of the other type
 * (`algorithm_not_allowed`), another kid (`key_unknown`) or another secret (`signature_invalid`) passes
 * to the next key; any other refusal (expired, wrong audience, malformed) is the answer, since every key
 * applies the same checks. When no key verifies: `signature_invalid` if some key of the token's type
 * was tried, else the first refusal.
 *
 * @internal
 * @example
 * ```ts
 * const verified = verifyWithAny(keyVerifiers, token);
 * ```
 */
export function verifyWithAny(
  keys: readonly KeyVerifier[],
  token: string,
): { verified: VerifiedJwt; key: KeyVerifier } {
  let first: unknown;
  let signatureTried = false;
  for (const key of keys) {
    try {
      // Local keys only: check() answers synchronously.
      return { verified: key.verifier.check(token) as VerifiedJwt, key };
    } catch (err) {
      if (!(err instanceof AuthRejection)) throw err;
      const reason = err.reason;
      if (reason !== 'signature_invalid' && reason !== 'algorithm_not_allowed' && reason !== 'key_unknown') {
        throw err;
      }
      if (reason === 'signature_invalid') signatureTried = true;
      first ??= err;
    }
  }
  if (signatureTried) throw new AuthRejection('signature_invalid');
  throw first ?? new AuthRejection('signature_invalid');
}

/** One configured public key; the header `kid` names no other key, so it is matched only when the JWK has one. */
function publicKeyResolver(
  publicKey: string | Record<string, unknown>,
  algorithms: readonly string[],
  path: string,
): KeyResolver {
  let jwk: Record<string, unknown>;
  try {
    jwk =
      typeof publicKey === 'string'
        ? (createPublicKey(publicKey).export({ format: 'jwk' }) as Record<string, unknown>)
        : { ...publicKey };
  } catch (cause) {
    throw new ConfigError(path, 'is not a readable PEM public key', { cause });
  }
  const set = createLocalKeySet({ keys: [jwk as JsonWebKey] }, { algorithms });
  if (set.size === 0) {
    throw new ConfigError(
      path,
      'is not a usable public key for the configured algorithms (RSA keys need 2048 bits or more)',
    );
  }
  if (typeof jwk.kid === 'string') return set;
  return Object.freeze({
    resolve: (_kid: string | undefined, alg: string): VerificationKey =>
      set.resolve(undefined, alg) as VerificationKey, // a local set answers synchronously
  });
}
