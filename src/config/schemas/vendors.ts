// The feature-flagged vendor adapters' configuration: Auth0 and Clerk.
import { z } from 'zod';

import { ASYMMETRIC_ALGORITHMS, jwksCacheSchema } from './oidc';
import { planeFieldsShape } from './plane';
import { clockFn, fetchFn, url } from './primitives';

// ---------------------------------------------------------------------------------------------
// Vendor adapters (feature-flagged): Auth0 and Clerk. Their code lives in providers/auth0 and
// providers/clerk and is reached only through dynamic imports.

/** A bare DNS host name (`tenant.eu.auth0.com`): no scheme, path or port. */
export const hostname = z
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
