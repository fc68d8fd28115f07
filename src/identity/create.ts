import type { z } from 'zod';
import type { ApiKeys } from '../apikeys/keys';
import { flagsSchema, type IdentityConfigInput, type MigrationPlaneConfigInput } from '../config/schema';
import { ConfigError } from '../core/errors';
import type { MigrationPlane } from '../migration/plane';
import type { AuditHook } from '../telemetry/audit';
import type { TelemetryOptions } from '../telemetry/metrics';
import { routeApiKeys } from './api-key-routing';
import { createPlane, type PlaneOptions } from './plane';
import type { ProviderEntry, ProviderLoadContext } from './provider-entry';
import { PROVIDERS } from './registry';
import type { ResourceDescription, ResourceMetadataOptions } from './resource-metadata';
import { describeResource } from './resource-servers';
import type { RevocationStore } from './revocation';
import type { DpopOptions } from './sender/binding';
import type { GetCertificate } from './sender/mtls';
import type { IdentityAdapter, IdentityPlane } from './types';

export { defineProvider, type ProviderEntry, type ProviderLoadContext } from './provider-entry';
export { PROVIDERS } from './registry';

/**
 * Builds the identity plane a configuration describes. The configuration is validated once with zod
 * (the first bad field becomes a `ConfigError` whose `path` names it, e.g. `jwks.cooldownSec`), copied
 * and deep-frozen (the caller's object is never mutated or retained), checked against feature flags
 * (a flagged provider whose flag is off is a `ConfigError` naming the flag), and only then is the
 * adapter imported, lazily, so that unused providers and vendor SDKs are never loaded.
 *
 * Plane fields shared by every provider: `revocation` (a `RevocationStore`; in-memory by default),
 * `realm`, `maxTokenBytes`, `flags`, `clock`, `audit` (an `AuditHook`), `telemetry` (OpenTelemetry
 * meter and tracer providers other than the global ones), `apiKeys` (a `createApiKeys` service:
 * credentials it `matches()` are verified by it, everything else by the provider; keys are revoked
 * with `keys.revoke`, never `plane.revoke`, and the plane does not close the service).
 *
 * @throws ConfigError for every configuration problem, including an unknown provider (the message
 * lists the valid ones) and a missing optional vendor package (the message names it).
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer: 'https://id.example', audience: 'https://api.example' });
 * const result = await plane.authenticate(request);
 * ```
 */
export async function createIdentityPlane(config: MigrationPlaneConfigInput): Promise<MigrationPlane>;
export async function createIdentityPlane(config: IdentityConfigInput): Promise<IdentityPlane>;
export async function createIdentityPlane(
  config: IdentityConfigInput | MigrationPlaneConfigInput,
): Promise<IdentityPlane> {
  return createIdentityPlaneFrom(PROVIDERS, config);
}

/**
 * `createIdentityPlane` over an explicit provider registry.
 *
 * @internal Lets tests exercise the flag and vendor-package paths before any flagged provider exists.
 * @example
 * ```ts
 * const plane = await createIdentityPlaneFrom({ ...PROVIDERS, fake: defineProvider({ … }) }, { provider: 'fake' });
 * ```
 */
export async function createIdentityPlaneFrom(
  registry: Readonly<Record<string, ProviderEntry>>,
  config: unknown,
): Promise<IdentityPlane> {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError('', 'the configuration must be an object');
  }
  const input = config as Record<string, unknown>;
  const names = Object.keys(registry);
  const provider = input.provider;
  if (provider === undefined) throw new ConfigError('provider', `is required; one of: ${names.join(', ')}`);
  if (typeof provider !== 'string' || !Object.hasOwn(registry, provider)) {
    const shown = typeof provider === 'string' ? `"${provider.slice(0, 40)}"` : `a ${typeof provider}`;
    throw new ConfigError('provider', `unknown provider ${shown}; valid providers: ${names.join(', ')}`);
  }
  const entry = registry[provider] as ProviderEntry;

  // Flags first: selecting a gated provider is refused before its own fields are even looked at.
  const flags = flagsSchema.safeParse(input.flags ?? {});
  if (!flags.success) throw configErrorFrom(flags.error, ['flags'], input.flags);
  if (entry.flag && flags.data[entry.flag] !== true) {
    throw new ConfigError(
      `flags.${entry.flag}`,
      `provider "${provider}" is behind the feature flag "${entry.flag}", which is off; ` +
        `set flags.${entry.flag} = true (or AUTHPLANE_FLAGS=${entry.flag})`,
    );
  }

  const parsed = entry.schema.safeParse(config);
  if (!parsed.success) throw configErrorFrom(parsed.error, [], config);
  // zod returns fresh objects and arrays; freezing them makes the validated config immutable without
  // touching the caller's object. Functions and stores are kept by reference, unfrozen.
  const validated = deepFreezePlain(parsed.data) as Record<string, unknown>;

  // The adapter sees only its own fields: the revocation store and the flags are the plane's business.
  const {
    revocation: _revocation,
    flags: _flags,
    audit: _audit,
    telemetry: _telemetry,
    apiKeys,
    apiKeySchemes: _apiKeySchemes,
    apiKeyHeader: _apiKeyHeader,
    dpop: _dpop,
    getCertificate: _getCertificate,
    resourceMetadata: _resourceMetadata,
    resourceMetadataUrl: _resourceMetadataUrl,
    audienceMode: _audienceMode,
    ...adapterFields
  } = validated;
  const options = planeOptions(validated);
  const adapter = await loadAdapter(entry, provider, Object.freeze(adapterFields), {
    telemetry: options.telemetry,
    flags: flags.data,
    registry,
  });
  // API keys are routed by format in front of the provider (see routeApiKeys); the plane stays one plane.
  const withKeys = entry.withApiKeys ?? routeApiKeys;
  const plane = createPlane(apiKeys ? withKeys(adapter, apiKeys as ApiKeys) : adapter, options);
  return entry.wrap ? entry.wrap(plane, adapter) : plane;
}

