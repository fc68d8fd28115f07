// The fields every plane shares (flags, revocation, audit, telemetry, API keys, resource metadata,
// sender constraints) and the plane schemas of the first-party adapters.
import { z } from 'zod';
import type { ApiKeys } from '../../apikeys/keys';
import type { RevocationStore } from '../../identity/revocation';
import type { AuditHook } from '../../telemetry/audit';
import type { TelemetryOptions } from '../../telemetry/metrics';
import { senderFieldsShape } from '../sender-schema';

import { checkLegacyKeys, legacyFieldsShape } from './legacy';
import { oidcConfigSchema } from './oidc';
import { url } from './primitives';

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

export const mustBeFunction = { message: 'must be a function' };

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

export function isApiKeys(value: unknown): value is ApiKeys {
  if (!value || typeof value !== 'object') return false;
  const keys = value as Record<string, unknown>;
  return (
    typeof keys.matches === 'function' &&
    typeof keys.verifyPrincipal === 'function' &&
    typeof keys.provider === 'string'
  );
}

export function isTelemetryOptions(value: unknown): value is TelemetryOptions {
  if (!value || typeof value !== 'object') return false;
  const { meterProvider, tracerProvider } = value as Record<string, unknown>;
  const has = (provider: unknown, method: string) =>
    provider === undefined ||
    (!!provider && typeof (provider as Record<string, unknown>)[method] === 'function');
  return has(meterProvider, 'getMeter') && has(tracerProvider, 'getTracer');
}

export function isRevocationStore(value: unknown): value is RevocationStore {
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
