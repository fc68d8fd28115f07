import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { oidcPlaneConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal } from '../../src/core/principal';
import {
  createIdentityPlane,
  createIdentityPlaneFrom,
  defineProvider,
  PROVIDERS,
  type ProviderEntry,
} from '../../src/identity/create';
import { createMemoryRevocationStore } from '../../src/identity/revocation';
import type { IdentityAdapter } from '../../src/identity/types';

const valid = { provider: 'oidc' as const, issuer: 'https://id.example', audience: 'https://api.example' };

function configError(fn: () => unknown): Promise<ConfigError> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => {
        throw new Error('expected a ConfigError');
      },
      (err: unknown) => {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
      },
    );
}

// The OIDC adapter module is written elsewhere; these tests build the oidc plane configuration through
// the same construction path with an in-test adapter in place of the dynamic import, so that what is
// tested is validation, copying, freezing, and what the adapter and the plane receive.
const oidcCalls: unknown[] = [];
const oidcWithFakeAdapter: Record<string, ProviderEntry> = {
  oidc: defineProvider({
    schema: oidcPlaneConfigSchema,
    load: async (config) => {
      oidcCalls.push(config);
      return {
        name: 'oidc',
        async verify(token) {
          if (token !== 'good') throw new AuthRejection('signature_invalid');
          return freezePrincipal({
            subject: 'u1',
            providerSubject: 'u1',
            provider: 'oidc',
            kind: 'user',
            orgId: null,
            roles: [],
            scopes: [],
            sessionId: null,
            expiresAt: null,
            authMethod: 'jwt',
            claims: { jti: 'j1' },
          });
        },
      };
    },
  }),
};
const build = (config: unknown) => createIdentityPlaneFrom(oidcWithFakeAdapter, config);

describe('createIdentityPlane construction (oidc schema, in-test adapter)', () => {
  it('validates, copies and freezes the config, and gives the adapter only its own fields', async () => {
    oidcCalls.length = 0;
    const clock = () => 1;
    const input = {
      ...valid,
      algorithms: ['ES256' as const],
      flags: {},
      clock,
      revocation: createMemoryRevocationStore(),
    };
    const snapshot = { ...input, algorithms: [...input.algorithms] };
    const plane = await build(input);
    expect(plane.provider).toBe('oidc');
    expect(input).toEqual(snapshot); // the caller's object is untouched
    expect(Object.isFrozen(input)).toBe(false);
    const received = oidcCalls[0] as Record<string, unknown>;
    expect(received).toMatchObject({
      issuer: valid.issuer,
      audience: valid.audience,
      timeoutMs: 5000,
      tokenType: 'at+jwt',
    });
    expect(received).not.toHaveProperty('flags');
    expect(received).not.toHaveProperty('revocation');
    expect(Object.isFrozen(received)).toBe(true);
    expect(Object.isFrozen(received.algorithms)).toBe(true);
    expect(received.algorithms).not.toBe(input.algorithms); // a copy, not the caller's array
    expect(Object.isFrozen(input.algorithms)).toBe(false);
    expect(received.clock).toBe(clock); // functions are kept by reference
    expect(Object.isFrozen(received.claims)).toBe(true); // defaults are frozen too
    expect((await plane.verify('good')).ok).toBe(true);
    await plane.close();
  });

  it('uses the configured revocation store and realm', async () => {
    const revocation = createMemoryRevocationStore();
    const plane = await build({ ...valid, revocation, realm: 'api' });
    await plane.revoke({ jti: 'j1' });
    expect(await revocation.isRevoked({ jti: 'j1' })).toBe(true);
    const result = await plane.verify('good');
    expect(!result.ok && result.failure.reason).toBe('token_revoked');
    expect(!result.ok && result.failure.challenge).toContain('realm="api"');
  });

  it('applies maxTokenBytes from the config', async () => {
    const plane = await build({ ...valid, maxTokenBytes: 8 });
    const result = await plane.verify('a'.repeat(9));
    expect(!result.ok && result.failure.reason).toBe('credentials_malformed');
  });
});

