import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '../../src/config/env';
import { ConfigError } from '../../src/core/errors';

const base = { AUTHPLANE_ISSUER: 'https://id.example', AUTHPLANE_AUDIENCE: 'https://api.example' };

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a minimal oidc configuration; the provider defaults to oidc; nothing else is filled in', () => {
    expect(loadConfig(base)).toEqual({
      provider: 'oidc',
      issuer: 'https://id.example',
      audience: 'https://api.example',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...base,
      AUTHPLANE_PROVIDER: 'oidc',
      AUTHPLANE_AUDIENCE: 'https://api.example, api2 ,',
      AUTHPLANE_JWKS_URI: 'https://id.example/jwks',
      AUTHPLANE_ALGORITHMS: 'RS256, ES256',
      AUTHPLANE_CLOCK_TOLERANCE_SEC: '2.5',
      AUTHPLANE_TOKEN_TYPE: 'JWT',
      AUTHPLANE_FLAGS: 'auth0, clerk=off',
      AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'yes',
      AUTHPLANE_INTROSPECTION_ENDPOINT: 'https://id.example/introspect',
      AUTHPLANE_INTROSPECTION_CLIENT_ID: 'rs',
      AUTHPLANE_INTROSPECTION_CLIENT_SECRET: 's3cret',
      AUTHPLANE_TIMEOUT_MS: '2500',
      AUTHPLANE_MAX_TOKEN_BYTES: '4096',
      AUTHPLANE_REALM: 'api',
      UNRELATED: 'x',
    });
    expect(config).toEqual({
      provider: 'oidc',
      issuer: 'https://id.example',
      audience: ['https://api.example', 'api2'],
      jwksUri: 'https://id.example/jwks',
      algorithms: ['RS256', 'ES256'],
      clockToleranceSec: 2.5,
      tokenType: 'JWT',
      flags: { auth0: true, clerk: false },
      allowInsecureRequests: true,
      introspection: { endpoint: 'https://id.example/introspect', clientId: 'rs', clientSecret: 's3cret' },
      timeoutMs: 2500,
      maxTokenBytes: 4096,
      realm: 'api',
    });
  });

  it('AUTHPLANE_TOKEN_TYPE: none or empty switches the typ check off; unset keeps the default', () => {
    expect(loadConfig({ ...base, AUTHPLANE_TOKEN_TYPE: 'none' })).toHaveProperty('tokenType', null);
    expect(loadConfig({ ...base, AUTHPLANE_TOKEN_TYPE: '' })).toHaveProperty('tokenType', null);
    expect(loadConfig({ ...base, AUTHPLANE_TOKEN_TYPE: 'NONE' })).toHaveProperty('tokenType', null);
    expect(loadConfig(base)).not.toHaveProperty('tokenType');
  });

  it('treats empty variables as unset', () => {
    expect(
      loadConfig({ ...base, AUTHPLANE_TIMEOUT_MS: '', AUTHPLANE_FLAGS: ' ', AUTHPLANE_PROVIDER: '' }),
    ).toEqual(loadConfig(base));
  });

  it('parses the boolean spellings and flag forms', () => {
    for (const [value, expected] of [
      ['true', true],
      ['1', true],
      ['ON', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ] as const) {
      // A union member of its own once other providers join the config union: narrow to the oidc fields.
      const config = loadConfig({ ...base, AUTHPLANE_ALLOW_INSECURE_REQUESTS: value }) as {
        allowInsecureRequests?: boolean;
      };
      expect(config.allowInsecureRequests).toBe(expected);
    }
    expect(loadConfig({ ...base, AUTHPLANE_FLAGS: 'auth0=on,clerk=true,nango=0' }).flags).toEqual({
      auth0: true,
      clerk: true,
      nango: false,
    });
  });

  it('names the VARIABLE in every error, without repeating its value', () => {
    const cases: Array<[Record<string, string>, string, RegExp?]> = [
      [{ AUTHPLANE_PROVIDER: 'okta' }, 'AUTHPLANE_PROVIDER', /valid providers: oidc/],
      [{ AUTHPLANE_ISSUER: '' }, 'AUTHPLANE_ISSUER', /is required/],
      [{ AUTHPLANE_ISSUER: 'ftp://nope-value' }, 'AUTHPLANE_ISSUER'],
      [{ AUTHPLANE_AUDIENCE: ' , ' }, 'AUTHPLANE_AUDIENCE'],
      [{ AUTHPLANE_JWKS_URI: 'nope-value' }, 'AUTHPLANE_JWKS_URI'],
      [{ AUTHPLANE_ALGORITHMS: 'RS256,HS256' }, 'AUTHPLANE_ALGORITHMS', /algorithms\.1/],
      [{ AUTHPLANE_CLOCK_TOLERANCE_SEC: 'five' }, 'AUTHPLANE_CLOCK_TOLERANCE_SEC', /number/],
      [{ AUTHPLANE_CLOCK_TOLERANCE_SEC: '900' }, 'AUTHPLANE_CLOCK_TOLERANCE_SEC'],
      [{ AUTHPLANE_TIMEOUT_MS: '1.5' }, 'AUTHPLANE_TIMEOUT_MS', /whole number/],
      [{ AUTHPLANE_TIMEOUT_MS: '-1' }, 'AUTHPLANE_TIMEOUT_MS'],
      [{ AUTHPLANE_FLAGS: 'auth0,okta' }, 'AUTHPLANE_FLAGS', /known flags: auth0, clerk, nango/],
      [{ AUTHPLANE_FLAGS: 'auth0=maybe' }, 'AUTHPLANE_FLAGS'],
      [{ AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'sure' }, 'AUTHPLANE_ALLOW_INSECURE_REQUESTS'],
      [{ AUTHPLANE_INTROSPECTION_CLIENT_ID: 'rs' }, 'AUTHPLANE_INTROSPECTION_CLIENT_SECRET', /is required/],
      [
        { AUTHPLANE_INTROSPECTION_CLIENT_SECRET: 'hunter2-value' },
        'AUTHPLANE_INTROSPECTION_CLIENT_ID',
        /is required/,
      ],
      [{ AUTHPLANE_MAX_TOKEN_BYTES: '0' }, 'AUTHPLANE_MAX_TOKEN_BYTES'],
    ];
    for (const [patch, variable, message] of cases) {
      const err = errorOf({ ...base, ...patch });
      expect(err.path, JSON.stringify(patch)).toBe(variable);
      expect(err.message.startsWith(`${variable}: `)).toBe(true);
      if (message) expect(err.message).toMatch(message);
      for (const value of Object.values(patch))
        if (value.length > 6) expect(err.message).not.toContain(value);
    }
    expect(errorOf({ AUTHPLANE_AUDIENCE: 'a' }).path).toBe('AUTHPLANE_ISSUER');
    expect(errorOf({ AUTHPLANE_ISSUER: 'https://id.example' }).path).toBe('AUTHPLANE_AUDIENCE');
  });

  it('returns a plain, unfrozen object that code-only options can be spread into', () => {
    const config = loadConfig(base);
    expect(Object.isFrozen(config)).toBe(false);
    expect({ ...config, clock: () => 0 }).toHaveProperty('clock');
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, base);
      expect(loadConfig()).toHaveProperty('issuer', 'https://id.example');
    } finally {
      for (const key of Object.keys(base)) if (!(key in saved)) delete process.env[key];
    }
  });

  it('publishes the variable table', () => {
    expect(ENV_VARIABLES.issuer).toBe('AUTHPLANE_ISSUER');
    expect(Object.isFrozen(ENV_VARIABLES)).toBe(true);
  });
});
