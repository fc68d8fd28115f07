// The first-party OIDC adapter's configuration: issuer, audience, JWKS and token caches, introspection.
import { z } from 'zod';

import { clockFn, fetchFn, positiveSeconds, url } from './primitives';

/** Signature algorithms an asymmetric-key adapter may allow. HMAC is never allowed with a public JWKS. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** A JWS algorithm this package can verify with a public key. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** JWKS cache tuning; every field has a safe default. */
export const jwksCacheSchema = z
  .object({
    /** Seconds a fetched JWKS is used before a background refresh. */
    ttlSec: positiveSeconds.default(600),
    /** Minimum seconds between two fetches triggered by an unknown kid (a forged-kid flood costs one fetch per cooldown). */
    cooldownSec: z.number().finite().nonnegative().default(30),
    /** Seconds cached keys keep serving while the issuer is unreachable. */
    maxStaleSec: z.number().finite().nonnegative().default(3600),
    /** Upper bound on keys kept. */
    maxKeys: z.number().int().positive().default(64),
  })
  .strict();

/**
 * The verified-token cache: a client reusing its access token pays for one signature check, not one
 * per request. Hits are re-checked against `exp`, `maxAgeSec` and the key still being published;
 * revocation is checked by the plane on every request. `maxEntries: 0` switches it off.
 */
export const tokenCacheSchema = z
  .object({
    maxEntries: z.number().int().nonnegative().default(10_000),
    maxAgeSec: z.number().finite().positive().max(3600).default(300),
  })
  .strict();

/** RFC 7662 introspection for opaque access tokens. */
export const introspectionSchema = z
  .object({
    /** Introspection endpoint; taken from discovery when omitted. */
    endpoint: url.optional(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** Upper bound on how long an active answer is cached (never past the token's own `exp`). */
    cacheMaxSec: z.number().finite().nonnegative().default(60),
    /** How long an `active: false` answer is reused (bounded like the active cache); 0 disables. */
    negativeCacheSec: z.number().finite().nonnegative().max(300).default(10),
    /** Introspection requests per second this plane sends at most; above it `provider_unavailable`. */
    maxRequestsPerSec: z.number().finite().positive().default(20),
    /** Requests allowed at once before `maxRequestsPerSec` applies. */
    burst: z.number().int().positive().default(40),
  })
  .strict();

/** Where the principal's org, roles and scopes are read from in the claims. */
export const claimMappingSchema = z
  .object({
    org: z.string().min(1).default('org_id'),
    roles: z.string().min(1).default('roles'),
    /** Claims united into `principal.scopes` (space-separated string or array). */
    scopes: z.array(z.string().min(1)).min(1).default(['scope', 'scp', 'permissions']),
    sessionId: z.string().min(1).default('sid'),
  })
  .strict();

/** Configuration of the first-party OIDC adapter (`provider: 'oidc'`), the default. */
export const oidcConfigSchema = z
  .object({
    provider: z.literal('oidc'),
    /** Exact `iss` value expected; also the discovery base unless `jwksUri` is given. */
    issuer: url,
    /** One or more accepted `aud` values. No default: an unchecked audience is a vulnerability. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** JWKS location; when omitted it is discovered from `${issuer}/.well-known/openid-configuration`. */
    jwksUri: url.optional(),
    algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
    clockToleranceSec: z.number().finite().nonnegative().max(300).default(5),
    /** Required `typ` header (RFC 9068: `at+jwt`); `null` accepts any typ except an ID token's. */
    tokenType: z.string().min(1).nullable().default('at+jwt'),
    claims: claimMappingSchema.default(claimMappingSchema.parse({})),
    jwks: jwksCacheSchema.default(jwksCacheSchema.parse({})),
    tokenCache: tokenCacheSchema.default(tokenCacheSchema.parse({})),
    introspection: introspectionSchema.optional(),
    /** Timeout of every HTTP call the adapter makes. */
    timeoutMs: z.number().int().positive().max(60_000).default(5000),
    /** Largest credential accepted, in bytes. */
    maxTokenBytes: z.number().int().positive().default(8192),
    /** Allow http:// issuer URLs. Only loopback hosts are permitted even then (development). */
    allowInsecureRequests: z.boolean().default(false),
    /** `realm` attribute of challenges. */
    realm: z.string().optional(),
    /** Test seam: a clock returning epoch milliseconds. */
    clock: clockFn.optional(),
    /** Seam for every HTTP call (proxies, tests). */
    fetch: fetchFn.optional(),
  })
  .strict();

/** The validated OIDC adapter configuration (defaults applied). */
export type OidcConfig = z.output<typeof oidcConfigSchema>;
/** What a caller writes for the OIDC adapter. */
export type OidcConfigInput = z.input<typeof oidcConfigSchema>;
