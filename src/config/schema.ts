import { z } from 'zod';
import type { RevocationStore } from '../identity/revocation';

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

const url = z.url({ protocol: /^https?$/ });
const positiveSeconds = z.number().finite().positive();

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

/** RFC 7662 introspection for opaque access tokens. */
export const introspectionSchema = z
  .object({
    /** Introspection endpoint; taken from discovery when omitted. */
    endpoint: url.optional(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** Upper bound on how long an active answer is cached (never past the token's own `exp`). */
    cacheMaxSec: z.number().finite().nonnegative().default(60),
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
    clock: z.custom<() => number>((v) => typeof v === 'function').optional(),
    /** Seam for every HTTP call (proxies, tests). */
    fetch: z.custom<typeof fetch>((v) => typeof v === 'function').optional(),
  })
  .strict();

/** The validated OIDC adapter configuration (defaults applied). */
export type OidcConfig = z.output<typeof oidcConfigSchema>;
/** What a caller writes for the OIDC adapter. */
export type OidcConfigInput = z.input<typeof oidcConfigSchema>;

// ---------------------------------------------------------------------------------------------
// Plane-level configuration: what createIdentityPlane accepts. Each provider's schema is its adapter
// schema extended with the shared plane fields, and the union is discriminated on `provider`.

/**
 * Feature flags that gate vendor adapters. A flagged provider selected while its flag is off is a
 * `ConfigError` at start-up, never a surprise at request time.
 *
 * @example
 * ```ts
 * FLAG_NAMES.includes('auth0'); // true
 * ```
 */
export const FLAG_NAMES = ['auth0', 'clerk', 'nango'] as const;

/**
 * A feature flag name.
 *
 * @example
 * ```ts
 * const flag: FlagName = 'clerk';
 * ```
 */
export type FlagName = (typeof FLAG_NAMES)[number];

/**
 * Static feature flags (`{ auth0: true }`); absent means off.
 *
 * @example
 * ```ts
 * flagsSchema.parse({ auth0: true }); // { auth0: true }
 * ```
 */
export const flagsSchema = z
  .object({
    auth0: z.boolean().optional(),
    clerk: z.boolean().optional(),
    nango: z.boolean().optional(),
  })
  .strict();

/**
 * Validated feature flags.
 *
 * @example
 * ```ts
 * const flags: Flags = { clerk: true };
 * ```
 */
export type Flags = z.output<typeof flagsSchema>;

const mustBeFunction = { message: 'must be a function' };

/**
 * Fields every provider's plane configuration shares, on top of the adapter's own fields.
 * `revocation` is checked structurally (add / isRevoked / close functions) so that any shared store
 * (Redis, Postgres) can be passed.
 *
 * @example
 * ```ts
 * const schema = oidcConfigSchema.extend(planeFieldsShape);
 * ```
 */
export const planeFieldsShape = {
  /** Where `plane.revoke` writes and every verify reads; an in-memory bounded store by default. */
  revocation: z
    .custom<RevocationStore>(isRevocationStore, {
      message: 'must be a RevocationStore (add, isRevoked and close functions)',
    })
    .optional(),
  flags: flagsSchema.default({}),
  // Re-declared only to give a clear message when a non-function is passed.
  clock: z.custom<() => number>((v) => typeof v === 'function', mustBeFunction).optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', mustBeFunction).optional(),
};

function isRevocationStore(value: unknown): value is RevocationStore {
  if (!value || typeof value !== 'object') return false;
  const store = value as Record<string, unknown>;
  return (
    typeof store.add === 'function' &&
    typeof store.isRevoked === 'function' &&
    typeof store.close === 'function'
  );
}

/**
 * `createIdentityPlane` configuration for `provider: 'oidc'`: the OIDC adapter fields plus the plane fields.
 *
 * @example
 * ```ts
 * oidcPlaneConfigSchema.parse({ provider: 'oidc', issuer: 'https://id.example', audience: 'api' });
 * ```
 */
export const oidcPlaneConfigSchema = oidcConfigSchema.extend(planeFieldsShape);

/**
 * Every provider `createIdentityPlane` knows, in the order error messages list them.
 *
 * @example
 * ```ts
 * PROVIDER_NAMES.includes('oidc'); // true
 * ```
 */
export const PROVIDER_NAMES = ['oidc'] as const;

/**
 * A provider name `createIdentityPlane` accepts.
 *
 * @example
 * ```ts
 * const provider: ProviderName = 'oidc';
 * ```
 */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * The whole `createIdentityPlane` configuration, discriminated on `provider`. New providers
 * (`auth0`, `clerk`, `legacy`, `migration`) join as further members of this union.
 *
 * @example
 * ```ts
 * identityConfigSchema.safeParse({ provider: 'oidc', issuer: 'https://id.example', audience: 'api' }).success; // true
 * ```
 */
export const identityConfigSchema = z.discriminatedUnion('provider', [oidcPlaneConfigSchema]);

/**
 * The validated plane configuration (defaults applied).
 *
 * @example
 * ```ts
 * const config: IdentityConfig = identityConfigSchema.parse(input);
 * ```
 */
export type IdentityConfig = z.output<typeof identityConfigSchema>;
/**
 * What a caller passes to `createIdentityPlane`.
 *
 * @example
 * ```ts
 * const config: IdentityConfigInput = { provider: 'oidc', issuer: 'https://id.example', audience: 'api' };
 * ```
 */
export type IdentityConfigInput = z.input<typeof identityConfigSchema>;
/**
 * The validated plane configuration of the OIDC provider.
 *
 * @example
 * ```ts
 * const config: OidcPlaneConfig = oidcPlaneConfigSchema.parse(input);
 * ```
 */
export type OidcPlaneConfig = z.output<typeof oidcPlaneConfigSchema>;
