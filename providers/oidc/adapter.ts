import type * as oidc from 'openid-client';
import type { OidcConfig } from '../../src/config/schema';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { AdapterContext, IdentityAdapter } from '../../src/identity/types';
import { createJwksCache, type JwksCache, type JwksFetchEvent } from '../../src/jwt/jwks-cache';
import { createVerifiedTokenCache, type VerifiedTokenCache } from '../../src/jwt/verified-cache';
import { createJwtVerifier, type JwtVerifier, type VerifiedJwt } from '../../src/jwt/verify';
import { createServerConfiguration, Lazy } from './discovery';
import { toAuthRejection } from './errors';
import { Introspector } from './introspection';
import { type ClaimMapping, claimsToPrincipal } from './principal';
import { assertSecureUrl } from './urls';

/** The adapter name, `principal.provider` and the failure's `provider`. */
export const OIDC_PROVIDER_NAME = 'oidc';

/**
 * Extra, non-config hooks of the OIDC adapter.
 *
 * @example
 * ```ts
 * await createOidcAdapter(config, { onJwksFetch: (e) => console.debug(e.trigger, e.ok) });
 * ```
 */
export interface OidcAdapterHooks {
  /** Called after every JWKS fetch (telemetry). */
  readonly onJwksFetch?: (event: JwksFetchEvent) => void;
}

/**
 * The OIDC adapter: an `IdentityAdapter` plus read-only diagnostics.
 *
 * @example
 * ```ts
 * const adapter = await createOidcAdapter(config);
 * adapter.jwksStats()?.fetches;
 * ```
 */
export interface OidcAdapter extends IdentityAdapter {
  /** JWKS cache counters, or null before discovery has found the JWKS URI. */
  jwksStats(): JwksCache['stats'] | null;
  /** Verified-token cache counters (see `tokenCache` in the config). */
  tokenCacheStats(): VerifiedTokenCache<CachedPrincipal>['stats'];
  close(): Promise<void>;
}

/**
 * Creates the first-party OIDC resource-server adapter (the default provider).
 *
 * - JWT access tokens (RFC 9068) are verified locally by the strict core in `src/jwt` against the
 *   issuer's JWKS (cached; see `createJwksCache`).
 * - Opaque access tokens are introspected (RFC 7662) when `config.introspection` is set, else
 *   refused as `credentials_malformed`. A token is treated as a JWT when it has two dots, or starts
 *   with `eyJ` (a base64url JSON object); four dots is a JWE (`header_rejected`).
 * - Without `jwksUri`, the JWKS URI (and the introspection endpoint, if not given) come from OIDC
 *   discovery through openid-client. Discovery is tried once here; if the issuer is unreachable at
 *   start-up the adapter is still created (an app must not crash at boot because its IdP blipped):
 *   requests then get `provider_unavailable` (503) and retry discovery, at most once a second,
 *   until it succeeds.
 * - Semantic config checks zod cannot do: http URLs only with `allowInsecureRequests` and only
 *   for loopback hosts, else `ConfigError` naming the field.
 *
 * @throws ConfigError for an insecure or non-loopback http URL.
 * @example
 * ```ts
 * const adapter = await createOidcAdapter(oidcConfigSchema.parse({ provider: 'oidc', issuer, audience: 'https://api.example' }));
 * const principal = await adapter.verify(token, { traceId });
 * ```
 */
