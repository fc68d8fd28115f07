// RFC 9728 pieces without a network: the document builder, the well-known path, what each provider's
// configuration contributes, and adding `resource_metadata` to challenges that were built without it.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { bearerChallenge, createFailure, withResourceMetadata } from '../../src/core/failure';
import {
  buildResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrlFor,
} from '../../src/identity/resource-metadata';
import { describeResource } from '../../src/identity/resource-servers';

const URL_ = 'https://api.example/.well-known/oauth-protected-resource';

describe('withResourceMetadata', () => {
  it('adds the parameter to a bare challenge, to one with parameters, and to the first of several', () => {
    const missing = createFailure({ reason: 'credentials_missing', traceId: 't' });
    expect(withResourceMetadata(missing, URL_).challenge).toBe(`Bearer resource_metadata="${URL_}"`);
    const scope = createFailure({ reason: 'scope_insufficient', traceId: 't', scope: ['a', 'b'] });
    expect(withResourceMetadata(scope, URL_).challenge).toBe(
      `${scope.challenge}, resource_metadata="${URL_}"`,
    );
    const two = Object.freeze({
      ...scope,
      challenge: 'Bearer error="invalid_token", error_description="a, b", DPoP algs="ES256 RS256"',
    });
    expect(withResourceMetadata(two, URL_).challenge).toBe(
      `Bearer error="invalid_token", error_description="a, b", resource_metadata="${URL_}", DPoP algs="ES256 RS256"`,
    );
  });

  it('leaves a 503, an absent URL and a challenge that already names one unchanged', () => {
    const outage = createFailure({ reason: 'provider_unavailable', traceId: 't' });
    expect(withResourceMetadata(outage, URL_)).toBe(outage);
    const missing = createFailure({ reason: 'credentials_missing', traceId: 't', resourceMetadata: URL_ });
    expect(missing.challenge).toBe(`Bearer resource_metadata="${URL_}"`);
    expect(withResourceMetadata(missing, 'https://elsewhere.example/x')).toBe(missing);
    expect(withResourceMetadata(missing, undefined)).toBe(missing);
  });

  it('cannot be used to break the header: quotes and control characters are dropped', () => {
    const header = bearerChallenge({
      error: null,
      resourceMetadata: 'https://a.example/x"\r\nSet-Cookie: y',
    });
    expect(header).toBe('Bearer resource_metadata="https://a.example/xSet-Cookie: y"');
  });
});

describe('buildResourceMetadata', () => {
  const oidc = { authorizationServers: ['https://id.example'], audiences: ['https://api.example/mcp'] };

  it('derives resource and authorization servers from the configuration; options win field by field', () => {
    expect(buildResourceMetadata(oidc, {})).toEqual({
      resource: 'https://api.example/mcp',
      authorization_servers: ['https://id.example'],
      bearer_methods_supported: ['header'],
    });
    const doc = buildResourceMetadata(
      oidc,
      { scopesSupported: ['read'], resourceName: 'API' },
      {
        resource: 'https://public.example/mcp',
        resourceDocumentation: 'https://docs.example/mcp',
      },
    );
    expect(doc).toMatchObject({
      resource: 'https://public.example/mcp',
      scopes_supported: ['read'],
      resource_name: 'API',
      resource_documentation: 'https://docs.example/mcp',
    });
    expect(Object.isFrozen(doc)).toBe(true);
  });

  it('advertises DPoP algorithms only when DPoP is configured', () => {
    expect(buildResourceMetadata(oidc, {})).not.toHaveProperty('dpop_signing_alg_values_supported');
    const dpop = describeResource({
      provider: 'oidc',
      issuer: 'https://id.example',
      audience: 'https://api.example',
      dpop: { required: true },
    });
    expect(buildResourceMetadata(dpop, {})).toMatchObject({
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
      dpop_bound_access_tokens_required: true,
    });
  });

  it('refuses what cannot be a resource identifier', () => {
    expect(() => buildResourceMetadata({ authorizationServers: [], audiences: ['api'] }, {})).toThrow(
      ConfigError,
    );
    expect(() =>
      buildResourceMetadata({ authorizationServers: [], audiences: ['https://a', 'https://b'] }, {}),
    ).toThrow(/resourceMetadata\.resource/);
    expect(() => buildResourceMetadata(oidc, {}, { resource: 'https://api.example/mcp#frag' })).toThrow(
      /fragment/,
    );
    expect(() => buildResourceMetadata(oidc, {}, { resource: 'javascript:alert(1)' })).toThrow(ConfigError);
    expect(() => buildResourceMetadata(oidc, {}, { authorizationServers: ['not a url'] })).toThrow(
      ConfigError,
    );
  });

  it('computes the path-aware well-known path', () => {
    expect(resourceMetadataPath('https://api.example')).toBe('/.well-known/oauth-protected-resource');
    expect(resourceMetadataPath('https://api.example/')).toBe('/.well-known/oauth-protected-resource');
    expect(resourceMetadataPath('https://api.example/v1/mcp/')).toBe(
      '/.well-known/oauth-protected-resource/v1/mcp',
    );
    expect(resourceMetadataUrlFor('https://api.example:8443/mcp')).toBe(
      'https://api.example:8443/.well-known/oauth-protected-resource/mcp',
    );
  });
});

