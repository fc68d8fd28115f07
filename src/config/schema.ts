import { z } from 'zod';
import type { ApiKeys } from '../apikeys/keys';
import type { RevocationStore } from '../identity/revocation';
import type { FirstSightHook } from '../migration/links';
import type { ModeFlagClient } from '../migration/modes';
import type { ShadowOptions } from '../migration/shadow';
import type { IdentityLinkStore } from '../stores/contracts';
import type { AuditHook } from '../telemetry/audit';
import type { TelemetryOptions } from '../telemetry/metrics';

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
/** Test seam shared by every provider: a clock returning epoch milliseconds. */
const clockFn = z.custom<() => number>((v) => typeof v === 'function');
/** Seam shared by every provider for its HTTP calls (proxies, tests). */
const fetchFn = z.custom<typeof fetch>((v) => typeof v === 'function');
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

/**
 * The HMAC algorithms the legacy adapter accepts with a shared `secret` (and only then).
 *
 * @example
 * ```ts
 * HMAC_ALGORITHMS.includes('HS256'); // true
 * ```
 */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/**
 * Where the legacy adapter reads the principal in a home-grown token's claims. Defaults follow
 * djangorestframework-simplejwt (`user_id`, `token_type`).
 *
 * @example
 * ```ts
 * legacyClaimMappingSchema.parse({ subject: 'sub', org: 'tenant' });
 * ```
 */
export const legacyClaimMappingSchema = z
  .object({
    /** The user id claim: `user_id` (SimpleJWT) or `sub`. A string or an integer. */
    subject: z.string().min(1).default('user_id'),
    org: z.string().min(1).default('org_id'),
    roles: z.string().min(1).default('roles'),
    /** Claims united into `principal.scopes` (space-separated string or array). */
    scopes: z.array(z.string().min(1)).min(1).default(['scope']),
    sessionId: z.string().min(1).default('sid'),
    /** The claim holding the token type (`access` / `refresh`). */
    tokenType: z.string().min(1).default('token_type'),
    /** Optional claim whose value `service` makes the principal a `service` (else `user`). */
    kind: z.string().min(1).optional(),
  })
  .strict();

const legacyJwkSchema = z
  .record(z.string(), z.unknown())
  .refine((jwk) => typeof jwk.kty === 'string', { message: 'must be a public JWK (with kty)' });

const MIN_LEGACY_SECRET_BYTES = 32;

/** Fields of the legacy adapter, before the cross-field checks. */
const legacyFieldsShape = {
  provider: z.literal('legacy'),
  /** HS256 shared secret (UTF-8), at least 32 bytes. Exactly one of `secret` and `publicKey`. */
  secret: z
    .string()
    .refine((value) => Buffer.byteLength(value, 'utf8') >= MIN_LEGACY_SECRET_BYTES, {
      message: `must be at least ${MIN_LEGACY_SECRET_BYTES} bytes (256 bits) for HMAC signing`,
    })
    .optional(),
  /** RS256 (or other asymmetric) verification key: a PEM (SPKI or PKCS#1) string or a public JWK. */
  publicKey: z.union([z.string().min(1), legacyJwkSchema]).optional(),
  /** Pinned algorithms. Default `['HS256']` with a secret, `['RS256']` with a public key. */
  algorithms: z
    .array(z.enum([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]))
    .min(1)
    .optional(),
  /** Exact `iss`, enforced when set (legacy tokens often carry none). */
  issuer: z.string().min(1).optional(),
  /** Accepted `aud` values, enforced when set. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Required value of the token type claim (`access`); `null` switches the check off. */
  tokenType: z.string().min(1).nullable().default('access'),
  /** Refuse tokens without a string `jti` (needed to revoke one token). Default true. */
  requireJti: z.boolean().default(true),
  claims: legacyClaimMappingSchema.default(legacyClaimMappingSchema.parse({})),
  clockToleranceSec: z.number().finite().nonnegative().max(300).default(5),
  maxTokenBytes: z.number().int().positive().default(8192),
  realm: z.string().optional(),
  clock: clockFn.optional(),
};

