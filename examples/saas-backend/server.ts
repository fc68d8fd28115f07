/**
 * examples/saas-backend: a small node:http API that chooses its identity provider by configuration
 * alone (AUTHPLANE_PROVIDER, AUTHPLANE_ISSUER, AUTHPLANE_AUDIENCE, …) and protects a few routes.
 *
 *   AUTHPLANE_ISSUER=http://127.0.0.1:4455 AUTHPLANE_AUDIENCE=https://api.authplane.local \
 *   AUTHPLANE_ALLOW_INSECURE_REQUESTS=true npx tsx examples/saas-backend/server.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  type AuthFailure,
  authorize,
  createIdentityPlane,
  type IdentityConfigInput,
  loadConfig,
  type Principal,
  toHttp,
} from 'authplane';

interface Route {
  method: string;
  pattern: RegExp;
  /** What the route needs, given its path parameters. */
  requires: (params: string[]) => { scopes?: string[]; roles?: string[]; orgId?: string };
  handle: (principal: Principal, params: string[]) => unknown;
}

const routes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/items$/,
    requires: () => ({ scopes: ['read'] }),
    handle: (p) => ({ items: ['a', 'b'], for: p.subject }),
  },
  {
    method: 'POST',
    pattern: /^\/sync$/,
    requires: () => ({ scopes: ['sync:write'] }),
    handle: () => ({ started: true }),
  },
  {
    method: 'GET',
    pattern: /^\/orgs\/([\w-]+)\/reports$/,
    requires: ([orgId]) => ({ scopes: ['read'], orgId }),
    handle: (_p, [orgId]) => ({ org: orgId, reports: [] }),
  },
];

function sendFailure(res: ServerResponse, failure: AuthFailure): void {
  const { status, headers, body } = toHttp(failure);
  res.writeHead(status, headers).end(body);
}

/**
 * Starts the example API on 127.0.0.1.
 *
 * @example
 * ```ts
 * const api = await startSaasBackend({ env: process.env, port: 3000 });
 * console.log(api.url); await api.close();
 * ```
 */
export async function startSaasBackend(options: {
  env: Record<string, string | undefined>;
  port?: number;
  /** Fields laid over what the environment gives (tests and the demo tune the JWKS cache here). */
  overrides?: Record<string, unknown>;
}) {
  const plane = await createIdentityPlane({
    ...loadConfig(options.env),
    ...options.overrides,
  } as IdentityConfigInput);
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/health')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    const match = routes
      .map((r) => ({ r, m: r.method === req.method ? r.pattern.exec(path) : null }))
      .find((x) => x.m);
    if (!match?.m) return void res.writeHead(404).end();
    const params = match.m.slice(1).filter((x): x is string => x !== undefined);

    const result = await plane.authenticate(req);
    if (!result.ok) return sendFailure(res, result.failure);
    const check = authorize(result.principal, { ...match.r.requires(params), traceId: result.traceId });
    if (!check.ok) return sendFailure(res, check.failure);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(match.r.handle(result.principal, params)));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    provider: plane.provider,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await plane.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const api = await startSaasBackend({ env: process.env, port: Number(process.env.PORT ?? 3000) });
  console.log(`saas-backend on ${api.url} (provider: ${api.provider})`);
}