describe('describeResource', () => {
  it('names each provider’s authorization servers; legacy has none', () => {
    expect(describeResource({ provider: 'legacy', secret: 'x' })).toEqual({
      authorizationServers: [],
      audiences: [],
    });
    expect(
      describeResource({
        provider: 'auth0',
        domain: 'acme.eu.auth0.com',
        customDomains: [],
        audience: 'https://api',
      }),
    ).toEqual({ authorizationServers: ['https://acme.eu.auth0.com/'], audiences: ['https://api'] });
    const pk = `pk_test_${Buffer.from('clerk.acme.test$').toString('base64')}`;
    expect(describeResource({ provider: 'clerk', publishableKey: pk }).authorizationServers).toEqual([
      'https://clerk.acme.test',
    ]);
    expect(describeResource({ provider: 'clerk' }).authorizationServers).toEqual([]);
    const hostile = `pk_test_${Buffer.from('evil.example/path?x$').toString('base64')}`;
    expect(describeResource({ provider: 'clerk', publishableKey: hostile }).authorizationServers).toEqual([]);
  });

  it('in a migration, both sides while modes can change at runtime', () => {
    const sides = {
      provider: 'migration',
      legacy: { provider: 'auth0', domain: 'old.auth0.com', audience: 'https://api' },
      target: { provider: 'oidc', issuer: 'https://id.example', audience: 'https://api' },
    };
    expect(describeResource({ ...sides, mode: 'target' }).authorizationServers).toEqual([
      'https://id.example',
    ]);
    expect(describeResource({ ...sides, mode: 'legacy' }).authorizationServers).toEqual([
      'https://old.auth0.com/',
    ]);
    expect(describeResource({ ...sides, mode: 'target', modeFlag: {} }).authorizationServers).toEqual([
      'https://old.auth0.com/',
      'https://id.example',
    ]);
    expect(
      describeResource({ ...sides, mode: 'legacy', tenants: { rollout: { mode: 'target', percent: 10 } } })
        .authorizationServers,
    ).toEqual(['https://old.auth0.com/', 'https://id.example']);
  });
});

describe('loadConfig', () => {
  it('reads the RFC 9728 metadata URL and the audience mode from the environment', async () => {
    const { loadConfig } = await import('../../src/config/env');
    const config = loadConfig({
      AUTHPLANE_ISSUER: 'https://id.example',
      AUTHPLANE_AUDIENCE: 'https://api.example/mcp',
      AUTHPLANE_RESOURCE_METADATA_URL: 'https://api.example/.well-known/oauth-protected-resource/mcp',
      AUTHPLANE_AUDIENCE_MODE: 'exact',
    }) as Record<string, unknown>;
    expect(config.resourceMetadataUrl).toBe('https://api.example/.well-known/oauth-protected-resource/mcp');
    expect(config.audienceMode).toBe('exact');
  });
});
