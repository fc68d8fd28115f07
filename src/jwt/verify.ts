import { type ClaimsPolicy, checkClaims, createClaimsPolicy } from './claims';
import { decodeJsonSegment, decodeSegment, splitCompactJws } from './compact';
import { assertNotIdToken, checkHeader, createHeaderPolicy, type HeaderPolicy } from './header';
import { verifySignature } from './signature';
import type { JwtClaims, JwtHeader, KeyResolver, VerificationKey } from './types';

/**
 * Options of `createJwtVerifier`. Issuer, audience, algorithms and keys have no defaults.
 *
 * @example
 * ```ts
 * const options: JwtVerifierOptions = { issuer, audience: 'https://api.example', algorithms: ['RS256'], keys };
 * ```
 */
export interface JwtVerifierOptions {
  /** Exact `iss`; `null` switches the check off explicitly (legacy tokens without `iss`). */
  readonly issuer: string | null;
  /** Accepted `aud` values (one must match); `null` switches the check off explicitly (legacy tokens). */
  readonly audience: string | readonly string[] | null;
  /** Allowed `alg` values; `none` and `HS*` are refused even if listed (unless `symmetric`). */
  readonly algorithms: readonly string[];
  /** Where keys come from: `createJwksCache(...)`, `createLocalKeySet(...)` or `createSecretKey(...)`. */
  readonly keys: KeyResolver;
  /**
   * True when `keys` is a shared HMAC secret (`createSecretKey`): then ONLY the `HS*` algorithms of
   * `algorithms` are allowed and every asymmetric one is refused. Default false (only asymmetric).
   */
  readonly symmetric?: boolean;
  /** Whether `sub` is required. Default true; false when the subject lives in another claim (`user_id`). */
  readonly requireSubject?: boolean;
  /** Required `typ` (`at+jwt` per RFC 9068), or null to accept any type but an ID token. Default `at+jwt`. */
  readonly tokenType?: string | null;
  /** Default 5, at most 300. */
  readonly clockToleranceSec?: number;
  /** Default 8192. */
  readonly maxTokenBytes?: number;
  /** Epoch milliseconds; `Date.now` by default. */
  readonly clock?: () => number;
}

/**
 * A verified token: its header, its claims, and the algorithm and key that verified it.
 *
 * @example
 * ```ts
 * const { claims } = await verifier.verify(token);
 * claims.sub; // 'user_1'
 * ```
 */
export interface VerifiedJwt {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
  readonly alg: string;
  readonly kid: string | undefined;
}

/**
 * Per-call context of `verify`.
 *
 * @example
 * ```ts
 * await verifier.verify(token, { signal: AbortSignal.timeout(2000) });
 * ```
 */
export interface JwtVerifyContext {
  /** Stops waiting for a key fetch (`provider_unavailable`); a fetch shared with others continues. */
  readonly signal?: AbortSignal;
}

/**
 * A strict JWT access-token verifier.
 *
 * @example
 * ```ts
 * const verified = await verifier.verify(token);
 * ```
 */
export interface JwtVerifier {
  /** Resolves with the verified token or rejects with an `AuthRejection` carrying the reason. */
  verify(token: string, context?: JwtVerifyContext): Promise<VerifiedJwt>;
  /**
   * The same checks, but synchronous when the key is cached: returns the verified token or throws
   * an `AuthRejection`; returns a promise only when a key must be fetched. For adapters that want to
   * map the result without an extra promise hop.
   */
  check(token: string, context?: JwtVerifyContext): VerifiedJwt | Promise<VerifiedJwt>;
}