function checkLegacyKeys(
  config: { secret?: string | undefined; publicKey?: unknown; algorithms?: readonly string[] | undefined },
  ctx: z.RefinementCtx,
): void {
  const hasSecret = config.secret !== undefined;
  const hasKey = config.publicKey !== undefined;
  if (hasSecret === hasKey) {
    ctx.addIssue({
      code: 'custom',
      path: [hasSecret ? 'publicKey' : 'secret'],
      message: hasSecret
        ? 'give either secret (HS256) or publicKey (RS256), not both'
        : 'is required (or publicKey for RS256)',
    });
    return;
  }
  const hmac = (alg: string) => (HMAC_ALGORITHMS as readonly string[]).includes(alg);
  const algorithms = config.algorithms ?? [];
  // Algorithm confusion is refused at start-up too: a secret only ever verifies HS*, a public key never does.
  if (hasSecret && !algorithms.every(hmac)) {
    ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'only HS256/HS384/HS512 with a secret' });
  }
  if (hasKey && algorithms.some(hmac)) {
    ctx.addIssue({
      code: 'custom',
      path: ['algorithms'],
      message: 'HS* algorithms need a secret, not a public key',
    });
  }
}

/**
 * Configuration of the legacy adapter (`provider: 'legacy'`): the home-grown SimpleJWT-style JWT.
 *
 * @example
 * ```ts
 * legacyConfigSchema.parse({ provider: 'legacy', secret: process.env.LEGACY_SECRET });
 * ```
 */
export const legacyConfigSchema = z.object(legacyFieldsShape).strict().superRefine(checkLegacyKeys);

/** The validated legacy adapter configuration (defaults applied). */
export type LegacyConfig = z.output<typeof legacyConfigSchema>;
/** What a caller writes for the legacy adapter. */
export type LegacyConfigInput = z.input<typeof legacyConfigSchema>;

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
  /** Receives audit events (`auth.succeeded`, `auth.failed`, `authz.denied`, `privileged`); errors are swallowed. */
  audit: z.custom<AuditHook>((v) => typeof v === 'function', mustBeFunction).optional(),
  /** Meter and tracer providers other than the global OpenTelemetry ones. */
  telemetry: z
    .custom<TelemetryOptions>(isTelemetryOptions, {
      message: 'must be an object with optional meterProvider (getMeter) and tracerProvider (getTracer)',
    })
    .optional(),
  /**
   * An API key service (`createApiKeys`): credentials it `matches()` go to it, every other credential to
   * the provider adapter. Keys are revoked with `keys.revoke`, not `plane.revoke`.
   */
  apiKeys: z
    .custom<ApiKeys>(isApiKeys, { message: 'must be an API key service from createApiKeys' })
    .optional(),
};

function isApiKeys(value: unknown): value is ApiKeys {
  if (!value || typeof value !== 'object') return false;
  const keys = value as Record<string, unknown>;
  return (
    typeof keys.matches === 'function' &&
    typeof keys.verifyPrincipal === 'function' &&
    typeof keys.provider === 'string'
  );
}

function isTelemetryOptions(value: unknown): value is TelemetryOptions {
  if (!value || typeof value !== 'object') return false;
  const { meterProvider, tracerProvider } = value as Record<string, unknown>;
  const has = (provider: unknown, method: string) =>
    provider === undefined ||
    (!!provider && typeof (provider as Record<string, unknown>)[method] === 'function');
  return has(meterProvider, 'getMeter') && has(tracerProvider, 'getTracer');
}

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
 * `createIdentityPlane` configuration for `provider: 'legacy'`: the legacy adapter fields plus the plane fields.
 *
 * @example
 * ```ts
 * legacyPlaneConfigSchema.parse({ provider: 'legacy', secret, apiKeys: keys });
 * ```
 */
export const legacyPlaneConfigSchema = z
  .object({ ...legacyFieldsShape, ...planeFieldsShape })
  .strict()
  .superRefine(checkLegacyKeys);

/**
 * The validated plane configuration of the legacy provider.
 *
 * @example
 * ```ts
 * const config: LegacyPlaneConfig = legacyPlaneConfigSchema.parse(input);
 * ```
 */
