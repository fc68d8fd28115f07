// The IntegrationPlane configuration, validated once with zod. Stores, locks, fetch and clock are
// checked structurally and kept by reference; everything else is copied and frozen.
import { z } from 'zod';
import { flagsSchema } from '../config/schema';
import { ConfigError } from '../core/errors';
import type { ConnectionStore } from '../stores/contracts';
import { BUILTIN_INTEGRATIONS } from './catalog';
import type { RefreshLock } from './locks';

const fn = (message: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message });
const httpUrl = z.url({ protocol: /^https?$/ });

const isStore = (v: unknown): v is ConnectionStore =>
  !!v &&
  typeof v === 'object' &&
  ['get', 'list', 'put', 'compareAndSet', 'delete'].every(
    (m) => typeof (v as Record<string, unknown>)[m] === 'function',
  );
const isLock = (v: unknown): v is RefreshLock =>
  !!v && typeof v === 'object' && typeof (v as Record<string, unknown>).acquire === 'function';

/**
 * One catalog entry: the OAuth client and overrides of the built-in definition (or a whole custom one).
 *
 * @example
 * ```ts
 * integrationSettingsSchema.parse({ clientId: 'Iv1.abc', clientSecret: 's', tokenEndpoint: 'http://127.0.0.1:4000/token' });
 * ```
 */
export const integrationSettingsSchema = z.strictObject({
  extends: z.enum(['github', 'slack', 'jira']).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  displayName: z.string().min(1).optional(),
  authorizationEndpoint: httpUrl.optional(),
  tokenEndpoint: httpUrl.optional(),
  defaultScopes: z.array(z.string().min(1)).optional(),
  scopeSeparator: z.string().min(1).max(3).optional(),
  authorizationParams: z.record(z.string(), z.string()).optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_post', 'client_secret_basic']).optional(),
  tokenResponse: z.enum(['oauth2', 'slack']).optional(),
  rotatesRefreshToken: z.boolean().optional(),
  reauthErrors: z.array(z.string().min(1)).optional(),
  apiBaseUrl: httpUrl.nullable().optional(),
});

const sharedShape = {
  flags: flagsSchema.default({}),
  /** Bound of every network call to a token endpoint or to Nango. Default 10 000 ms. */
  timeoutMs: z.number().int().min(1).max(120_000).default(10_000),
  /** Bound of an API call made through `plane.fetch` (each attempt). Default 30 000 ms. */
  fetchTimeoutMs: z.number().int().min(1).max(600_000).default(30_000),
  /** Tokens are refreshed this many seconds before they expire. Default 60. */
  refreshSkewSec: z.number().int().min(0).max(3_600).default(60),
  /** Bound of the in-process token cache. Default 1 000 connections. */
  cacheMaxEntries: z.number().int().min(1).max(1_000_000).default(1_000),
  /**
   * Per integration, the origins `fetch` may send its token to besides the integration's own
   * `apiBaseUrl` (`{ jira: ['https://acme.atlassian.net'] }`). Any other URL is `url_not_allowed`.
   */
  allowedOrigins: z
    .record(
      z.string().min(1).max(64),
      z.array(httpUrl.refine((u) => !u.includes('*'), { message: 'wildcards are not allowed' })).max(100),
    )
    .optional(),
  fetch: fn('must be a function').optional(),
  clock: fn('must be a function').optional(),
};

/**
 * The first-party configuration (the default provider).
 *
 * @example
 * ```ts
 * firstPartyConfigSchema.parse({ store, encryption: { currentKeyId: 'k1', keys: { k1 } }, catalog: { github: { clientId, clientSecret } } });
 * ```
 */
export const firstPartyConfigSchema = z
  .strictObject({
    provider: z.literal('first-party').default('first-party'),
    store: z.custom<ConnectionStore>(isStore, {
      message: 'must be a ConnectionStore (get, list, put, compareAndSet, delete)',
    }),
    encryption: z.strictObject({
      currentKeyId: z.string().min(1),
      keys: z.record(z.string(), z.string()),
    }),
    catalog: z.record(z.string().min(1).max(64), integrationSettingsSchema),
    /** Serialises refreshes across instances. Default: in-process only. */
    lock: z.custom<RefreshLock>(isLock, { message: 'must be a RefreshLock (acquire function)' }).optional(),
    /** How long a connect flow may take between start and finish. Default 600 s. */
    stateTtlSec: z.number().int().min(10).max(86_400).default(600),
    /** Longest wait for another instance's refresh of the same connection. Default timeoutMs + 5 s. */
    lockWaitMs: z.number().int().min(1).max(300_000).optional(),
    ...sharedShape,
  })
  .superRefine((config, ctx) => {
    for (const [key, entry] of Object.entries(config.catalog)) {
      if (key.startsWith('authplane:')) {
        ctx.addIssue({
          code: 'custom',
          path: ['catalog', key],
          message: 'the authplane: prefix is reserved',
        });
      }
      const builtin = entry.extends !== undefined || Object.hasOwn(BUILTIN_INTEGRATIONS, key);
      if (!builtin && entry.clientId !== undefined) {
        for (const field of ['authorizationEndpoint', 'tokenEndpoint'] as const) {
          if (!entry[field]) {
            ctx.addIssue({
              code: 'custom',
              path: ['catalog', key, field],
              message: 'is required for a custom OAuth integration',
            });
          }
        }
      }
    }
  });