function planeOptions(config: Record<string, unknown>): PlaneOptions {
  const resource: ResourceDescription = describeResource(config);
  const audienceMode = config.audienceMode === 'exact' ? 'exact' : 'any';
  if (audienceMode === 'exact' && resource.audiences.length === 0) {
    throw new ConfigError(
      'audienceMode',
      `'exact' needs a configured audience, and provider "${String(config.provider)}" has none`,
    );
  }
  return {
    resource,
    audienceMode,
    resourceMetadata: (config.resourceMetadata as ResourceMetadataOptions | undefined) ?? undefined,
    resourceMetadataUrl:
      typeof config.resourceMetadataUrl === 'string' ? config.resourceMetadataUrl : undefined,
    revocation: config.revocation as RevocationStore | undefined,
    realm: typeof config.realm === 'string' ? config.realm : undefined,
    maxTokenBytes: typeof config.maxTokenBytes === 'number' ? config.maxTokenBytes : undefined,
    clock: typeof config.clock === 'function' ? (config.clock as () => number) : undefined,
    audit: typeof config.audit === 'function' ? (config.audit as AuditHook) : undefined,
    telemetry:
      config.telemetry && typeof config.telemetry === 'object'
        ? (config.telemetry as TelemetryOptions)
        : undefined,
    apiKeySchemes: Array.isArray(config.apiKeySchemes) ? (config.apiKeySchemes as string[]) : undefined,
    apiKeyHeader: typeof config.apiKeyHeader === 'string' ? config.apiKeyHeader : undefined,
    dpop: config.dpop && typeof config.dpop === 'object' ? (config.dpop as DpopOptions) : undefined,
    getCertificate:
      typeof config.getCertificate === 'function' ? (config.getCertificate as GetCertificate) : undefined,
  };
}

async function loadAdapter(
  entry: ProviderEntry,
  provider: string,
  config: unknown,
  context: ProviderLoadContext,
): Promise<IdentityAdapter> {
  try {
    return await entry.load(config, context);
  } catch (err) {
    const pkg = entry.vendorPackage;
    if (pkg && isModuleNotFound(err, pkg)) {
      throw new ConfigError(
        'provider',
        `provider "${provider}" needs the optional package "${pkg}", which is not installed; run: npm install ${pkg}`,
        { cause: err },
      );
    }
    throw err;
  }
}

function isModuleNotFound(err: unknown, pkg: string): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    (typeof message === 'string' && /Cannot find (module|package)|Failed to (resolve|load)/i.test(message));
  return notFound && typeof message === 'string' && message.includes(pkg);
}

/**
 * The first zod issue as a `ConfigError` with the dotted path of the field (`jwks.cooldownSec`,
 * `algorithms.0`). zod's messages name types and allowed values, never the rejected value, so no secret
 * can leak through them.
 *
 * @internal
 * @example
 * ```ts
 * const parsed = schema.safeParse(config);
 * if (!parsed.success) throw configErrorFrom(parsed.error);
 * ```
 */
export function configErrorFrom(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
  input?: unknown,
): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError(prefix.join('.'), 'is invalid', { cause: error });
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return new ConfigError([...path, key].join('.'), 'is not a known field', { cause: error });
  }
  if (issue.code === 'invalid_type' && input !== undefined && valueAt(input, issue.path) === undefined) {
    return new ConfigError(path.join('.'), 'is required', { cause: error });
  }
  return new ConfigError(path.join('.'), issue.message, { cause: error });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function deepFreezePlain<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) deepFreezePlain(item);
    return Object.freeze(value);
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const child of Object.values(value)) deepFreezePlain(child);
    return Object.freeze(value);
  }
  return value;
}
