/**
 * examples/saas-backend, Express 5 variant: the same routes as server.ts (node:http), protected with
 * `authplane/express` guards, a membership directory for users in several orgs, and audit events.
 *
 *   AUTHPLANE_ISSUER=http://127.0.0.1:4455 AUTHPLANE_AUDIENCE=https://api.authplane.local \
 *   AUTHPLANE_ALLOW_INSECURE_REQUESTS=true npx tsx examples/saas-backend/express.ts
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
// In an application these come from 'authplane' and 'authplane/express'.
import { type AuditEvent, createAuthorizer, createIdentityPlane, loadConfig } from 'authplane';
import { authenticate, requireOrg, requireScopes, traceIdOf } from 'authplane/express';
import express from 'express';

/** Who belongs to which org besides the one in their token, with their roles there. */
const DIRECTORY: Record<string, { roles: string[] }> = {
  'alice|org_globex': { roles: ['member'] },
};

/**
 * Starts the Express variant of the example API on 127.0.0.1.
 *
 * @example
 * ```ts
 * const api = await startSaasBackendExpress({ env: process.env, port: 3000, audit: (e) => console.log(e) });
 * console.log(api.url); await api.close();
 * ```
 */
export async function startSaasBackendExpress(options: {
  env: Record<string, string | undefined>;
  port?: number;
  audit?: (event: AuditEvent) => void;
}) {
  const plane = await createIdentityPlane({ ...loadConfig(options.env), audit: options.audit });
  const authorizer = createAuthorizer({
    // Users may act on another org they belong to; services and API keys stay in their own org.
    isMember: async (principal, orgId) => DIRECTORY[`${principal.subject}|${orgId}`] ?? null,
    cacheTtlSec: 30,
  });

  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(authenticate(plane, { authorizer }));
  app.get('/items', requireScopes('read'), (req, res) => {
    res.json({ items: ['a', 'b'], for: req.auth?.subject });
  });
  app.post('/sync', requireScopes('sync:write'), (req, res) => {
    // A privileged action, recorded through the SDK with the principal and the request's trace id.
    plane.audit.privileged({
      action: 'sync.start',
      principal: req.auth ?? null,
      traceId: traceIdOf(req),
    });
    res.json({ started: true });
  });
  app.get('/orgs/:orgId/reports', requireOrg({ param: 'orgId' }), requireScopes('read'), (req, res) => {
    res.json({ org: req.params.orgId, reports: [] });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
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
  const api = await startSaasBackendExpress({
    env: process.env,
    port: Number(process.env.PORT ?? 3000),
    audit: (event) => console.log(JSON.stringify(event)),
  });
  console.log(`saas-backend (express) on ${api.url} (provider: ${api.provider})`);
}
