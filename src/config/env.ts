import { ConfigError } from '../core/errors';
import {
  FLAG_NAMES,
  type FlagName,
  type IdentityConfigInput,
  identityConfigSchema,
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
} as const);

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
