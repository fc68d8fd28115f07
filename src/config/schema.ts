import { z } from 'zod';
import type { ApiKeys } from '../apikeys/keys';
import type { Principal } from '../core/principal';
import type { RevocationStore } from '../identity/revocation';
import type { MigrationControlStore } from '../migration/control/types';
import type { FirstSightHook, OrgFirstSightHook } from '../migration/links';
import type { ModeFlagClient } from '../migration/modes';
import type { ShadowOptions } from '../migration/shadow';
import type { IdentityLinkStore, InvalidationChannel } from '../stores/contracts';
import type { AuditHook } from '../telemetry/audit';
import type { TelemetryOptions } from '../telemetry/metrics';
import {
  decodeSecret,
  isPrivateKeyMaterial,
  LEGACY_PRESETS,
  MIN_LEGACY_SECRET_BYTES,
  SECRET_ENCODINGS,
  type SecretEncoding,
} from './legacy-keys';
import { senderFieldsShape } from './sender-schema';

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

/** A PEM (SPKI or PKCS#1) or a public JWK. */
const legacyPublicKeySchema = z.union([z.string().min(1), legacyJwkSchema]);
/** An HMAC secret: a UTF-8 (or `secretEncoding`-encoded) string, or raw bytes (`Uint8Array`, `Buffer`). */
const legacySecretSchema = z.union([z.string().min(1), z.instanceof(Uint8Array)]);

/** The claim mapping as written: every name optional (the preset, then SimpleJWT's names, fill the rest). */
const legacyClaimMappingInputSchema = z
  .object({
    subject: z.string().min(1).optional(),
    org: z.string().min(1).optional(),
    roles: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).min(1).optional(),
    sessionId: z.string().min(1).optional(),
    tokenType: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
  })
  .strict();

/** User-state hook: false means the subject is deactivated (`subject_inactive`). */
type LegacyIsActive = (principal: Principal) => boolean | Promise<boolean>;

/** The fields of ONE legacy token verifier: its keys, its claims and its checks. */
const legacyVerifierShape = {
  /** Defaults of a Django stack: `simplejwt` or `allauth-headless`. Explicit fields win. */
  preset: z.enum(LEGACY_PRESETS).optional(),
  /** HMAC secret: a string (UTF-8 unless `secretEncoding`) or bytes; at least 32 bytes unless `allowWeakSecret`. */
  secret: legacySecretSchema.optional(),
  /** How string secrets are decoded: `utf8` (default), `base64`, `base64url` or `hex`. */
  secretEncoding: z.enum(SECRET_ENCODINGS).optional(),
  /**
   * Further keys accepted at once, for rotation without logging everyone out: secrets (strings or bytes)
   * and `{ publicKey }` entries. A token verifies if any of them verifies it.
   */
  secrets: z
    .array(z.union([legacySecretSchema, z.object({ publicKey: legacyPublicKeySchema }).strict()]))
    .min(1)
    .max(16)
    .optional(),
  /** Accept a secret shorter than 32 bytes. Loud: a start-up warning and a metric attribute. */
  allowWeakSecret: z.boolean().optional(),
  /** Asymmetric verification key(s): a PEM (SPKI or PKCS#1) or a public JWK, or a list of them. */
  publicKey: z.union([legacyPublicKeySchema, z.array(legacyPublicKeySchema).min(1).max(16)]).optional(),
  /** Pinned algorithms. Default `['HS256']` with secrets, `['RS256']` with public keys (both when mixed). */
  algorithms: z
    .array(z.enum([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]))
    .min(1)
    .optional(),
  /** Exact `iss`, enforced when set (legacy tokens often carry none); also routes between `verifiers`. */
  issuer: z.string().min(1).optional(),
  /** Accepted `aud` values, enforced when set. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Accepted value(s) of the token type claim (default `access`); `null` switches the check off. */
  tokenType: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)])
    .nullable()
    .optional(),
  /** Refuse tokens without a string `jti` (needed to revoke one token). Default true. */
  requireJti: z.boolean().optional(),
  /** Claim names; the preset (else SimpleJWT's names) fills what is not given. */
  claims: legacyClaimMappingInputSchema.optional(),
  /** Leeway on `exp`/`nbf`/`iat`: 0 with a preset (SimpleJWT's default `LEEWAY`), else 5. */
  clockToleranceSec: z.number().finite().nonnegative().max(300).optional(),
};

