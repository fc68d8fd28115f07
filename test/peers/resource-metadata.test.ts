// RFC 9728 through every framework adapter (node:http, Express 5, Fastify 5, Hono 4) on real servers,
// with real tokens from the dev issuer (oidc-provider): the path-aware well-known document, the
// `resource_metadata` of every 401/403 challenge (plane failures and guard failures), and
// audienceMode 'exact' against tokens minted for several resources.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import * as ex from '../../src/http/express';
import * as fy from '../../src/http/fastify';
import * as ho from '../../src/http/hono';
import * as nd from '../../src/http/node';
import { createIdentityPlane } from '../../src/identity/create';
import { resourceMetadataUrlFor } from '../../src/identity/resource-metadata';
import type { IdentityPlane } from '../../src/identity/types';

const RESOURCE = 'https://api.authplane.test/tools';
const OTHER = 'https://other.authplane.test/';
const METADATA_URL = resourceMetadataUrlFor(RESOURCE);
const WELL_KNOWN = '/.well-known/oauth-protected-resource/tools';

let dev: DevIssuer;
let plane: IdentityPlane;
const closers: Array<() => Promise<unknown>> = [];

interface Running {
  url: string;
  close(): Promise<void>;
}

// Each framework: the metadata route (public), then GET /items behind authenticate + requireScopes('write').
const FRAMEWORKS: ReadonlyArray<readonly [string, (plane: IdentityPlane) => Promise<Running>]> = [
  [
    'node:http',
    async (p) => {
      const protect = nd.authenticate(p);
      const items = protect(nd.requireScopes('write')((_req, res) => res.end('{"ok":true}')));
      return listen(createServer(nd.resourceMetadata(p)(items)));
    },
  ],
  [
    'express',
    async (p) => {
      const app = express();
      app.use(ex.resourceMetadata(p));
      app.use(ex.authenticate(p));
      app.get('/items', ex.requireScopes('write'), (_req, res) => {
        res.json({ ok: true });
      });
      return listen(createServer(app));
    },
  ],
  [
    'fastify',
    async (p) => {
      const app = Fastify();
      await app.register(fy.resourceMetadata(p));
      await app.register(async (api) => {
        await api.register(fy.authenticate(p));
        api.get('/items', { onRequest: fy.requireScopes('write') }, async () => ({ ok: true }));
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  ],
  [
    'hono',
    async (p) => {
      const app = new Hono();
      app.use(ho.resourceMetadata(p));
      app.use('/items', ho.authenticate(p));
      app.get('/items', ho.requireScopes('write'), (c) => c.json({ ok: true }));
      const server = await new Promise<Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
      });
      return closable(server);
    },
  ],
];

async function listen(server: Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return closable(server);
}

function closable(server: Server): Running {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A token signed with the dev issuer's own current key, with the claims a test needs. */
async function signed(claims: Record<string, unknown>): Promise<string> {
  const jwk = dev.signingKeys().find((k) => k.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: dev.issuer,
    sub: 'alice',
    scope: 'read write',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string, typ: 'at+jwt' })
    .sign(await importJWK(jwk, 'ES256'));
}

async function oidcPlane(extra: Record<string, unknown> = {}): Promise<IdentityPlane> {
  const p = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: RESOURCE,
    allowInsecureRequests: true,
    resourceMetadataUrl: METADATA_URL,
    resourceMetadata: { scopesSupported: ['read', 'write'], resourceName: 'Tools API' },
    ...extra,
  });
  closers.push(() => p.close());
  return p;
}

beforeAll(async () => {
  dev = await startDevIssuer({ audience: RESOURCE, extraAudiences: [OTHER] });
  plane = await oidcPlane();
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await dev?.stop();
});

describe.each(FRAMEWORKS)('%s', (_name, start) => {
  let server: Running;
  beforeAll(async () => {
    server = await start(plane);
    closers.push(() => server.close());
  });

  it('serves the RFC 9728 document at the path-aware well-known path, publicly, with CORS', async () => {
    const res = await fetch(`${server.url}${WELL_KNOWN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [dev.issuer],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
      resource_name: 'Tools API',
    });
    const head = await fetch(`${server.url}${WELL_KNOWN}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const preflight = await fetch(`${server.url}${WELL_KNOWN}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    // The root well-known path is not this resource's: it is not answered with this document.
    const root = await fetch(`${server.url}/.well-known/oauth-protected-resource`);
    expect(root.status).not.toBe(200);
  });

  it('names the metadata in every 401 challenge: no token, a bad token, a token of another audience', async () => {
    const none = await fetch(`${server.url}/items`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${METADATA_URL}"`);

    const token = await dev.mintServiceToken({ scope: 'write' });
    const bad = await fetch(`${server.url}/items`, { headers: { authorization: `Bearer ${token}x` } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(
      new RegExp(`^Bearer error="invalid_token", .*resource_metadata="${escapeRegExp(METADATA_URL)}"$`),
    );

    const foreign = await signed({ aud: OTHER });
    const other = await fetch(`${server.url}/items`, { headers: { authorization: `Bearer ${foreign}` } });
    expect(other.status).toBe(401);
    expect(((await other.json()) as { reason: string }).reason).toBe('audience_mismatch');
    expect(other.headers.get('www-authenticate')).toContain(`resource_metadata="${METADATA_URL}"`);
  });

  it("names the metadata in the guards' 403 beside the needed scope", async () => {
    const readOnly = await dev.mintServiceToken({ scope: 'read' });
    const res = await fetch(`${server.url}/items`, { headers: { authorization: `Bearer ${readOnly}` } });
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="write"');
    expect(challenge).toContain(`resource_metadata="${METADATA_URL}"`);
    const ok = await fetch(`${server.url}/items`, {
      headers: { authorization: `Bearer ${await dev.mintServiceToken({ scope: 'write' })}` },
    });
    expect(ok.status).toBe(200);
  });
});

describe('without resourceMetadataUrl', () => {
  it('challenges stay as they were: no resource_metadata parameter', async () => {
    const bare = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: RESOURCE,
      allowInsecureRequests: true,
    });
    closers.push(() => bare.close());
    const result = await bare.authenticate(new Request('https://api.authplane.test/tools'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.challenge).toBe('Bearer');
    // The document still works: the resource defaults to the single URL audience.
    expect(bare.resourceMetadata().resource).toBe(RESOURCE);
  });

  it('refuses to build a metadata handler when no resource URL can be known', async () => {
    const named = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: 'tools-api',
      allowInsecureRequests: true,
    });
    closers.push(() => named.close());
    expect(() => ex.resourceMetadata(named)).toThrow(ConfigError);
    expect(() => ho.resourceMetadata(named)).toThrow(/resourceMetadata\.resource/);
    // Given explicitly (the public URL behind a proxy), it is served at that URL's path.
    const app = express();
    app.use(ex.resourceMetadata(named, { resource: 'https://public.example/v1/tools' }));
    const server = await listen(createServer(app));
    closers.push(() => server.close());
    const res = await fetch(`${server.url}/.well-known/oauth-protected-resource/v1/tools`);
    expect(((await res.json()) as { resource: string }).resource).toBe('https://public.example/v1/tools');
  });
});