export type LegacyPlaneConfig = z.output<typeof legacyPlaneConfigSchema>;

// ---------------------------------------------------------------------------------------------
// Vendor adapters (feature-flagged): Auth0 and Clerk. Their code lives in providers/auth0 and
// providers/clerk and is reached only through dynamic imports.

/** A bare DNS host name (`tenant.eu.auth0.com`): no scheme, path or port. */
const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i,
    'must be a bare host name such as tenant.eu.auth0.com (no scheme, path or port)',
  );

/**
 * Configuration of the Auth0 adapter (`provider: 'auth0'`, flag `auth0`). Access tokens are verified
 * locally against `https://<domain>/.well-known/jwks.json`; `clientId`/`clientSecret` are only used by
 * the Management API helpers (`createAuth0Membership`), never by verification.
 *
 * @example
 * ```ts
 * auth0ConfigSchema.parse({ provider: 'auth0', domain: 'acme.eu.auth0.com', audience: 'https://api.acme.test' });
 * ```
 */
export const auth0ConfigSchema = z
  .object({
    provider: z.literal('auth0'),
    /** The tenant's canonical domain; issuer `https://<domain>/`, JWKS from this domain. */
    domain: hostname,
    /** Custom domains of the same tenant: each is accepted as an issuer `https://<custom>/`. */
    customDomains: z.array(hostname).default([]),
    /** The API identifier(s) tokens must be issued for. No default. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).default(['RS256']),
    /**
     * Required `typ`. `null` (default) accepts `JWT`, `at+jwt` or none (Auth0's default token profile);
     * `at+jwt` requires the RFC 9068 profile. ID tokens are refused either way.
     */
    tokenType: z.string().min(1).nullable().default(null),
    /** The namespaced claim an Auth0 Action writes roles into, e.g. `https://acme.test/roles`. */
    rolesClaim: z.string().min(1).optional(),
    clockToleranceSec: z.number().finite().nonnegative().max(300).default(5),
    jwks: jwksCacheSchema.default(jwksCacheSchema.parse({})),
    /** Management API client (client credentials grant) for `createAuth0Membership`. */
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** Timeout of every HTTP call. */
    timeoutMs: z.number().int().positive().max(60_000).default(5000),
    /** Retries of a failed vendor API call (429, 5xx, network), replacing the SDK's slow defaults. */
    maxRetries: z.number().int().min(0).max(3).default(1),
    maxTokenBytes: z.number().int().positive().default(8192),
    realm: z.string().optional(),
    clock: clockFn.optional(),
    /** Seam for every HTTP call: the JWKS fetch and the auth0 SDK's `fetch` option. */
    fetch: fetchFn.optional(),
  })
  .strict();

/** The validated Auth0 adapter configuration (defaults applied). */
export type Auth0Config = z.output<typeof auth0ConfigSchema>;
/** What a caller writes for the Auth0 adapter. */
export type Auth0ConfigInput = z.input<typeof auth0ConfigSchema>;

/**
 * Configuration of the Clerk adapter (`provider: 'clerk'`, flag `clerk`). Session tokens are verified
 * by authplane's own strict verifier at `clock`, with `jwtKey` (networkless) or with the instance JWKS
 * from `GET <apiUrl>/v1/jwks` (needs `secretKey`); `publishableKey`, when set, pins the token issuer
 * to the Frontend API it names. API keys and M2M tokens through the Backend API.
 *
 * @example
 * ```ts
 * clerkConfigSchema.parse({ provider: 'clerk', secretKey, authorizedParties: ['https://app.acme.test'] });
 * ```
 */
