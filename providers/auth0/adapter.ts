import type { Auth0Config } from '../../src/config/schema';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { AdapterContext, IdentityAdapter } from '../../src/identity/types';
import { decodeJsonSegment } from '../../src/jwt/compact';
import { normalizeMediaType } from '../../src/jwt/header';
import { createJwksCache, type JwksCache, type JwksFetchEvent } from '../../src/jwt/jwks-cache';
import { createJwtVerifier, type JwtVerifier, type VerifiedJwt } from '../../src/jwt/verify';
import { type ClaimMapping, claimsToPrincipal } from '../oidc/principal';
import { toAuth0Rejection } from './errors';

/** The adapter name, `principal.provider` and the failure's `provider`. */
export const AUTH0_PROVIDER_NAME = 'auth0';

/**
 * Extra, non-config hooks of the Auth0 adapter.
 *
 * @example
 * ```ts
 * await createAuth0Adapter(config, { onJwksFetch: (e) => console.debug(e.trigger, e.ok) });
 * ```
 */
export interface Auth0AdapterHooks {
  /** Called after every JWKS fetch (telemetry). */
  readonly onJwksFetch?: (event: JwksFetchEvent) => void;
}

/**
 * The Auth0 adapter: an `IdentityAdapter` plus read-only diagnostics.
 *
 * @example
 * ```ts
 * const adapter = await createAuth0Adapter(config);
 * adapter.issuers; // ['https://acme.eu.auth0.com/', 'https://login.acme.test/']
 * ```
 */
export interface Auth0Adapter extends IdentityAdapter {
  /** Every accepted `iss`: the canonical domain first, then the custom domains. */
  readonly issuers: readonly string[];
  /** JWKS cache counters. */
  jwksStats(): JwksCache['stats'];
  close(): Promise<void>;
}

/** `typ` values Auth0 puts on access tokens: `JWT` (default profile) or `at+jwt` (RFC 9068 profile). */
const AUTH0_TOKEN_TYPES: ReadonlySet<string> = new Set(['jwt', 'at+jwt']);

/**
 * A claim name no token carries: Auth0 has no standard roles claim, so without `rolesClaim` roles stay
 * empty rather than being read from some unrelated `roles` claim.
 */
const NO_ROLES_CLAIM = '\u0000authplane:no-roles-claim';

/** Header segments of fully verified tokens whose `typ` passed, so the default typ check decodes once. */
const KNOWN_HEADERS_MAX = 16;

/**
 * Creates the Auth0 resource-server adapter. Access tokens are verified by the strict core in
 * `src/jwt` (the same verifier and JWKS cache as the OIDC adapter: exact issuer, audience, `exp`/`nbf`,
 * RS256 by default, no `none`/HMAC, key-bearing headers refused, ID tokens refused) against
 * `https://<domain>/.well-known/jwks.json`. No vendor SDK is involved in verification.
 *
 * - Issuers: `https://<domain>/` and `https://<custom>/` for each custom domain (one tenant, several
 *   issuer strings, one JWKS from the canonical domain). A token is routed to the verifier of its own
 *   `iss`; an unknown `iss` is still signature-checked first, then refused as `issuer_mismatch`.
 * - `tokenType`: `null` (default) accepts `typ` `JWT`, `at+jwt` or none; anything else (`id_token`,
 *   `dpop+jwt`, …) is `token_type_mismatch`. A string requires exactly that type (e.g. `at+jwt`).
 * - Claims: `org_id` -> `orgId`; `scope` and `permissions` (RBAC) -> `scopes`; `rolesClaim` -> `roles`;
 *   `sid` -> `sessionId`; `gty: client-credentials` -> kind `service`.
 *
 * @example
 * ```ts
 * const adapter = await createAuth0Adapter(auth0ConfigSchema.parse({
 *   provider: 'auth0', domain: 'acme.eu.auth0.com', audience: 'https://api.acme.test', rolesClaim: 'https://acme.test/roles',
 * }));
 * const principal = await adapter.verify(token, { traceId });
 * ```
 */