describe('createIdentityPlane: configuration errors', () => {
  it('refuses a non-object', async () => {
    for (const value of [null, undefined, 'oidc', 42, []]) {
      await configError(() => createIdentityPlane(value as never));
    }
  });

  it('requires a provider and lists the valid ones for an unknown one', async () => {
    const { provider: _p, ...rest } = valid;
    expect((await configError(() => createIdentityPlane(rest as never))).path).toBe('provider');
    const unknown = await configError(() => createIdentityPlane({ ...valid, provider: 'okta' } as never));
    expect(unknown.path).toBe('provider');
    expect(unknown.message).toContain('valid providers: oidc');
    const proto = await configError(() => createIdentityPlane({ ...valid, provider: 'toString' } as never));
    expect(proto.path).toBe('provider');
  });

  it('names the dotted path of the first bad field', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp?]> = [
      [{ issuer: 'not a url' }, 'issuer'],
      [{ issuer: undefined }, 'issuer', /is required/],
      [{ audience: [] }, 'audience'],
      [{ algorithms: ['RS256', 'HS256'] }, 'algorithms.1'],
      [{ jwks: { cooldownSec: -1 } }, 'jwks.cooldownSec'],
      [{ timeoutMs: 'fast' }, 'timeoutMs'],
      [{ introspection: { clientId: 'c' } }, 'introspection.clientSecret', /is required/],
      [{ surprise: true }, 'surprise', /not a known field/],
      [{ jwks: { ttl: 5 } }, 'jwks.ttl', /not a known field/],
      [{ clock: 123 }, 'clock', /must be a function/],
      [{ fetch: 'https://proxy' }, 'fetch', /must be a function/],
      [{ revocation: {} }, 'revocation', /RevocationStore/],
      [{ flags: { auth0: 'yes' } }, 'flags.auth0'],
      [{ flags: { okta: true } }, 'flags.okta', /not a known field/],
    ];
    for (const [patch, path, message] of cases) {
      const err = await configError(() => createIdentityPlane({ ...valid, ...patch } as never));
      expect(err.path, JSON.stringify(patch)).toBe(path);
      expect(err.message.startsWith(`${path}: `)).toBe(true);
      if (message) expect(err.message).toMatch(message);
    }
  });

  it('never repeats a secret in the message', async () => {
    const err = await configError(() =>
      createIdentityPlane({ ...valid, introspection: { clientId: 'c', clientSecret: 42 as never } }),
    );
    expect(err.path).toBe('introspection.clientSecret');
    const err2 = await configError(() =>
      createIdentityPlane({
        ...valid,
        introspection: { clientId: 'c', clientSecret: 'hunter2-secret', extra: 1 } as never,
      }),
    );
    expect(err2.message).not.toContain('hunter2-secret');
  });
});

describe('provider registry: flags and vendor packages', () => {
  const fakeSchema = z
    .object({ provider: z.literal('fake'), flags: z.record(z.string(), z.boolean()).optional() })
    .strict();
  const fakeAdapter: IdentityAdapter = {
    name: 'fake',
    async verify() {
      throw new AuthRejection('signature_invalid');
    },
  };

  it('the real registry has the first-party providers (oidc, legacy), ungated', () => {
    expect(Object.keys(PROVIDERS)).toEqual(expect.arrayContaining(['oidc', 'legacy']));
    expect(PROVIDERS.oidc?.flag).toBeUndefined();
    expect(PROVIDERS.legacy?.flag).toBeUndefined();
    expect(Object.isFrozen(PROVIDERS)).toBe(true);
  });

  it('a flagged provider whose flag is off is a ConfigError naming the flag, before its fields are read', async () => {
    const load = vi.fn(async () => fakeAdapter);
    const registry: Record<string, ProviderEntry> = {
      fake: defineProvider({ schema: fakeSchema, flag: 'clerk', load }),
    };
    for (const flags of [undefined, {}, { clerk: false }, { auth0: true }]) {
      const err = await configError(() =>
        createIdentityPlaneFrom(registry, { provider: 'fake', flags, bogus: 1 }),
      );
      expect(err.path).toBe('flags.clerk');
      expect(err.message).toContain('"clerk"');
      expect(err.message).toContain('AUTHPLANE_FLAGS=clerk');
    }
    expect(load).not.toHaveBeenCalled();
    const plane = await createIdentityPlaneFrom(registry, { provider: 'fake', flags: { clerk: true } });
    expect(plane.provider).toBe('fake');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('a missing vendor SDK is a ConfigError naming the package', async () => {
    const registry = {
      fake: defineProvider({
        schema: fakeSchema,
        vendorPackage: '@clerk/backend',
        load: async () => {
          throw Object.assign(new Error("Cannot find package '@clerk/backend' imported from /x.js"), {
            code: 'ERR_MODULE_NOT_FOUND',
          });
        },
      }),
    };
    const err = await configError(() => createIdentityPlaneFrom(registry, { provider: 'fake' }));
    expect(err.message).toContain('"@clerk/backend"');
    expect(err.message).toContain('npm install @clerk/backend');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('other loader errors propagate unchanged', async () => {
    const boom = new Error('adapter bug');
    const registry = {
      fake: defineProvider({
        schema: fakeSchema,
        vendorPackage: 'x',
        load: async () => Promise.reject(boom),
      }),
    };
    await expect(createIdentityPlaneFrom(registry, { provider: 'fake' })).rejects.toBe(boom);
  });

  it('the unknown-provider message lists every registered provider', async () => {
    const registry = {
      oidc: PROVIDERS.oidc as ProviderEntry,
      fake: defineProvider({ schema: fakeSchema, load: async () => fakeAdapter }),
    };
    const err = await configError(() => createIdentityPlaneFrom(registry, { provider: 'nope' }));
    expect(err.message).toContain('oidc, fake');
  });

  it('oidcPlaneConfigSchema applies the plane defaults', () => {
    const parsed = oidcPlaneConfigSchema.parse(valid);
    expect(parsed.flags).toEqual({});
    expect(parsed.revocation).toBeUndefined();
  });
});