export const clerkConfigSchema = z
  .object({
    provider: z.literal('clerk'),
    /** Backend API secret key (`sk_live_…`/`sk_test_…`): JWKS, API keys, M2M tokens, memberships. */
    secretKey: z
      .string()
      .regex(/^sk_(live|test)_\S+$/, 'must be a Clerk secret key (sk_live_… or sk_test_…)')
      .optional(),
    publishableKey: z
      .string()
      .regex(/^pk_(live|test)_\S+$/, 'must be a Clerk publishable key (pk_live_… or pk_test_…)')
      .optional(),
    /** The instance's PEM public key: session tokens are then verified without any network call. */
    jwtKey: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be a PEM public key' }).optional(),
    /** Machine secret key: M2M (`mt_`) verification uses it instead of the secret key; `ak_` keys need `secretKey`. */
    machineSecretKey: z.string().min(1).optional(),
    apiUrl: url.default('https://api.clerk.com'),
    /**
     * Origins allowed in a session token's `azp` (`https://app.acme.test`). Required: `null` switches
     * the check off explicitly. A mismatch is `audience_mismatch`.
     */
    authorizedParties: z.array(z.string().min(1)).min(1).nullable(),
    /** Which credentials are accepted besides session tokens. */
    machineTokens: z.array(z.enum(['api_key', 'm2m_token'])).default(['api_key', 'm2m_token']),
    clockToleranceSec: z.number().finite().nonnegative().max(300).default(5),
    jwks: jwksCacheSchema.default(jwksCacheSchema.parse({})),
    timeoutMs: z.number().int().positive().max(60_000).default(5000),
    maxRetries: z.number().int().min(0).max(3).default(1),
    maxTokenBytes: z.number().int().positive().default(8192),
    /** Allow an http `apiUrl`, for loopback hosts only (development, tests). */
    allowInsecureRequests: z.boolean().default(false),
    realm: z.string().optional(),
    clock: clockFn.optional(),
    /** Seam for every HTTP call the adapter makes: the JWKS and the Backend API calls (the SDK offers none). */
    fetch: fetchFn.optional(),
  })
  .strict();

/** The validated Clerk adapter configuration (defaults applied). */
export type ClerkConfig = z.output<typeof clerkConfigSchema>;
/** What a caller writes for the Clerk adapter. */
export type ClerkConfigInput = z.input<typeof clerkConfigSchema>;

/**
 * `createIdentityPlane` configuration for `provider: 'auth0'`.
 *
 * @example
 * ```ts
 * auth0PlaneConfigSchema.parse({ provider: 'auth0', domain, audience, flags: { auth0: true } });
 * ```
 */
export const auth0PlaneConfigSchema = auth0ConfigSchema.extend(planeFieldsShape);

/**
 * `createIdentityPlane` configuration for `provider: 'clerk'`.
 *
 * @example
 * ```ts
 * clerkPlaneConfigSchema.parse({ provider: 'clerk', secretKey, authorizedParties: null, flags: { clerk: true } });
 * ```
 */
export const clerkPlaneConfigSchema = clerkConfigSchema.extend(planeFieldsShape);

// ---------------------------------------------------------------------------------------------
// The migration plane (`provider: 'migration'`): two adapters side by side, modes per tenant. Its code
// lives in src/migration and is reached through a dynamic import.

const migrationModeSchema = z.enum(['legacy', 'shadow', 'dual', 'target']);
const fn = <T>() => z.custom<T>((v) => typeof v === 'function', mustBeFunction);

/**
 * One side of a migration: the adapter configuration of any provider but `migration` (without plane
 * fields such as `revocation`, `audit` or `flags`, which belong to the migration plane).
 *
 * @example
 * ```ts
 * migrationSideSchema.parse({ provider: 'legacy', secret });
 * ```
 */
export const migrationSideSchema = z.discriminatedUnion('provider', [
  legacyConfigSchema,
  oidcConfigSchema,
  auth0ConfigSchema,
  clerkConfigSchema,
]);

/**
 * Configuration of the migration plane. `legacy` and `target` are full adapter configurations; `mode` is
 * the default mode, `tenants` the static per-org overrides and percentage rollout, `modeFlag` an
 * OpenFeature client that overrides them at runtime; see `authplane/migration` for every field.
 *
 * @example
 * ```ts
 * migrationConfigSchema.parse({ provider: 'migration', legacy: { provider: 'legacy', secret },
 *   target: { provider: 'oidc', issuer, audience }, mode: 'legacy', tenants: { orgs: { org_acme: 'dual' } } });
 * ```
 */
