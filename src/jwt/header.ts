import { AuthRejection } from '../core/failure';
import type { JwtClaims, JwtHeader } from './types';

/** Header parameters that are refused outright: encryption, compression, detached/unencoded payloads, criticality. */
const REJECTED_PARAMS = ['crit', 'b64', 'zip', 'enc'] as const;
/** Key-bearing header parameters: trusting them lets the token choose its own key (RFC 8725 §3.10). */
const KEY_BEARING_PARAMS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
/** Claims only an ID token carries (OIDC Core §2, §3.3.2.11). */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash'] as const;

/**
 * What the header check enforces.
 *
 * @example
 * ```ts
 * const policy = createHeaderPolicy({ algorithms: ['RS256'], tokenType: 'at+jwt' });
 * ```
 */
export interface HeaderPolicy {
  readonly algorithms: ReadonlySet<string>;
  /** Normalised required `typ` (lower case, no `application/` prefix), or null. */
  readonly tokenType: string | null;
}

/** The HMAC algorithms a shared-secret verifier may allow (RFC 7518 §3.2). */
const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(['HS256', 'HS384', 'HS512']);

/**
 * Builds a header policy. `none` and every `HS*` algorithm are refused even if listed: keys come
 * from public key sets, and an HMAC "verified" with a public key is the classic confusion attack.
 * With `symmetric: true` (the keys are one shared secret, `createSecretKey`) it is the other way round:
 * only `HS256/384/512` from the list are kept and every asymmetric algorithm is refused, so a verifier
 * is never both at once.
 *
 * @example
 * ```ts
 * createHeaderPolicy({ algorithms: ['RS256', 'ES256'], tokenType: 'application/at+jwt' });
 * createHeaderPolicy({ algorithms: ['HS256'], tokenType: null, symmetric: true }); // legacy shared secret
 * ```
 */
export function createHeaderPolicy(options: {
  algorithms: readonly string[];
  tokenType: string | null;
  symmetric?: boolean;
}): HeaderPolicy {
  const algorithms = new Set(
    options.symmetric === true
      ? options.algorithms.filter((alg) => HMAC_ALGORITHMS.has(alg))
      : options.algorithms.filter((alg) => alg !== 'none' && !alg.startsWith('HS')),
  );
  return Object.freeze({
    algorithms,
    tokenType: options.tokenType === null ? null : normalizeMediaType(options.tokenType),
  });
}

/**
 * Checks a JOSE header and returns the algorithm and key id to verify with.
 *
 * - `alg` missing, `none`, `HS*` or outside the allow-list: `algorithm_not_allowed`;
 * - `crit`, `b64`, `zip`, `enc`, `jwk`, `jku`, `x5u`, `x5c`: `header_rejected` (we understand no
 *   critical extension, and never take a key from the token itself);
 * - `kid` present but not a non-empty string: `credentials_malformed`;
 * - `typ` different from the required type (RFC 9068 `at+jwt`, compared case-insensitively with an
 *   optional `application/` prefix, RFC 7515 §4.1.9): `token_type_mismatch`.
 *
 * @example
 * ```ts
 * const { alg, kid } = checkHeader(jws.header, policy);
 * ```
 */
export function checkHeader(
  header: JwtHeader,
  policy: HeaderPolicy,
): { alg: string; kid: string | undefined } {
  const alg = header.alg;
  if (typeof alg !== 'string' || !policy.algorithms.has(alg)) {
    throw new AuthRejection('algorithm_not_allowed');
  }
  for (const name of REJECTED_PARAMS) {
    if (header[name] !== undefined) throw new AuthRejection('header_rejected');
  }
  for (const name of KEY_BEARING_PARAMS) {
    if (header[name] !== undefined) {
      throw new AuthRejection(
        'header_rejected',
        'Keys embedded in or referenced by the token are not trusted',
      );
    }
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0)) {
    throw new AuthRejection('credentials_malformed', 'The token key id is not a string');
  }
  const typ = header.typ;
  if (typ !== undefined && typeof typ !== 'string') {
    throw new AuthRejection('credentials_malformed', 'The token type header is not a string');
  }
  if (policy.tokenType !== null && (typ === undefined || normalizeMediaType(typ) !== policy.tokenType)) {
    throw new AuthRejection('token_type_mismatch');
  }
  return { alg, kid };
}

/**
 * Refuses an ID token presented as an access token, whatever `typ` says: a verified token carrying
 * `nonce`, `at_hash` or `c_hash` is an ID token (`token_type_mismatch`). Deliberately simple:
 * heuristics on `auth_time` or `azp` misfire on real access tokens.
 *
 * @example
 * ```ts
 * assertNotIdToken(jws.claims); // throws for { nonce: 'n', ... }
 * ```
 */
export function assertNotIdToken(claims: JwtClaims): void {
  for (const name of ID_TOKEN_CLAIMS) {
    if (claims[name] !== undefined) {
      throw new AuthRejection('token_type_mismatch', 'An ID token is not accepted as an access token');
    }
  }
}

/**
 * Normalises a `typ`/`cty` media type: lower case, `application/` prefix removed (RFC 7515 §4.1.9).
 *
 * @example
 * ```ts
 * normalizeMediaType('Application/AT+JWT'); // 'at+jwt'
 * ```
 */
export function normalizeMediaType(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith('application/') ? lower.slice(12) : lower;
}