/** Fields of the legacy adapter, before the cross-field checks. */
const legacyFieldsShape = {
  provider: z.literal('legacy'),
  ...legacyVerifierShape,
  /**
   * Several verifiers on one legacy side (SimpleJWT and allauth tokens of one project), each with its
   * own keys, preset and claims. A token goes to the verifier whose `issuer` it names, else to the first
   * whose token-type claim it carries. Exclusive with the top-level key fields.
   */
  verifiers: z.array(z.object(legacyVerifierShape).strict()).min(1).max(8).optional(),
  /**
   * User-state hook, called after the signature and claims are verified: `false` refuses the token as
   * `subject_inactive` (a deactivated Django user); a throw or a timeout is `provider_unavailable`.
   */
  isActive: z
    .custom<LegacyIsActive>((v) => typeof v === 'function', { message: 'must be a function' })
    .optional(),
  /** Seconds an `isActive` answer is reused per subject. Default 10; 0 asks on every request. */
  isActiveCacheSec: z.number().finite().nonnegative().max(300).default(10),
  /** Deadline of one `isActive` call, in ms. Default 1000. */
  isActiveTimeoutMs: z.number().int().positive().max(30_000).default(1000),
  maxTokenBytes: z.number().int().positive().default(8192),
  realm: z.string().optional(),
  clock: clockFn.optional(),
};

const LEGACY_KEY_FIELDS = [
  'preset',
  'secret',
  'secretEncoding',
  'secrets',
  'publicKey',
  'algorithms',
  'issuer',
  'audience',
  'tokenType',
  'claims',
  'clockToleranceSec',
] as const;

type LegacyVerifierFields = {
  secret?: string | Uint8Array | undefined;
  secretEncoding?: string | undefined;
  secrets?: ReadonlyArray<string | Uint8Array | { publicKey: unknown }> | undefined;
  allowWeakSecret?: boolean | undefined;
  publicKey?: unknown;
  algorithms?: readonly string[] | undefined;
};

