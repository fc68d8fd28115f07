import { ConfigError } from '../core/errors';
import { readMigrationConfig } from './migration-env';
import {
  FLAG_NAMES,
  type FlagName,
  type IdentityConfigInput,
  identityConfigSchema,
  type MigrationPlaneConfigInput,
  PROVIDER_NAMES,
} from './schema';

/**
 * The environment variables `loadConfig` reads, by configuration field.
 *
 * @example
 * ```ts
 * ENV_VARIABLES.issuer; // 'AUTHPLANE_ISSUER'
 * ```
 */
export const ENV_VARIABLES = Object.freeze({
  provider: 'AUTHPLANE_PROVIDER',
  issuer: 'AUTHPLANE_ISSUER',
  audience: 'AUTHPLANE_AUDIENCE',
  jwksUri: 'AUTHPLANE_JWKS_URI',
  algorithms: 'AUTHPLANE_ALGORITHMS',
  clockToleranceSec: 'AUTHPLANE_CLOCK_TOLERANCE_SEC',
  tokenType: 'AUTHPLANE_TOKEN_TYPE',
  flags: 'AUTHPLANE_FLAGS',
  allowInsecureRequests: 'AUTHPLANE_ALLOW_INSECURE_REQUESTS',
  'introspection.endpoint': 'AUTHPLANE_INTROSPECTION_ENDPOINT',
  'introspection.clientId': 'AUTHPLANE_INTROSPECTION_CLIENT_ID',
  'introspection.clientSecret': 'AUTHPLANE_INTROSPECTION_CLIENT_SECRET',
  introspection: 'AUTHPLANE_INTROSPECTION_CLIENT_ID',
  timeoutMs: 'AUTHPLANE_TIMEOUT_MS',
  maxTokenBytes: 'AUTHPLANE_MAX_TOKEN_BYTES',
  realm: 'AUTHPLANE_REALM',
  resourceMetadataUrl: 'AUTHPLANE_RESOURCE_METADATA_URL',
  audienceMode: 'AUTHPLANE_AUDIENCE_MODE',
  // provider=legacy (AUTHPLANE_ISSUER, AUTHPLANE_AUDIENCE, AUTHPLANE_ALGORITHMS, AUTHPLANE_TOKEN_TYPE apply too)
  secret: 'AUTHPLANE_LEGACY_SECRET',
  secretEncoding: 'AUTHPLANE_LEGACY_SECRET_ENCODING',
  secrets: 'AUTHPLANE_LEGACY_PREVIOUS_SECRET',
  allowWeakSecret: 'AUTHPLANE_LEGACY_ALLOW_WEAK_SECRET',
  preset: 'AUTHPLANE_LEGACY_PRESET',
  publicKey: 'AUTHPLANE_LEGACY_PUBLIC_KEY',
  requireJti: 'AUTHPLANE_LEGACY_REQUIRE_JTI',
  'claims.subject': 'AUTHPLANE_LEGACY_USER_ID_CLAIM',
  'claims.org': 'AUTHPLANE_LEGACY_ORG_CLAIM',
  'claims.roles': 'AUTHPLANE_LEGACY_ROLES_CLAIM',
  'claims.scopes': 'AUTHPLANE_LEGACY_SCOPES_CLAIM',
  'claims.tokenType': 'AUTHPLANE_LEGACY_TOKEN_TYPE_CLAIM',
  'claims.kind': 'AUTHPLANE_LEGACY_KIND_CLAIM',
  // provider=auth0 (AUTHPLANE_ALGORITHMS, AUTHPLANE_TOKEN_TYPE, AUTHPLANE_TIMEOUT_MS apply too)
  domain: 'AUTHPLANE_AUTH0_DOMAIN',
  customDomains: 'AUTHPLANE_AUTH0_CUSTOM_DOMAINS',
  clientId: 'AUTHPLANE_AUTH0_CLIENT_ID',
  clientSecret: 'AUTHPLANE_AUTH0_CLIENT_SECRET',
  rolesClaim: 'AUTHPLANE_AUTH0_ROLES_CLAIM',
  // provider=clerk
  secretKey: 'AUTHPLANE_CLERK_SECRET_KEY',
  publishableKey: 'AUTHPLANE_CLERK_PUBLISHABLE_KEY',
  jwtKey: 'AUTHPLANE_CLERK_JWT_KEY',
  machineSecretKey: 'AUTHPLANE_CLERK_MACHINE_SECRET_KEY',
  apiUrl: 'AUTHPLANE_CLERK_API_URL',
  authorizedParties: 'AUTHPLANE_CLERK_AUTHORIZED_PARTIES',
} as const);