/**
 * Creates a strict, fast JWT verifier (RFC 7515, RFC 7519, RFC 8725, RFC 9068): strict compact
 * parsing, header policy, type-pinned keys, synchronous `crypto.verify` with cached `KeyObject`s,
 * then claims. Every failure is an `AuthRejection` whose message never contains the token.
 *
 * Order: parse → header → key → signature → claims, so nothing in an unsigned payload is
 * reported before the signature is checked.
 *
 * @example
 * ```ts
 * const keys = createJwksCache({ jwksUri, algorithms: ['RS256', 'ES256'] });
 * const verifier = createJwtVerifier({ issuer, audience: 'https://api.example', algorithms: ['RS256', 'ES256'], keys });
 * const { claims } = await verifier.verify(token);
 * ```
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const tolerance = options.clockToleranceSec ?? 5;
  if (!(tolerance >= 0 && tolerance <= 300)) throw new RangeError('clockToleranceSec must be within 0..300');
  const tokenType = options.tokenType === undefined ? 'at+jwt' : options.tokenType;
  const symmetric = options.symmetric === true;
  const header = createHeaderPolicy({ algorithms: options.algorithms, tokenType, symmetric });
  if (header.algorithms.size === 0) {
    throw new RangeError(
      symmetric
        ? 'algorithms must contain an HMAC algorithm'
        : 'algorithms must contain an asymmetric algorithm',
    );
  }
  if (options.issuer === undefined || options.audience === undefined) {
    throw new RangeError('issuer and audience are required (null switches a check off explicitly)');
  }
  const claims = createClaimsPolicy({
    issuer: options.issuer,
    audience: options.audience,
    clockToleranceSec: tolerance,
    requireSubject: options.requireSubject ?? true,
  });
  const state: VerifierState = {
    header,
    claims,
    keys: options.keys,
    headers: [],
    maxTokenBytes: options.maxTokenBytes ?? 8192,
    clock: options.clock ?? Date.now,
  };
  const check = (token: string, context?: JwtVerifyContext): VerifiedJwt | Promise<VerifiedJwt> => {
    const work = parse(state, token);
    const key = state.keys.resolve(work.kid, work.alg, context?.signal);
    // Hot path: a cached key, everything else synchronous.
    if (!(key instanceof Promise)) return finish(state, work, key);
    return key.then((resolved) => finish(state, work, resolved));
  };
  return Object.freeze({
    check,
    verify(token: string, context?: JwtVerifyContext): Promise<VerifiedJwt> {
      try {
        return Promise.resolve(check(token, context));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  });
}

/** Largest number of distinct verified headers remembered (an issuer has a handful: one per key). */
const HEADER_CACHE_SIZE = 16;

interface CheckedHeader {
  readonly header: JwtHeader;
  readonly alg: string;
  readonly kid: string | undefined;
}

interface CachedHeader extends CheckedHeader {
  readonly segment: string;
}

interface Pending extends CheckedHeader {
  readonly headerSegment: string;
  /** True when the header came from the cache (it passed every check before). */
  readonly cached: boolean;
  readonly claims: JwtClaims;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

interface VerifierState {
  readonly header: HeaderPolicy;
  /**
   * Verified header segments and their checked form. The header check is a pure function of the segment and the
   * policy, and every token of one key carries the same header, so a verified header is decoded
   * once. Only headers of fully verified tokens enter, so forged headers cannot churn it.
   */
  readonly headers: CachedHeader[];
  readonly claims: ClaimsPolicy;
  readonly keys: KeyResolver;
  readonly maxTokenBytes: number;
  readonly clock: () => number;
}

function parse(state: VerifierState, token: string): Pending {
  const dot2 = splitCompactJws(token, state.maxTokenBytes);
  const dot1 = token.indexOf('.');
  const known = knownHeader(state.headers, token, dot1);
  const headerSegment = known ? known.segment : token.slice(0, dot1);
  const header = known ? known.header : (decodeJsonSegment(headerSegment, 'header') as JwtHeader);
  const claims = decodeJsonSegment(token.slice(dot1 + 1, dot2), 'payload') as JwtClaims;
  const signature = decodeSegment(token.slice(dot2 + 1));
  const checked = known ?? checkHeader(header, state.header);
  return {
    header,
    alg: checked.alg,
    kid: checked.kid,
    headerSegment,
    cached: known !== undefined,
    claims,
    signingInput: Buffer.from(token.slice(0, dot2), 'latin1'),
    signature,
  };
}

/** A linear `startsWith` scan: cheaper than hashing a freshly sliced string for a handful of entries. */
function knownHeader(
  headers: readonly CachedHeader[],
  token: string,
  dot1: number,
): CachedHeader | undefined {
  for (let i = 0; i < headers.length; i++) {
    const entry = headers[i] as CachedHeader;
    if (entry.segment.length === dot1 && token.startsWith(entry.segment)) return entry;
  }
  return undefined;
}

function finish(state: VerifierState, work: Pending, key: VerificationKey): VerifiedJwt {
  verifySignature(work.alg, key, work.signingInput, work.signature);
  assertNotIdToken(work.claims);
  checkClaims(work.claims, state.claims, state.clock() / 1000);
  let header = work.header;
  if (!work.cached) {
    header = Object.freeze(header);
    const headers = state.headers;
    if (headers.length >= HEADER_CACHE_SIZE) headers.shift();
    headers.push({ segment: work.headerSegment, header, alg: work.alg, kid: work.kid });
  }
  return { header, claims: work.claims, alg: work.alg, kid: work.kid };
}
