// examples/mcp-server against the dev issuer (oidc-provider), driven by the MCP SDK's own client and
// its OAuth support: RFC 9728 discovery from the 401, RFC 8414 metadata, dynamic client registration,
// authorization code + PKCE with an RFC 8707 resource (the login and consent played headlessly), then
// tool calls. Plus the authplane/mcp pieces on their own: the SDK's requireBearerAuth over
// createMcpVerifier, and withMcpAuth over the SDK's Web-standard transport served by Hono.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpExample, startMcpServer } from '../../examples/mcp-server/server';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { resourceMetadataUrlFor } from '../../src/identity/resource-metadata';
import type { IdentityPlane } from '../../src/identity/types';
import { createMcpVerifier, type McpAuthExtra, withMcpAuth } from '../../src/mcp/index';
import { completeBrowserLogin } from './user-agent';

const OTHER_API = 'https://other.authplane.test/api';

let dev: DevIssuer;
let mcp: McpExample;

beforeAll(async () => {
  mcp = await startMcpServer({
    planeFor: async (resource) => {
      dev = await startDevIssuer({ audience: resource, extraAudiences: [OTHER_API] });
      return createIdentityPlane({
        provider: 'oidc',
        issuer: dev.issuer,
        audience: resource,
        allowInsecureRequests: true,
        audienceMode: 'exact',
        resourceMetadataUrl: resourceMetadataUrlFor(resource),
      });
    },
  });
});

afterAll(async () => {
  await mcp?.close();
  await dev?.stop();
});

/** An OAuth client as an MCP host keeps it: in memory, the browser step played headlessly. */
class HeadlessOAuthClient implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  code: string | undefined;
  authorizationUrl: URL | undefined;
  readonly redirectUrl = 'http://127.0.0.1:8976/callback';
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'authplane test host',
    redirect_uris: [this.redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
    const callback = new URL(await completeBrowserLogin(url.href, { login: 'bob' }));
    this.code = callback.searchParams.get('code') ?? undefined;
  }
}

const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });

const post = (url: string, token: string | null, body: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });

async function tokenFor(resource: string, scope: string): Promise<string> {
  const { clientId, clientSecret } = dev.clients.service;
  const res = await fetch(dev.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const json = (await res.json()) as { access_token: string };
  expect(res.status).toBe(200);
  return json.access_token;
}

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

describe('examples/mcp-server with the MCP SDK client', () => {
  it('discovers the metadata, registers, signs in, obtains a token for this resource and calls tools', async () => {
    const oauth = new HeadlessOAuthClient();
    const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: oauth });
    await expect(new Client({ name: 'host', version: '1' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    // Dynamic client registration happened at the dev issuer, and the authorization request named
    // this resource (RFC 8707) and the scopes the metadata advertises.
    expect(oauth.info?.client_id).toEqual(expect.any(String));
    expect(oauth.authorizationUrl?.origin).toBe(new URL(dev.issuer).origin);
    expect(oauth.authorizationUrl?.searchParams.get('resource')).toBe(mcp.url);
    expect(oauth.authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(oauth.code).toEqual(expect.any(String));
    await first.finishAuth(oauth.code as string);
    const token = oauth.saved?.access_token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(claims.aud).toBe(mcp.url);

    const client = new Client({ name: 'host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: oauth }));
    const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
    expect(who).toEqual({ subject: 'bob', orgId: 'org_acme' });
    expect(text(await client.callTool({ name: 'add_note', arguments: { text: 'hello' } }))).toBe('added (1)');
    expect(JSON.parse(text(await client.callTool({ name: 'list_notes', arguments: {} })))).toContain('hello');
    await client.close();
  });

  it('refuses a token of another audience of the same issuer with a challenge naming the metadata', async () => {
    const foreign = await tokenFor(OTHER_API, 'read write');
    const res = await post(mcp.url, foreign, rpc('tools/call', { name: 'whoami', arguments: {} }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe('audience_mismatch');
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(`resource_metadata="${resourceMetadataUrlFor(mcp.url)}"`);
    // And the SDK client holding that token cannot call anything.
    const oauth = new HeadlessOAuthClient();
    oauth.saved = { access_token: foreign, token_type: 'Bearer' };
    oauth.redirectToAuthorization = async () => {}; // the host would now open a browser: stop there
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: oauth });
    await expect(new Client({ name: 'host', version: '1' }).connect(transport)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it('answers a tool call without the tool scope with 403 insufficient_scope naming the scope', async () => {
    const readOnly = await dev.mintServiceToken({ scope: 'read' });
    const res = await post(
      mcp.url,
      readOnly,
      rpc('tools/call', { name: 'add_note', arguments: { text: 'x' } }),
    );
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="write"');
    expect(challenge).toContain('resource_metadata="');
    // Hidden in a batch beside an allowed call, it is refused all the same.
    const batch = `[${rpc('tools/call', { name: 'whoami', arguments: {} }, 1)},${rpc('tools/call', { name: 'add_note', arguments: { text: 'x' } }, 2)}]`;
    expect((await post(mcp.url, readOnly, batch)).status).toBe(403);
    // The request-wide scope: a token without `read` is refused before any tool is looked at.
    const writeOnly = await dev.mintServiceToken({ scope: 'write' });
    const noRead = await post(mcp.url, writeOnly, rpc('tools/list'));
    expect(noRead.status).toBe(403);
    expect(noRead.headers.get('www-authenticate')).toContain('scope="read"');
  });

  it('serves its RFC 9728 metadata at the path-aware well-known URL', async () => {
    const res = await fetch(resourceMetadataUrlFor(mcp.url));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: mcp.url,
      authorization_servers: [dev.issuer],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
    });
    // The dev issuer answers what MCP clients ask an authorization server (RFC 8414, DCR, PKCE).
    const as = (await (await fetch(`${dev.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as.issuer).toBe(dev.issuer);
    expect(as.registration_endpoint).toEqual(expect.any(String));
    expect(as.code_challenge_methods_supported).toContain('S256');
  });
});

describe('createMcpVerifier under the SDK requireBearerAuth', () => {
  let server: Server;
  let url: string;
  let plane: IdentityPlane;

  beforeAll(async () => {
    plane = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: mcp.url,
      allowInsecureRequests: true,
    });
    // Loaded by a computed specifier: the SDK's bearerAuth types declare `Express.Request.auth` as its
    // AuthInfo, which clashes with authplane/express's Principal in one compilation.
    const spec = '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
    const { requireBearerAuth } = (await import(spec)) as {
      requireBearerAuth(options: {
        verifier: { verifyAccessToken(token: string): Promise<unknown> };
        requiredScopes?: string[];
      }): express.RequestHandler;
    };
    const app = express();
    app.get(
      '/whoami',
      requireBearerAuth({
        verifier: { verifyAccessToken: createMcpVerifier(plane) },
        requiredScopes: ['read'],
      }),
      (req, res) => {
        const info = (req as unknown as { auth: import('../../src/mcp/index').McpAuthInfo }).auth;
        res.json({
          clientId: info.clientId,
          scopes: info.scopes,
          resource: info.resource?.href,
          expiresAt: info.expiresAt,
          subject: (info.extra as unknown as McpAuthExtra).principal.subject,
        });
      },
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/whoami`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await plane?.close();
  });

  it('gives the SDK an AuthInfo with client id, scopes, expiry, resource and the principal', async () => {
    const token = await dev.mintServiceToken({ scope: 'read write' });
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      clientId: dev.clients.service.clientId,
      resource: mcp.url,
      subject: dev.clients.service.clientId,
    });
    expect(body.scopes).toEqual(expect.arrayContaining(['read', 'write']));
    expect(body.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('throws the SDK errors its middleware maps: 401 for a bad token, 403 for a missing scope', async () => {
    const token = await dev.mintServiceToken({ scope: 'read' });
    const tampered = `${token.slice(0, -4)}AAAA`;
    const bad = await fetch(url, { headers: { authorization: `Bearer ${tampered}` } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
    expect(await bad.text()).not.toContain(tampered);
    const foreign = await tokenFor(OTHER_API, 'read');
    expect((await fetch(url, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
    const writeOnly = await dev.mintServiceToken({ scope: 'write' });
    expect((await fetch(url, { headers: { authorization: `Bearer ${writeOnly}` } })).status).toBe(403);
  });

  it('fails closed on an outage: a server error, never a 401 telling the client to drop its token', async () => {
    const verify = createMcpVerifier(
      await createIdentityPlane({
        provider: 'oidc',
        issuer: dev.issuer,
        audience: mcp.url,
        jwksUri: 'http://127.0.0.1:9/jwks', // nothing listens on the discard port
        allowInsecureRequests: true,
        timeoutMs: 500,
      }),
    );
    const token = await dev.mintServiceToken({ scope: 'read' });
    const { ServerError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
    await expect(verify(token)).rejects.toBeInstanceOf(ServerError);
  });
});

describe('withMcpAuth over the SDK Web-standard transport (Hono)', () => {
  let server: Server;
  let url: string;
  let plane: IdentityPlane;

  beforeAll(async () => {
    plane = await createIdentityPlane({
      provider: 'oidc',
      issuer: dev.issuer,
      audience: mcp.url,
      allowInsecureRequests: true,
      audienceMode: 'exact',
    });
    const handle = withMcpAuth(
      plane,
      async (request, { authInfo, parsedBody }) => {
        const mcpServer = new McpServer({ name: 'web', version: '1' });
        mcpServer.registerTool('whoami', { description: 'who' }, async (extra) => ({
          content: [
            {
              type: 'text',
              text: String((extra.authInfo?.extra as McpAuthExtra | undefined)?.principal.subject),
            },
          ],
        }));
        mcpServer.registerTool('wipe', { description: 'dangerous' }, async () => ({
          content: [{ type: 'text', text: 'wiped' }],
        }));
        const transport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: true,
        });
        await mcpServer.connect(transport);
        return transport.handleRequest(request, { authInfo, parsedBody });
      },
      { toolScopes: { wipe: ['admin'] }, maxBodyBytes: 4096 },
    );
    const app = new Hono();
    app.post('/mcp', (c) => handle(c.req.raw));
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await plane?.close();
  });

  it('runs the tool with the principal, refuses the guarded tool, the anonymous and the oversized request', async () => {
    const token = await dev.mintServiceToken({ scope: 'read' });
    const ok = await post(url, token, rpc('tools/call', { name: 'whoami', arguments: {} }));
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain(dev.clients.service.clientId);

    const denied = await post(url, token, rpc('tools/call', { name: 'wipe', arguments: {} }));
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('scope="admin"');
    expect(denied.headers.get('www-authenticate')).toContain(
      `resource_metadata="${resourceMetadataUrlFor(mcp.url)}"`,
    );

    const anonymous = await post(url, null, rpc('tools/list'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);

    const big = await post(
      url,
      token,
      rpc('tools/call', { name: 'whoami', arguments: { pad: 'x'.repeat(8000) } }),
    );
    expect(big.status).toBe(413);
    const broken = await post(url, token, '{"jsonrpc":');
    expect(broken.status).toBe(400);
  });
});