export async function createAuth0Adapter(
  config: Auth0Config,
  hooks: Auth0AdapterHooks = {},
): Promise<Auth0Adapter> {
  const clock = config.clock ?? Date.now;
  const issuers = [
    ...new Set([config.domain, ...config.customDomains].map((host) => `https://${host.toLowerCase()}/`)),
  ];
  const jwks = createJwksCache({
    jwksUri: `https://${config.domain.toLowerCase()}/.well-known/jwks.json`,
    algorithms: config.algorithms,
    fetch: config.fetch,
    timeoutMs: config.timeoutMs,
    ttlSec: config.jwks.ttlSec,
    cooldownSec: config.jwks.cooldownSec,
    maxStaleSec: config.jwks.maxStaleSec,
    maxKeys: config.jwks.maxKeys,
    clock,
    onFetch: hooks.onJwksFetch,
  });
  const verifiers = new Map<string, JwtVerifier>();
  for (const issuer of issuers) {
    verifiers.set(
      issuer,
      createJwtVerifier({
        issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        keys: jwks,
        tokenType: config.tokenType,
        clockToleranceSec: config.clockToleranceSec,
        maxTokenBytes: config.maxTokenBytes,
        clock,
      }),
    );
  }
  const canonical = verifiers.get(issuers[0] as string) as JwtVerifier;
  const single = verifiers.size === 1;
  const mapping: ClaimMapping = {
    org: 'org_id',
    roles: config.rolesClaim ?? NO_ROLES_CLAIM,
    scopes: ['scope', 'permissions'],
    sessionId: 'sid',
  };
  const checkTyp = config.tokenType === null;
  const knownHeaders = new Set<string>();

  // Warm the key cache without failing the boot on an outage: requests then get provider_unavailable.
  void jwks.refresh();

  const toPrincipal = (verified: VerifiedJwt): Principal =>
    claimsToPrincipal(verified.claims, { provider: AUTH0_PROVIDER_NAME, authMethod: 'jwt', mapping });
  const rethrow = (err: unknown): never => {
    throw toAuth0Rejection(err);
  };

  const adapter: Auth0Adapter = {
    name: AUTH0_PROVIDER_NAME,
    issuers: Object.freeze(issuers),

    verify(token: string, context: AdapterContext): Promise<Principal> {
      try {
        const dot1 = token.indexOf('.');
        if (dot1 <= 0) throw new AuthRejection('credentials_malformed', 'The token is not a JWT');
        const headerSegment = checkTyp ? token.slice(0, dot1) : '';
        if (checkTyp && !knownHeaders.has(headerSegment)) assertAuth0Typ(headerSegment);
        const verifier = single ? canonical : (verifiers.get(unverifiedIssuer(token, dot1)) ?? canonical);
        const ctx = context.signal ? { signal: context.signal } : undefined;
        const remember = (verified: VerifiedJwt): Principal => {
          const principal = toPrincipal(verified);
          if (checkTyp && knownHeaders.size < KNOWN_HEADERS_MAX) knownHeaders.add(headerSegment);
          return principal;
        };
        const verified = verifier.check(token, ctx);
        if (!(verified instanceof Promise)) return Promise.resolve(remember(verified));
        return verified.then(remember, rethrow);
      } catch (err) {
        return Promise.reject(toAuth0Rejection(err));
      }
    },

    jwksStats() {
      return jwks.stats;
    },

    async close(): Promise<void> {
      jwks.close();
    },
  };
  return Object.freeze(adapter);
}

/** Default `tokenType` policy: `JWT`, `at+jwt` or none. The verifier itself still refuses ID tokens. */
function assertAuth0Typ(headerSegment: string): void {
  const typ = (decodeJsonSegment(headerSegment, 'header') as { typ?: unknown }).typ;
  if (typ === undefined) return;
  if (typeof typ !== 'string')
    throw new AuthRejection('credentials_malformed', 'The token type header is not a string');
  if (!AUTH0_TOKEN_TYPES.has(normalizeMediaType(typ))) throw new AuthRejection('token_type_mismatch');
}

/** The `iss` of a not yet verified token, only to pick which issuer's verifier checks it. */
function unverifiedIssuer(token: string, dot1: number): string {
  const dot2 = token.indexOf('.', dot1 + 1);
  if (dot2 < 0) return '';
  const iss = (decodeJsonSegment(token.slice(dot1 + 1, dot2), 'payload') as { iss?: unknown }).iss;
  return typeof iss === 'string' ? iss : '';
}