/** Provider-specific audience variable (`AUTHPLANE_AUDIENCE` is the fallback). */
const AUTH0_AUDIENCE = 'AUTHPLANE_AUTH0_AUDIENCE';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the identity-plane configuration from environment variables:
 *
 * | variable | field | format |
 * |---|---|---|
 * | `AUTHPLANE_PROVIDER` | `provider` | default `oidc` |
 * | `AUTHPLANE_ISSUER` | `issuer` | URL |
 * | `AUTHPLANE_AUDIENCE` | `audience` | one value or a comma-separated list |
 * | `AUTHPLANE_JWKS_URI` | `jwksUri` | URL |
 * | `AUTHPLANE_ALGORITHMS` | `algorithms` | comma-separated (`RS256,ES256`) |
 * | `AUTHPLANE_CLOCK_TOLERANCE_SEC` | `clockToleranceSec` | number |
 * | `AUTHPLANE_TOKEN_TYPE` | `tokenType` | `at+jwt`; empty or `none` switches the typ check off (`null`) |
 * | `AUTHPLANE_FLAGS` | `flags` | `auth0,clerk` or `auth0=on,clerk=off` |
 * | `AUTHPLANE_ALLOW_INSECURE_REQUESTS` | `allowInsecureRequests` | `true/false`, `1/0`, `yes/no`, `on/off` |
 * | `AUTHPLANE_INTROSPECTION_ENDPOINT`, `…_CLIENT_ID`, `…_CLIENT_SECRET` | `introspection` | |
 * | `AUTHPLANE_TIMEOUT_MS` | `timeoutMs` | integer |
 * | `AUTHPLANE_MAX_TOKEN_BYTES` | `maxTokenBytes` | integer |
 * | `AUTHPLANE_REALM` | `realm` | string |
 * | `AUTHPLANE_RESOURCE_METADATA_URL` | `resourceMetadataUrl` | URL named by every 401/403 challenge (RFC 9728) |
 * | `AUTHPLANE_AUDIENCE_MODE` | `audienceMode` | `any` (default) or `exact` |
 * | `AUTHPLANE_LEGACY_SECRET` | `secret` (legacy) | HS256 secret, at least 32 bytes |
 * | `AUTHPLANE_LEGACY_SECRET_ENCODING` | `secretEncoding` (legacy) | `utf8` (default), `base64`, `base64url`, `hex` (a binary `SIGNING_KEY`) |
 * | `AUTHPLANE_LEGACY_PREVIOUS_SECRET` | `secrets: [value]` (legacy) | the old key, still accepted during a rotation (same encoding) |
 * | `AUTHPLANE_LEGACY_ALLOW_WEAK_SECRET` | `allowWeakSecret` (legacy) | boolean; a start-up warning and a metric attribute |
 * | `AUTHPLANE_LEGACY_PRESET` | `preset` (legacy) | `simplejwt` or `allauth-headless` |
 * | `AUTHPLANE_LEGACY_PUBLIC_KEY` | `publicKey` (legacy) | PEM (`\n` escapes accepted) or a JWK as JSON |
 * | `AUTHPLANE_LEGACY_REQUIRE_JTI` | `requireJti` (legacy) | boolean |
 * | `AUTHPLANE_LEGACY_USER_ID_CLAIM`, `…_ORG_CLAIM`, `…_ROLES_CLAIM`, `…_TOKEN_TYPE_CLAIM`, `…_KIND_CLAIM` | `claims.*` (legacy) | claim names |
 * | `AUTHPLANE_LEGACY_SCOPES_CLAIM` | `claims.scopes` (legacy) | comma-separated claim names |
 * | `AUTHPLANE_AUTH0_DOMAIN` | `domain` (auth0) | bare host name (`acme.eu.auth0.com`) |
 * | `AUTHPLANE_AUTH0_CUSTOM_DOMAINS` | `customDomains` (auth0) | comma-separated host names |
 * | `AUTHPLANE_AUTH0_AUDIENCE` | `audience` (auth0; else `AUTHPLANE_AUDIENCE`) | one value or a comma-separated list |
 * | `AUTHPLANE_AUTH0_CLIENT_ID`, `…_CLIENT_SECRET` | `clientId`, `clientSecret` (auth0, Management API) | |
 * | `AUTHPLANE_AUTH0_ROLES_CLAIM` | `rolesClaim` (auth0) | namespaced claim name |
 * | `AUTHPLANE_CLERK_SECRET_KEY`, `…_PUBLISHABLE_KEY`, `…_MACHINE_SECRET_KEY` | `secretKey`, `publishableKey`, `machineSecretKey` (clerk) | |
 * | `AUTHPLANE_CLERK_JWT_KEY` | `jwtKey` (clerk) | PEM (`\n` escapes accepted) |
 * | `AUTHPLANE_CLERK_API_URL` | `apiUrl` (clerk) | URL |
 * | `AUTHPLANE_CLERK_AUTHORIZED_PARTIES` | `authorizedParties` (clerk, required) | comma-separated origins; `none` switches the check off |
 *
 * With `AUTHPLANE_PROVIDER=migration` the result is a whole migration plane (`MigrationPlaneConfigInput`
 * at run time): the variables above are its legacy side (provider `AUTHPLANE_LEGACY_PROVIDER`, default
 * `legacy`), the same names prefixed `AUTHPLANE_TARGET_` its target side, `AUTHPLANE_MIGRATION_MODE`,
 * `_TENANTS`, `_ROLLOUT` its static modes and `AUTHPLANE_MIGRATION_STORE` (+ `_POLL_SEC`) its control
 * store; `loadMigrationConfig` gives the precise type.
 *
 * With `AUTHPLANE_PROVIDER=legacy`, `AUTHPLANE_ISSUER` / `AUTHPLANE_AUDIENCE` are enforced when set,
 * `AUTHPLANE_ALGORITHMS` pins the algorithms and `AUTHPLANE_TOKEN_TYPE` is the required `token_type`
 * claim (default `access`; empty or `none` switches it off).
 *
 * Unset or empty variables are left out (defaults apply), except `AUTHPLANE_TOKEN_TYPE` where empty
 * means "no typ check". The result is validated here too, so that every error is a `ConfigError`
 * whose `path` is the VARIABLE name (`AUTHPLANE_TIMEOUT_MS`) rather than a field name; messages never
 * repeat a variable's value. It is returned in input form (plain, unfrozen, no defaults filled in) so
 * that code-only options (`clock`, `fetch`, `revocation`) can be spread in before `createIdentityPlane`,
 * which validates again as the single source of truth.
 *
 * @throws ConfigError naming the variable.
 * @example
 * ```ts
 * const plane = await createIdentityPlane(loadConfig(process.env));
 * const withStore = await createIdentityPlane({ ...loadConfig(), revocation: redisStore });
 * ```
 */