export const migrationConfigSchema = z
  .object({
    provider: z.literal('migration'),
    legacy: migrationSideSchema,
    target: migrationSideSchema,
    /** Default mode of every tenant without an override. */
    mode: migrationModeSchema.default('legacy'),
    tenants: z
      .object({
        orgs: z.record(z.string().min(1), migrationModeSchema).optional(),
        rollout: z
          .object({
            mode: migrationModeSchema,
            percent: z.number().finite().min(0).max(100),
            seed: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    modeFlag: z
      .object({
        client: z.custom<ModeFlagClient>(
          (v) => !!v && typeof (v as Record<string, unknown>).getStringDetails === 'function',
          { message: 'must be an OpenFeature client (getStringDetails)' },
        ),
        key: z.string().min(1).optional(),
        errorMode: z.union([migrationModeSchema, z.literal('static')]).optional(),
        timeoutMs: z.number().int().positive().max(10_000).optional(),
        cacheUntilChanged: z.boolean().optional(),
      })
      .strict()
      .optional(),
    links: z
      .object({
        store: z
          .custom<IdentityLinkStore>(
            (v) =>
              !!v &&
              typeof (v as Record<string, unknown>).resolve === 'function' &&
              typeof (v as Record<string, unknown>).resolveOrg === 'function' &&
              typeof (v as Record<string, unknown>).link === 'function',
            { message: 'must be an IdentityLinkStore (resolve, resolveOrg, link)' },
          )
          .optional(),
        onFirstSight: fn<FirstSightHook>().optional(),
        cacheTtlSec: z.number().finite().nonnegative().optional(),
        cacheSize: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    routing: z
      .object({
        legacyIssuers: z.array(z.string().min(1)).optional(),
        targetIssuers: z.array(z.string().min(1)).optional(),
        legacyPrefixes: z.array(z.string().min(1)).optional(),
        targetPrefixes: z.array(z.string().min(1)).optional(),
        legacyMarkerClaim: z.string().min(1).nullable().optional(),
        opaque: z.enum(['legacy', 'target', 'reject']).optional(),
      })
      .strict()
      .optional(),
    shadow: z
      .object({
        header: z.string().min(1).nullable().optional(),
        exchange: fn<NonNullable<ShadowOptions['exchange']>>().optional(),
        sampleRate: z.number().finite().min(0).max(1).optional(),
        queueSize: z.number().int().positive().optional(),
        concurrency: z.number().int().positive().max(64).optional(),
        ignore: z.array(z.enum(['decision', 'subject', 'org', 'scopes', 'roles'])).optional(),
        onEvent: fn<NonNullable<ShadowOptions['onEvent']>>().optional(),
        samples: z.number().int().nonnegative().max(1000).optional(),
        random: fn<() => number>().optional(),
      })
      .strict()
      .optional(),
    maxTokenBytes: z.number().int().positive().default(8192),
    realm: z.string().optional(),
    clock: clockFn.optional(),
  })
  .strict();

/**
 * `createIdentityPlane` configuration for `provider: 'migration'`.
 *
 * @example
 * ```ts
 * migrationPlaneConfigSchema.parse({ provider: 'migration', legacy, target, audit: (e) => sink(e) });
 * ```
 */
export const migrationPlaneConfigSchema = migrationConfigSchema.extend(planeFieldsShape);

/**
 * The validated migration plane configuration.
 *
 * @example
 * ```ts
 * const config: MigrationPlaneConfig = migrationPlaneConfigSchema.parse(input);
 * ```
 */
export type MigrationPlaneConfig = z.output<typeof migrationPlaneConfigSchema>;
/** What a caller writes for the migration plane. */
export type MigrationPlaneConfigInput = z.input<typeof migrationPlaneConfigSchema>;

/**
 * Every provider `createIdentityPlane` knows, in the order error messages list them.
 *
 * @example
 * ```ts
 * PROVIDER_NAMES.includes('oidc'); // true
 * ```
 */
export const PROVIDER_NAMES = ['oidc', 'legacy', 'auth0', 'clerk'] as const;

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
export const identityConfigSchema = z.discriminatedUnion('provider', [
  oidcPlaneConfigSchema,
  legacyPlaneConfigSchema,
  auth0PlaneConfigSchema,
  clerkPlaneConfigSchema,
]);

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