export async function createOidcAdapter(
  config: OidcConfig,
  hooks: OidcAdapterHooks = {},
): Promise<OidcAdapter> {
  assertSecureUrl('issuer', config.issuer, config.allowInsecureRequests);
  if (config.jwksUri !== undefined) assertSecureUrl('jwksUri', config.jwksUri, config.allowInsecureRequests);
  if (config.introspection?.endpoint !== undefined) {
    assertSecureUrl('introspection.endpoint', config.introspection.endpoint, config.allowInsecureRequests);
  }
  const shutdown = new AbortController();
  const clock = config.clock ?? Date.now;
  const mapping: ClaimMapping = config.claims;
  const audiences = new Set(typeof config.audience === 'string' ? [config.audience] : config.audience);

  const needsDiscovery =
    config.jwksUri === undefined ||
    (config.introspection !== undefined && config.introspection.endpoint === undefined);
  const server = new Lazy<oidc.Configuration>(async () => {
    const configuration = await createServerConfiguration(
      {
        issuer: config.issuer,
        client: config.introspection
          ? { clientId: config.introspection.clientId, clientSecret: config.introspection.clientSecret }
          : undefined,
        metadata: config.introspection?.endpoint
          ? { introspection_endpoint: config.introspection.endpoint }
          : {},
        timeoutMs: config.timeoutMs,
        allowInsecureRequests: config.allowInsecureRequests,
        fetch: config.fetch,
        signal: shutdown.signal,
      },
      needsDiscovery,
    );
    const metadata = configuration.serverMetadata();
    // Discovered endpoints obey the same rule as configured ones.
    if (config.jwksUri === undefined) {
      if (typeof metadata.jwks_uri !== 'string')
        throw new AuthRejection('provider_unavailable', 'The issuer publishes no JWKS');
      assertSecureUrl('jwks_uri', metadata.jwks_uri, config.allowInsecureRequests);
    }
    if (config.introspection && !config.introspection.endpoint) {
      const endpoint = metadata.introspection_endpoint;
      if (typeof endpoint !== 'string') {
        throw new AuthRejection('provider_unavailable', 'The issuer publishes no introspection endpoint');
      }
      assertSecureUrl('introspection_endpoint', endpoint, config.allowInsecureRequests);
    }
    return configuration;
  }, clock);

  let jwks: JwksCache | null = null;
  let verifier: JwtVerifier | null = null;
  const buildVerifier = (jwksUri: string): JwtVerifier => {
    jwks = createJwksCache({
      jwksUri,
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
    verifier = createJwtVerifier({
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      keys: jwks,
      tokenType: config.tokenType,
      clockToleranceSec: config.clockToleranceSec,
      maxTokenBytes: config.maxTokenBytes,
      clock,
    });
    return verifier;
  };
  if (config.jwksUri !== undefined) buildVerifier(config.jwksUri);

  const lateVerifier = async (): Promise<JwtVerifier> => {
    if (verifier) return verifier;
    const configuration = await server.get();
    return verifier ?? buildVerifier(configuration.serverMetadata().jwks_uri as string);
  };

  const introspector = config.introspection
    ? new Introspector({
        configuration: () => server.get(),
        issuer: config.issuer,
        audiences,
        cacheMaxSec: config.introspection.cacheMaxSec,
        negativeCacheSec: config.introspection.negativeCacheSec,
        maxRequestsPerSec: config.introspection.maxRequestsPerSec,
        burst: config.introspection.burst,
        clockToleranceSec: config.clockToleranceSec,
        clock,
      })
    : null;

  // Start-up: discover (if needed) and warm the JWKS, without failing the boot on an outage.
  if (needsDiscovery) {
    await server.get().then(
      (configuration) => {
        if (!verifier) buildVerifier(configuration.serverMetadata().jwks_uri as string);
      },
      () => {},
    );
  }
  void (jwks as JwksCache | null)?.refresh();

  const jwtOptions = { provider: OIDC_PROVIDER_NAME, authMethod: 'jwt', mapping } as const;
  const verifiedTokens = createVerifiedTokenCache<CachedPrincipal>({ ...config.tokenCache, clock });
  const toPrincipal = (token: string, verified: VerifiedJwt): Principal => {
    const principal = claimsToPrincipal(verified.claims, jwtOptions);
    const expiresAtMs = principal.expiresAt ? principal.expiresAt.getTime() : 0;
    if (jwks) {
      const facts = { kid: verified.kid, alg: verified.alg, exp: expiresAtMs / 1000 };
      verifiedTokens.set(token, { principal, expiresAtMs }, facts, jwks);
    }
    return principal;
  };

  const introspectionOptions = {
    provider: OIDC_PROVIDER_NAME,
    authMethod: 'introspection',
    mapping,
  } as const;
  const rethrow = (err: unknown): never => {
    throw toAuthRejection(err);
  };

  const adapter: OidcAdapter = {
    name: OIDC_PROVIDER_NAME,

    verify(token: string, context: AdapterContext): Promise<Principal> {
      const signal = context.signal;
      const ctx = signal ? { signal } : undefined;
      if (isJwtShaped(token)) {
        // Hot path: no await, no closure per call once the verifier exists.
        if (verifier) {
          const hit = jwks ? verifiedTokens.get(token, jwks) : undefined;
          if (hit) return Promise.resolve(withOwnExpiry(hit));
          try {
            const verified = verifier.check(token, ctx);
            if (!(verified instanceof Promise)) return Promise.resolve(toPrincipal(token, verified));
            return verified.then((late) => toPrincipal(token, late), rethrow);
          } catch (err) {
            return Promise.reject(toAuthRejection(err));
          }
        }
        return lateVerifier()
          .then((late) => late.verify(token, ctx))
          .then((verified) => toPrincipal(token, verified), rethrow);
      }
      if (!introspector) {
        return Promise.reject(new AuthRejection('credentials_malformed', 'The token is not a JWT'));
      }
      if (token.length > config.maxTokenBytes || !OPAQUE_TOKEN.test(token)) {
        return Promise.reject(new AuthRejection('credentials_malformed'));
      }
      return introspector
        .introspect(token, signal)
        .then((claims) => claimsToPrincipal(claims, introspectionOptions), rethrow);
    },

    jwksStats() {
      return (jwks as JwksCache | null)?.stats ?? null;
    },

    tokenCacheStats() {
      return verifiedTokens.stats;
    },

    async close(): Promise<void> {
      shutdown.abort();
      verifiedTokens.clear();
      (jwks as JwksCache | null)?.close();
      introspector?.clear();
    },
  };
  return Object.freeze(adapter);
}

/** A verified principal and its expiry as a number, which no caller can mutate. */
interface CachedPrincipal {
  readonly principal: Principal;
  readonly expiresAtMs: number;
}

/**
 * A cached principal is shared between requests; its lists and claims are frozen, but a `Date` cannot
 * be, so each hit gets its own frozen copy with a `expiresAt` built from the cached number.
 */
function withOwnExpiry({ principal, expiresAtMs }: CachedPrincipal): Principal {
  // An explicit literal of the fields `freezePrincipal` builds (every cached principal comes from it):
  // V8 freezes a spread-built object about twice as slowly, on every cache hit.
  return Object.freeze({
    subject: principal.subject,
    providerSubject: principal.providerSubject,
    provider: principal.provider,
    kind: principal.kind,
    orgId: principal.orgId,
    roles: principal.roles,
    scopes: principal.scopes,
    sessionId: principal.sessionId,
    expiresAt: expiresAtMs ? new Date(expiresAtMs) : null,
    authMethod: principal.authMethod,
    claims: principal.claims,
  });
}

/** RFC 6750 §2.1 b64token: the only characters a bearer token may have. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function isJwtShaped(token: string): boolean {
  // Every JOSE header is a JSON object, so its base64url starts with `eyJ` (`{"`): decided without
  // scanning the token. Anything else is a JWT only with exactly two dots.
  if (token.startsWith('eyJ')) return true;
  const dot1 = token.indexOf('.');
  if (dot1 < 0) return false;
  const dot2 = token.indexOf('.', dot1 + 1);
  return dot2 >= 0 && token.indexOf('.', dot2 + 1) < 0;
}