describe("audienceMode 'exact'", () => {
  it('refuses a token that also names another resource; the default accepts it', async () => {
    const exact = await oidcPlane({ audienceMode: 'exact' });
    const both = await signed({ aud: [RESOURCE, OTHER] });
    const refused = await exact.verify(both);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.failure.reason).toBe('audience_mismatch');
      expect(refused.failure.challenge).toContain(`resource_metadata="${METADATA_URL}"`);
    }
    // Verified once by the adapter's token cache, refused again: the check is the plane's, every time.
    expect((await exact.verify(both)).ok).toBe(false);
    expect((await plane.verify(both)).ok).toBe(true); // 'any' (default)
    expect((await exact.verify(await signed({ aud: [RESOURCE] }))).ok).toBe(true);
    expect((await exact.verify(await signed({ aud: RESOURCE }))).ok).toBe(true);
    expect((await exact.verify(await dev.mintServiceToken({ scope: 'read' }))).ok).toBe(true);
    // A non-string audience value cannot slip through.
    expect((await exact.verify(await signed({ aud: [RESOURCE, 42] }))).ok).toBe(false);
  });

  it('is refused at start-up for a provider that checks no audience', async () => {
    await expect(
      createIdentityPlane({
        provider: 'legacy',
        secret: 'a-legacy-secret-of-at-least-32-bytes!!',
        audienceMode: 'exact',
      }),
    ).rejects.toThrow(/audienceMode/);
    await expect(
      createIdentityPlane({
        provider: 'oidc',
        issuer: dev.issuer,
        audience: RESOURCE,
        allowInsecureRequests: true,
        // @ts-expect-error: not a mode
        audienceMode: 'strict',
      }),
    ).rejects.toThrow(ConfigError);
  });
});

describe('the migration plane', () => {
  const legacy = { provider: 'legacy' as const, secret: 'a-legacy-secret-of-at-least-32-bytes!!' };

  it('advertises the target authorization server only while some tenant may use it', async () => {
    const target = {
      provider: 'oidc' as const,
      issuer: dev.issuer,
      audience: RESOURCE,
      allowInsecureRequests: true,
    };
    const modes = [
      ['legacy', undefined],
      ['shadow', undefined],
      ['dual', [dev.issuer]],
      ['target', [dev.issuer]],
    ] as const;
    for (const [mode, servers] of modes) {
      const migration = await createIdentityPlane({ provider: 'migration', legacy, target, mode });
      closers.push(() => migration.close());
      expect(migration.resourceMetadata().authorization_servers).toEqual(servers);
      expect(migration.resourceMetadata().resource).toBe(RESOURCE);
    }
    // One tenant already in dual: its users need the target's authorization server.
    const partial = await createIdentityPlane({
      provider: 'migration',
      legacy,
      target,
      mode: 'legacy',
      tenants: { orgs: { org_acme: 'dual' } },
    });
    closers.push(() => partial.close());
    expect(partial.resourceMetadata().authorization_servers).toEqual([dev.issuer]);
  });

  it('lists both authorization servers of a dual migration from Auth0 to the first-party issuer', async () => {
    const migration = await createIdentityPlane({
      provider: 'migration',
      flags: { auth0: true },
      legacy: {
        provider: 'auth0',
        domain: 'acme.eu.auth0.com',
        customDomains: ['login.acme.test'],
        audience: RESOURCE,
        // No Auth0 tenant here: its JWKS is unreachable, which only matters for Auth0 tokens.
        fetch: async () => {
          throw new TypeError('offline');
        },
      },
      target: { provider: 'oidc', issuer: dev.issuer, audience: RESOURCE, allowInsecureRequests: true },
      mode: 'dual',
      resourceMetadataUrl: METADATA_URL,
    });
    closers.push(() => migration.close());
    expect(migration.resourceMetadata().authorization_servers).toEqual([
      'https://acme.eu.auth0.com/',
      'https://login.acme.test/',
      dev.issuer,
    ]);
    const refused = await migration.authenticate(new Request(RESOURCE));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.failure.challenge).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });
});

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
