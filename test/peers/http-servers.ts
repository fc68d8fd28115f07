// The same protected API on every framework adapter, each on a real server bound to 127.0.0.1, plus a
// raw HTTP client (node:http, so a test can send two Authorization headers).
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import * as ex from '../../src/http/express';
import * as fy from '../../src/http/fastify';
import * as ho from '../../src/http/hono';
import * as nd from '../../src/http/node';
import type { Authorizer } from '../../src/identity/authorizer';
import type { IdentityPlane } from '../../src/identity/types';

/** A running test server. */
export interface TestServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts one framework's server over a plane. */
export type Starter = (plane: IdentityPlane, authorizer?: Authorizer) => Promise<TestServer>;

/*
 * Routes (all behind authenticate except /health):
 *   GET  /health                      public
 *   GET  /items                       scopes read
 *   POST /sync                        scopes sync:write
 *   GET  /any                         any of admin:all, read
 *   GET  /orgs/:orgId/reports         org from the route, scope read
 *   GET  /orgs/:orgId/admin           org from the route, role admin (in that org)
 *   GET  /header-org                  org from x-org-id
 *   GET  /token-org                   the token's own org
 *   GET  /step-up                     acr urn:authplane:mfa within 300 s (RFC 9470)
 */
/** What the /step-up route requires. */
export const STEP_UP = { acr: ['urn:authplane:mfa'], maxAgeSec: 300 } as const;

const body = (principal: { subject: string; orgId: string | null } | null | undefined, extra = {}) =>
  JSON.stringify({ subject: principal?.subject ?? null, orgId: principal?.orgId ?? null, ...extra });

export const startExpress: Starter = async (plane, authorizer) => {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(ex.authenticate(plane, { authorizer }));
  app.get('/items', ex.requireScopes('read'), (req, res) => {
    res.type('json').send(body(req.auth));
  });
  app.post('/sync', ex.requireScopes('sync:write'), (req, res) => {
    res.type('json').send(body(req.auth, { started: true }));
  });
  app.get('/any', ex.requireAnyScope('admin:all', 'read'), (req, res) => {
    res.type('json').send(body(req.auth));
  });
  app.get('/orgs/:orgId/reports', ex.requireOrg({ param: 'orgId' }), ex.requireScopes('read'), (req, res) => {
    res.type('json').send(body(req.auth, { org: req.params.orgId }));
  });
  app.get('/orgs/:orgId/admin', ex.requireOrg({ param: 'orgId' }), ex.requireRoles('admin'), (req, res) => {
    res.type('json').send(body(req.auth, { org: req.params.orgId }));
  });
  app.get('/header-org', ex.requireOrg({ header: 'x-org-id' }), (req, res) => {
    res.type('json').send(body(req.auth));
  });
  app.get('/token-org', ex.requireOrg('token'), (req, res) => {
    res.type('json').send(body(req.auth));
  });
  app.get('/step-up', ex.requireAuthentication(STEP_UP), (req, res) => {
    res.type('json').send(body(req.auth));
  });
  return listen(createServer(app));
};