export function loadConfig(env: Env = process.env): IdentityConfigInput {
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new ConfigError(name, 'must be a string');
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const v = ENV_VARIABLES;

  const provider = read(v.provider) ?? 'oidc';
  // A migration plane: this function reads each side (see loadMigrationConfig for the variables).
  if (provider === 'migration') return readMigrationConfig(env, loadConfig) as unknown as IdentityConfigInput;
  if (!(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw new ConfigError(v.provider, `unknown provider; valid providers: ${PROVIDER_NAMES.join(', ')}`);
  }

  const config: Record<string, unknown> = { provider };
  const set = (field: string, value: unknown) => {
    if (value !== undefined) config[field] = value;
  };

  set('issuer', read(v.issuer));
  set('audience', audience(read(v.audience), v.audience));
  set('jwksUri', read(v.jwksUri));
  set('algorithms', commaList(read(v.algorithms)));
  set('clockToleranceSec', number(read(v.clockToleranceSec), v.clockToleranceSec, false));
  if (env[v.tokenType] !== undefined) {
    const typ = read(v.tokenType);
    config.tokenType = typ === undefined || typ.toLowerCase() === 'none' ? null : typ;
  }
  set('flags', flags(read(v.flags), v.flags));
  set('allowInsecureRequests', boolean(read(v.allowInsecureRequests), v.allowInsecureRequests));
  set('timeoutMs', number(read(v.timeoutMs), v.timeoutMs, true));
  set('maxTokenBytes', number(read(v.maxTokenBytes), v.maxTokenBytes, true));
  set('realm', read(v.realm));
  // Validated by the plane schema (a URL; 'any' | 'exact'), which names the field.
  set('resourceMetadataUrl', read(v.resourceMetadataUrl));
  set('audienceMode', read(v.audienceMode));
  if (provider === 'legacy') {
    set('secret', read(v.secret));
    set('secretEncoding', read(v.secretEncoding));
    const previous = read(v.secrets);
    if (previous !== undefined) config.secrets = [previous];
    set('allowWeakSecret', boolean(read(v.allowWeakSecret), v.allowWeakSecret));
    set('preset', read(v.preset));
    set('publicKey', publicKey(read(v.publicKey), v.publicKey));
    set('requireJti', boolean(read(v.requireJti), v.requireJti));
    const claims: Record<string, unknown> = {};
    for (const field of ['subject', 'org', 'roles', 'tokenType', 'kind'] as const) {
      const value = read(v[`claims.${field}`]);
      if (value !== undefined) claims[field] = value;
    }
    const scopes = commaList(read(v['claims.scopes']));
    if (scopes !== undefined) claims.scopes = scopes;
    if (Object.keys(claims).length > 0) config.claims = claims;
  }
  if (provider === 'auth0') {
    set('domain', read(v.domain));
    set('customDomains', commaList(read(v.customDomains)));
    set('audience', audience(read(AUTH0_AUDIENCE), AUTH0_AUDIENCE));
    if (config.audience === undefined) throw new ConfigError(AUTH0_AUDIENCE, 'is required');
    set('clientId', read(v.clientId));
    set('clientSecret', read(v.clientSecret));
    set('rolesClaim', read(v.rolesClaim));
  }
  if (provider === 'clerk') {
    set('secretKey', read(v.secretKey));
    set('publishableKey', read(v.publishableKey));
    const pem = read(v.jwtKey);
    set('jwtKey', pem?.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem);
    set('machineSecretKey', read(v.machineSecretKey));
    set('apiUrl', read(v.apiUrl));
    const parties = read(v.authorizedParties);
    if (parties !== undefined)
      config.authorizedParties = parties.toLowerCase() === 'none' ? null : commaList(parties);
  }

  const endpoint = read(v['introspection.endpoint']);
  const clientId = read(v['introspection.clientId']);
  const clientSecret = read(v['introspection.clientSecret']);
  if (endpoint !== undefined || clientId !== undefined || clientSecret !== undefined) {
    const introspection: Record<string, string> = {};
    if (endpoint !== undefined) introspection.endpoint = endpoint;
    if (clientId !== undefined) introspection.clientId = clientId;
    if (clientSecret !== undefined) introspection.clientSecret = clientSecret;
    config.introspection = introspection;
  }

  const parsed = identityConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String) : [];
    if (issue?.code === 'unrecognized_keys') path.push(...issue.keys.slice(0, 1));
    const variable = variableFor(path);
    let missing = false;
    if (issue?.code === 'invalid_type') {
      let value: unknown = config;
      for (const key of path)
        value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      missing = value === undefined;
    }
    const detail = path.length > 1 ? ` (${path.join('.')})` : '';
    throw new ConfigError(variable, missing ? 'is required' : `${issue?.message ?? 'is invalid'}${detail}`, {
      cause: parsed.error,
    });
  }
  return config as IdentityConfigInput;
}