function checkLegacyKeys(
  config: LegacyVerifierFields & { verifiers?: readonly LegacyVerifierFields[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (config.verifiers !== undefined) {
    const record = config as Record<string, unknown>;
    const clash = LEGACY_KEY_FIELDS.find((field) => record[field] !== undefined);
    if (clash) {
      ctx.addIssue({ code: 'custom', path: [clash], message: 'goes inside each entry of verifiers' });
      return;
    }
    // allowWeakSecret at the top applies to every verifier that does not say otherwise.
    config.verifiers.forEach((verifier, index) => {
      checkLegacyVerifier(
        { ...verifier, allowWeakSecret: verifier.allowWeakSecret ?? config.allowWeakSecret },
        ctx,
        ['verifiers', index],
      );
    });
    return;
  }
  checkLegacyVerifier(config, ctx, []);
}

function checkLegacyVerifier(config: LegacyVerifierFields, ctx: z.RefinementCtx, at: PropertyKey[]): void {
  const issue = (path: PropertyKey[], message: string) =>
    ctx.addIssue({ code: 'custom', path: [...at, ...path], message });
  const encoding = (config.secretEncoding ?? 'utf8') as SecretEncoding;
  const secrets: Array<{ value: string | Uint8Array; path: PropertyKey[] }> = [];
  const publicKeys: Array<{ value: unknown; path: PropertyKey[] }> = [];
  if (config.secret !== undefined) secrets.push({ value: config.secret, path: ['secret'] });
  config.secrets?.forEach((entry, index) => {
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      secrets.push({ value: entry, path: ['secrets', index] });
    } else publicKeys.push({ value: entry.publicKey, path: ['secrets', index, 'publicKey'] });
  });
  if (Array.isArray(config.publicKey)) {
    config.publicKey.forEach((key, index) => {
      publicKeys.push({ value: key, path: ['publicKey', index] });
    });
  } else if (config.publicKey !== undefined)
    publicKeys.push({ value: config.publicKey, path: ['publicKey'] });

  if (secrets.length === 0 && publicKeys.length === 0) {
    issue(['secret'], 'is required (or publicKey for RS256)');
    return;
  }
  if (config.secretEncoding !== undefined && !secrets.some((s) => typeof s.value === 'string')) {
    issue(['secretEncoding'], 'applies to string secrets only; none is configured');
  }
  for (const { value, path } of secrets) {
    const bytes = decodeSecret(value, encoding);
    if (bytes === null) {
      issue(path, `is not valid ${encoding}`);
      continue;
    }
    if (bytes.length < MIN_LEGACY_SECRET_BYTES && config.allowWeakSecret !== true) {
      issue(
        path,
        `must be at least ${MIN_LEGACY_SECRET_BYTES} bytes (256 bits) for HMAC signing; ` +
          'set allowWeakSecret: true only to keep an existing deployment running while you rotate away from it',
      );
    }
    bytes.fill(0);
  }
  for (const { value, path } of publicKeys) {
    if (isPrivateKeyMaterial(value)) {
      issue(path, 'is PRIVATE key material: configure the public key only (never ship the signing key)');
    }
  }
  const hmac = (alg: string) => (HMAC_ALGORITHMS as readonly string[]).includes(alg);
  const algorithms = config.algorithms;
  if (algorithms === undefined) return;
  // Algorithm confusion is refused at start-up too: a secret only ever verifies HS*, a public key never does.
  if (publicKeys.length === 0 && !algorithms.every(hmac)) {
    issue(['algorithms'], 'only HS256/HS384/HS512 with a secret');
  } else if (secrets.length === 0 && algorithms.some(hmac)) {
    issue(['algorithms'], 'HS* algorithms need a secret, not a public key');
  } else if (secrets.length > 0 && !algorithms.some(hmac)) {
    issue(['algorithms'], 'must include an HS* algorithm for the configured secrets');
  } else if (publicKeys.length > 0 && algorithms.every(hmac)) {
    issue(['algorithms'], 'must include an asymmetric algorithm for the configured public keys');
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
/**
 * One legacy token verifier as validated (the top-level fields, or one entry of `verifiers`).
 *
 * @example
 * ```ts
 * const verifiers: LegacyVerifierConfig[] = config.verifiers ?? [config];
 * ```
 */
export type LegacyVerifierConfig = Omit<LegacyConfig, 'verifiers' | 'provider'>;

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
  /**
   * Authorization schemes read as API keys besides `Bearer`: `['Api-Key']` accepts
   * `Authorization: Api-Key <key>`, what djangorestframework-api-key clients send.
   */
  apiKeySchemes: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'must be an HTTP auth scheme name such as Api-Key')
        .refine((s) => s.toLowerCase() !== 'bearer', 'Bearer is always accepted'),
    )
    .min(1)
    .max(4)
    .optional(),
  /** The API key header. Default `X-API-Key` (drf-api-key's `API_KEY_CUSTOM_HEADER`, e.g. `X-Api-Key`). */
  apiKeyHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
    .refine((h) => !['authorization', 'cookie', 'host'].includes(h.toLowerCase()), 'cannot be this header')
    .optional(),
  /** Sender-constrained tokens: `dpop` (RFC 9449) and `getCertificate` (RFC 8705). */
  ...senderFieldsShape,
  /** RFC 9728: when set, every 401/403 challenge carries `resource_metadata="<url>"`. */
  resourceMetadataUrl: url.optional(),
  /** Defaults of `plane.resourceMetadata()` (RFC 9728 document fields). */
  resourceMetadata: z
    .object({
      /** The URL clients use (behind a proxy: the public one). Default: the audience, when one URL. */
      resource: url.optional(),
      authorizationServers: z.array(url).min(1).optional(),
      scopesSupported: z.array(z.string().min(1)).optional(),
      resourceName: z.string().min(1).optional(),
      resourceDocumentation: url.optional(),
      resourcePolicyUri: url.optional(),
      resourceTosUri: url.optional(),
    })
    .strict()
    .optional(),
  /**
   * `'any'` (default): a token is accepted when one of its `aud` values is configured. `'exact'`: a
   * token whose `aud` also names another resource is `audience_mismatch`.
   */
  audienceMode: z.enum(['any', 'exact']).default('any'),
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
    /** Modes from a shared control store (or its spec: `sqlite:…`, `postgres://…`, `redis://…`). */
    control: z
      .object({
        store: z.union([
          z.string().min(1),
          z.custom<MigrationControlStore>(
            (v) =>
              !!v &&
              typeof (v as Record<string, unknown>).read === 'function' &&
              typeof (v as Record<string, unknown>).version === 'function',
            { message: 'must be a MigrationControlStore or a store spec' },
          ),
        ]),
        pollSec: z.number().finite().positive().max(86_400).optional(),
        channel: z
          .custom<InvalidationChannel>(
            (v) => !!v && typeof (v as Record<string, unknown>).subscribe === 'function',
            {
              message: 'must be an InvalidationChannel',
            },
          )
          .optional(),
        record: z.boolean().optional(),
        flushSec: z.number().finite().positive().max(86_400).optional(),
        bucketSec: z.number().finite().positive().max(86_400).optional(),
        readiness: z
          .object({
            windowSec: z.number().finite().positive().optional(),
            minComparisons: z.number().int().nonnegative().optional(),
            targetWindowSec: z.number().finite().positive().optional(),
            minTargetRequests: z.number().int().nonnegative().optional(),
          })
          .strict()
          .optional(),
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
        onFirstSightOrg: fn<OrgFirstSightHook>().optional(),
        require: z.boolean().optional(),
        hookTimeoutMs: z.number().int().positive().max(60_000).optional(),
        cacheTtlSec: z.number().finite().nonnegative().optional(),
        cacheSize: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** The tenant of a credential without an org claim (its mode is then checked at verification). */
    tenantOf: fn<(principal: Principal) => string | null | Promise<string | null>>().optional(),
    /** The side authplane-issued API keys (plane option `apiKeys`) belong to. Default `target`. */
    apiKeysSide: z.enum(['legacy', 'target']).optional(),
    routing: z
      .object({
        legacyIssuers: z.array(z.string().min(1)).optional(),
        targetIssuers: z.array(z.string().min(1)).optional(),
        legacyPrefixes: z.array(z.string().min(1)).optional(),
        targetPrefixes: z.array(z.string().min(1)).optional(),
        legacyMarkerClaim: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)])
          .nullable()
          .optional(),
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