export const startFastify: Starter = async (plane, authorizer) => {
  const app = Fastify();
  app.get('/health', async () => ({ ok: true }));
  await app.register(async (api) => {
    await api.register(fy.authenticate(plane, { authorizer }));
    const json = (payload: string) => payload;
    api.get('/items', { onRequest: fy.requireScopes('read') }, async (request, reply) =>
      reply.type('application/json').send(json(body(request.auth))),
    );
    api.post('/sync', { onRequest: fy.requireScopes('sync:write') }, async (request, reply) =>
      reply.type('application/json').send(body(request.auth, { started: true })),
    );
    api.get('/any', { onRequest: fy.requireAnyScope('admin:all', 'read') }, async (request, reply) =>
      reply.type('application/json').send(body(request.auth)),
    );
    api.get<{ Params: { orgId: string } }>(
      '/orgs/:orgId/reports',
      { onRequest: [fy.requireOrg({ param: 'orgId' }), fy.requireScopes('read')] },
      async (request, reply) =>
        reply.type('application/json').send(body(request.auth, { org: request.params.orgId })),
    );
    api.get<{ Params: { orgId: string } }>(
      '/orgs/:orgId/admin',
      { onRequest: [fy.requireOrg({ param: 'orgId' }), fy.requireRoles('admin')] },
      async (request, reply) =>
        reply.type('application/json').send(body(request.auth, { org: request.params.orgId })),
    );
    api.get('/header-org', { onRequest: fy.requireOrg({ header: 'x-org-id' }) }, async (request, reply) =>
      reply.type('application/json').send(body(request.auth)),
    );
    api.get('/token-org', { onRequest: fy.requireOrg('token') }, async (request, reply) =>
      reply.type('application/json').send(body(request.auth)),
    );
    api.get('/step-up', { onRequest: fy.requireAuthentication(STEP_UP) }, async (request, reply) =>
      reply.type('application/json').send(body(request.auth)),
    );
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
};

export const startHono: Starter = async (plane, authorizer) => {
  const app = new Hono<ho.AuthEnv>();
  app.get('/health', (c) => c.json({ ok: true }));
  const api = new Hono<ho.AuthEnv>();
  api.use('*', ho.authenticate(plane, { authorizer }));
  const send = (payload: string) =>
    new Response(payload, { headers: { 'content-type': 'application/json' } });
  api.get('/items', ho.requireScopes('read'), (c) => send(body(c.var.auth)));
  api.post('/sync', ho.requireScopes('sync:write'), (c) => send(body(c.get('auth'), { started: true })));
  api.get('/any', ho.requireAnyScope('admin:all', 'read'), (c) => send(body(c.var.auth)));
  api.get('/orgs/:orgId/reports', ho.requireOrg({ param: 'orgId' }), ho.requireScopes('read'), (c) =>
    send(body(c.var.auth, { org: c.req.param('orgId') })),
  );
  api.get('/orgs/:orgId/admin', ho.requireOrg({ param: 'orgId' }), ho.requireRoles('admin'), (c) =>
    send(body(c.var.auth, { org: c.req.param('orgId') })),
  );
  api.get('/header-org', ho.requireOrg({ header: 'x-org-id' }), (c) => send(body(c.var.auth)));
  api.get('/token-org', ho.requireOrg('token'), (c) => send(body(c.var.auth)));
  api.get('/step-up', ho.requireAuthentication(STEP_UP), (c) => send(body(c.var.auth)));
  app.route('/', api);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return closable(server);
};

export const startNode: Starter = async (plane, authorizer) => {
  const protect = nd.authenticate(plane, { authorizer });
  type Req = IncomingMessage & { params?: Record<string, string> };
  const json = (res: ServerResponse, payload: string) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
  const routes: Array<{
    method: string;
    pattern: RegExp;
    handler: (req: Req, res: ServerResponse) => unknown;
  }> = [
    {
      method: 'GET',
      pattern: /^\/items$/,
      handler: protect(nd.requireScopes('read')((req, res) => json(res, body(req.auth)))),
    },
    {
      method: 'POST',
      pattern: /^\/sync$/,
      handler: protect(
        nd.requireScopes('sync:write')((req, res) => json(res, body(req.auth, { started: true }))),
      ),
    },
    {
      method: 'GET',
      pattern: /^\/any$/,
      handler: protect(nd.requireAnyScope('admin:all', 'read')((req, res) => json(res, body(req.auth)))),
    },
    {
      method: 'GET',
      pattern: /^\/orgs\/(?<orgId>[^/]+)\/reports$/,
      handler: protect(
        nd.requireOrg({ param: 'orgId' })(
          nd.requireScopes('read')((req, res) =>
            json(res, body(req.auth, { org: (req as Req).params?.orgId })),
          ),
        ),
      ),
    },
    {
      method: 'GET',
      pattern: /^\/orgs\/(?<orgId>[^/]+)\/admin$/,
      handler: protect(
        nd.requireOrg({ param: 'orgId' })(
          nd.requireRoles('admin')((req, res) =>
            json(res, body(req.auth, { org: (req as Req).params?.orgId })),
          ),
        ),
      ),
    },
    {
      method: 'GET',
      pattern: /^\/header-org$/,
      handler: protect(nd.requireOrg({ header: 'x-org-id' })((req, res) => json(res, body(req.auth)))),
    },
    {
      method: 'GET',
      pattern: /^\/token-org$/,
      handler: protect(nd.requireOrg('token')((req, res) => json(res, body(req.auth)))),
    },
    {
      method: 'GET',
      pattern: /^\/step-up$/,
      handler: protect(nd.requireAuthentication(STEP_UP)((req, res) => json(res, body(req.auth)))),
    },
  ];
  const server = createServer((req: Req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/health') return void json(res, '{"ok":true}');
    for (const route of routes) {
      const match = route.method === req.method ? route.pattern.exec(path) : null;
      if (!match) continue;
      req.params = { ...match.groups };
      return void route.handler(req, res);
    }
    res.writeHead(404).end();
  });
  return listen(server);
};

/** Every framework adapter, by name. */
export const FRAMEWORKS: ReadonlyArray<readonly [string, Starter]> = [
  ['node:http', startNode],
  ['express', startExpress],
  ['fastify', startFastify],
  ['hono', startHono],
];

async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return closable(server);
}

function closable(server: Server): TestServer {
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

/** A response as the raw client saw it. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  json(): Record<string, unknown>;
}

/**
 * One HTTP request with headers as a raw [name, value, name, value, …] array, so a header can be sent
 * twice exactly as written.
 */
export function send(
  url: string,
  options: { method?: string; headers?: readonly string[] } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // With a raw header array node sends exactly these headers, so Host is added here.
    const headers = ['Host', new URL(url).host, 'Content-Length', '0', ...(options.headers ?? [])];
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          json: () => JSON.parse(text) as Record<string, unknown>,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The Authorization header of a bearer token, as raw header entries. */
export const bearer = (token: string): string[] => ['Authorization', `Bearer ${token}`];