/**
 * The Nango configuration (`flags.nango` must be on).
 *
 * @example
 * ```ts
 * nangoConfigSchema.parse({ provider: 'nango', flags: { nango: true }, nango: { secretKey: process.env.NANGO_SECRET_KEY } });
 * ```
 */
export const nangoConfigSchema = z
  .strictObject({
    provider: z.literal('nango'),
    nango: z.strictObject({
      secretKey: z.string().min(1),
      /** Default `https://api.nango.dev`; a self-hosted Nango's URL otherwise. */
      host: httpUrl.optional(),
      /** `direct` (default): call APIs with the token; `proxy`: through Nango's proxy. */
      fetchMode: z.enum(['direct', 'proxy']).default('direct'),
      /** Integration name -> Nango provider config key, when they differ. */
      providerConfigKeys: z.record(z.string(), z.string().min(1)).optional(),
      /**
       * Where a Nango connection's owning org is read from — exactly one place, so nothing else (another
       * tag, metadata a user could set) can claim it: `'end_user'` (default: `end_user.organization.id`
       * of the connect session), `{ tag: 'organization_id' }` (the connection's tags, then the end user's),
       * or `{ metadata: 'orgId' }` (a key of the connection metadata your backend sets).
       */
      orgBinding: z
        .union([
          z.literal('end_user'),
          z.strictObject({ tag: z.string().min(1).max(64) }),
          z.strictObject({ metadata: z.string().min(1).max(64) }),
        ])
        .optional(),
      /** @deprecated Same as `orgBinding: { tag: orgTag }`. */
      orgTag: z.string().min(1).max(64).optional(),
      /** @internal Test seam: how the SDK is imported. */
      importSdk: fn('must be a function').optional(),
    }),
    ...sharedShape,
  })
  .superRefine((config, ctx) => {
    if (config.nango.orgBinding !== undefined && config.nango.orgTag !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['nango', 'orgTag'],
        message: 'set either nango.orgBinding or the older nango.orgTag, not both',
      });
    }
  });

/**
 * Validated first-party configuration.
 *
 * @example
 * ```ts
 * const config: FirstPartyConfig = firstPartyConfigSchema.parse(input);
 * ```
 */
export type FirstPartyConfig = z.output<typeof firstPartyConfigSchema>;
/**
 * Validated Nango configuration.
 *
 * @example
 * ```ts
 * const config: NangoConfig = nangoConfigSchema.parse(input);
 * ```
 */
export type NangoConfig = z.output<typeof nangoConfigSchema>;

/**
 * What `createIntegrationPlane` accepts for the first-party provider (`provider` may be omitted).
 *
 * @example
 * ```ts
 * const config: FirstPartyPlaneConfig = { store, encryption, catalog: { github: { clientId, clientSecret } } };
 * ```
 */
export type FirstPartyPlaneConfig = z.input<typeof firstPartyConfigSchema>;
/**
 * What `createIntegrationPlane` accepts for Nango.
 *
 * @example
 * ```ts
 * const config: NangoPlaneConfig = { provider: 'nango', flags: { nango: true }, nango: { secretKey } };
 * ```
 */
export type NangoPlaneConfig = z.input<typeof nangoConfigSchema>;

/**
 * The first zod issue as a `ConfigError` naming the field (`catalog.github.tokenEndpoint`). zod's
 * messages never contain the rejected value, so no secret leaks through them.
 *
 * @example
 * ```ts
 * const parsed = nangoConfigSchema.safeParse(input);
 * if (!parsed.success) throw toConfigError(parsed.error, input);
 * ```
 */
export function toConfigError(error: z.ZodError, input: unknown): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError('', 'is invalid', { cause: error });
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return new ConfigError([...path, issue.keys[0] ?? ''].join('.'), 'is not a known field', {
      cause: error,
    });
  }
  let value: unknown = input;
  for (const key of issue.path)
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  if (issue.code === 'invalid_type' && value === undefined) {
    return new ConfigError(path.join('.'), 'is required', { cause: error });
  }
  return new ConfigError(path.join('.'), issue.message, { cause: error });
}
