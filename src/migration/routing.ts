import { AuthRejection } from '../core/failure';

/**
 * Which side a credential belongs to.
 *
 * @example
 * ```ts
 * const side: Side = 'legacy';
 * ```
 */
export type Side = 'legacy' | 'target';

/**
 * How credentials are routed to exactly one provider, before verification, from their format and
 * UNVERIFIED issuer. Routing never decides acceptance: the routed provider verifies, and a forged `iss`
 * only sends a token to a verifier that refuses it.
 *
 * @example
 * ```ts
 * const routing: RoutingOptions = { legacyIssuers: ['https://app.example'], targetIssuers: ['https://id.example'],
 *   legacyPrefixes: ['lk_'], opaque: 'target' };
 * ```
 */
export interface RoutingOptions {
  /** `iss` values of legacy tokens (the legacy adapter's issuer, when it sets one). */
  readonly legacyIssuers?: readonly string[];
  /** `iss` values of target tokens (the target adapter's issuer). */
  readonly targetIssuers?: readonly string[];
  /** Credential prefixes of legacy API keys (`lk_`). */
  readonly legacyPrefixes?: readonly string[];
  /** Credential prefixes of target API keys (`ap_live_`). */
  readonly targetPrefixes?: readonly string[];
  /**
   * A JWT without `iss` is legacy when it has this claim (SimpleJWT's `token_type: "access"`), or one of
   * these claims (allauth's `token_use` beside it). Default `token_type`; `null` switches the rule off.
   */
  readonly legacyMarkerClaim?: string | readonly string[] | null;
  /** Where an opaque credential (not a JWT, no known prefix) goes. Default `reject` (`credentials_malformed`). */
  readonly opaque?: Side | 'reject';
  /**
   * Route HMAC-signed JWTs (`alg` HS256/384/512) to legacy from the header alone. Safe because no target
   * adapter accepts HMAC (they verify against public keys only); saves reading the payload. Default true.
   */
  readonly hmacIsLegacy?: boolean;
}

/**
 * A compiled router: `route(token)` returns the side or throws an `AuthRejection`
 * (`credentials_malformed` for an unroutable shape, `issuer_mismatch` for an issuer neither side trusts).
 *
 * @example
 * ```ts
 * const route = createRouter({ targetIssuers: ['https://id.example'] });
 * route(token); // 'target'
 * ```
 */
export type Router = (token: string) => Side;

/**
 * Compiles routing options into a router. Reads only the payload segment of a JWT (base64url JSON), never
 * trusts it beyond the choice of verifier.
 *
 * @example
 * ```ts
 * const route = createRouter({ legacyIssuers: [], targetIssuers: [issuer], legacyMarkerClaim: 'token_type' });
 * ```
 */
export function createRouter(options: RoutingOptions): Router {
  const legacyIssuers = new Set(options.legacyIssuers ?? []);
  const targetIssuers = new Set(options.targetIssuers ?? []);
  const legacyPrefixes = [...(options.legacyPrefixes ?? [])];
  const targetPrefixes = [...(options.targetPrefixes ?? [])];
  const marker = options.legacyMarkerClaim === undefined ? 'token_type' : options.legacyMarkerClaim;
  const markers: readonly string[] =
    marker === null ? [] : typeof marker === 'string' ? [marker] : [...marker];
  const opaque = options.opaque ?? 'reject';
  const hmacIsLegacy = options.hmacIsLegacy ?? true;
  // Header segment -> whether it alone routes to legacy. Issuers use a handful of distinct headers, so a
  // small map answers almost every token without decoding anything; bounded against junk headers.
  const headerRoutes = new Map<string, boolean>();

  return (token: string): Side => {
    for (const prefix of legacyPrefixes) if (token.startsWith(prefix)) return 'legacy';
    for (const prefix of targetPrefixes) if (token.startsWith(prefix)) return 'target';
    const first = token.indexOf('.');
    const second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) >= 0) {
      if (opaque === 'reject') throw new AuthRejection('credentials_malformed');
      return opaque;
    }
    if (hmacIsLegacy) {
      const header = token.slice(0, first);
      let legacyByHeader = headerRoutes.get(header);
      if (legacyByHeader === undefined) {
        legacyByHeader = isHmacHeader(header);
        if (headerRoutes.size >= 64) headerRoutes.clear();
        headerRoutes.set(header, legacyByHeader);
      }
      if (legacyByHeader) return 'legacy';
    }
    const payload = peekPayload(token.slice(first + 1, second));
    const iss = payload.iss;
    if (iss !== undefined) {
      if (typeof iss !== 'string')
        throw new AuthRejection('claims_invalid', 'The issuer claim is not a string');
      if (targetIssuers.has(iss)) return 'target';
      if (legacyIssuers.has(iss)) return 'legacy';
      throw new AuthRejection('issuer_mismatch');
    }
    for (const claim of markers) if (payload[claim] !== undefined) return 'legacy';
    throw new AuthRejection('credentials_malformed', 'The token names no issuer and no legacy token type');
  };
}

function peekPayload(segment: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new AuthRejection('credentials_malformed');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AuthRejection('credentials_malformed');
  return parsed as Record<string, unknown>;
}

function isHmacHeader(segment: string): boolean {
  try {
    const alg = (JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    return typeof alg === 'string' && /^HS(256|384|512)$/.test(alg);
  } catch {
    return false; // the payload step reports the malformed token
  }
}