function variableFor(path: readonly string[]): string {
  const table = ENV_VARIABLES as Readonly<Record<string, string>>;
  for (let n = path.length; n > 0; n--) {
    const variable = table[path.slice(0, n).join('.')];
    if (variable) return variable;
  }
  return 'AUTHPLANE_PROVIDER';
}

// A PEM pasted into an env file often has literal `\n`; a value starting with `{` is a JWK.
function publicKey(value: string | undefined, name: string): string | Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith('{')) {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      throw new ConfigError(name, 'must be a PEM public key or a JWK in JSON');
    }
  }
  return value.includes('\\n') ? value.replaceAll('\\n', '\n') : value;
}

function commaList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function audience(value: string | undefined, name: string): string | string[] | undefined {
  const list = commaList(value);
  if (list === undefined) return undefined;
  if (list.length === 0) throw new ConfigError(name, 'must name at least one audience');
  return list.length === 1 ? list[0] : list;
}

function number(value: string | undefined, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!pattern.test(value))
    throw new ConfigError(name, integer ? 'must be a whole number' : 'must be a number');
  return Number(value);
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function boolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new ConfigError(name, 'must be one of true/false, 1/0, yes/no, on/off');
}

function flags(value: string | undefined, name: string): Partial<Record<FlagName, boolean>> | undefined {
  const list = commaList(value);
  if (list === undefined) return undefined;
  const result: Partial<Record<FlagName, boolean>> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const flag = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (!(FLAG_NAMES as readonly string[]).includes(flag)) {
      throw new ConfigError(name, `unknown flag; known flags: ${FLAG_NAMES.join(', ')}`);
    }
    result[flag as FlagName] = eq < 0 ? true : boolean(item.slice(eq + 1).trim(), name);
  }
  return result;
}

/**
 * `loadConfig` for `AUTHPLANE_PROVIDER=migration`, typed as the migration plane's configuration (the
 * variables are listed on `loadConfig`). Spread code-only options in before `createIdentityPlane`.
 *
 * @throws ConfigError naming the variable (`AUTHPLANE_TARGET_ISSUER`, `AUTHPLANE_MIGRATION_STORE`, …).
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ ...loadMigrationConfig(process.env), audit: (e) => log(e) });
 * ```
 */
export function loadMigrationConfig(env: Env = process.env): MigrationPlaneConfigInput {
  return readMigrationConfig(env, loadConfig);
}
