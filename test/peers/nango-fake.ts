// A loopback fake of the parts of Nango's HTTP API the adapter uses, driven by the real @nangohq/node
// SDK: GET /connections/:id (provider_config_key, force_refresh), GET /connections (integrationId,
// limit, page), DELETE /connections/:id, ALL /proxy/* (Connection-Id, Provider-Config-Key,
// Base-Url-Override). Errors use Nango's `{ error: { code, message } }` envelope. Nango refreshes
// expired OAuth tokens itself on GET; the fake does the same and counts refreshes.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeConnection {
  connection_id: string;
  provider_config_key: string;
  provider: string;
  orgId: string | null;
  type: 'OAUTH2' | 'API_KEY' | 'BASIC';
  access_token: string;
  refresh_token: string;
  /** Epoch ms, or null. */
  expires_at: number | null;
  apiKey?: string;
  username?: string;
  password?: string;
  scope: string;
  errors: { type: string; log_id: string }[];
  created_at: string;
  /** Connection tags and metadata as the backend set them (org bindings other than the end user). */
  tags?: Record<string, string>;
  metadata?: Record<string, unknown> | null;
}

export type Fault = 'none' | 'server_error' | 'hang' | 'refresh_revoked';

export interface NangoFake {
  readonly host: string;
  readonly secretKey: string;
  readonly connections: Map<string, FakeConnection>;
  readonly integrations: Set<string>;
  /** Refreshes Nango performed (the token-endpoint calls it made on the adapter's behalf). */
  refreshes: number;
  /** Requests per route: `GET /connections/:id`, `GET /connections`, `DELETE`, `PROXY`. */
  readonly requests: Record<string, number>;
  fault: Fault;
  /** The fake's clock (epoch ms); tests move it to make tokens expire. */
  now: () => number;
  add(c: Partial<FakeConnection> & { connection_id: string; provider_config_key: string }): FakeConnection;
  stop(): Promise<void>;
}

const key = (pck: string, id: string) => `${pck}\u0000${id}`;
const token = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

export async function startNangoFake(options: { ttlSec?: number } = {}): Promise<NangoFake> {
  const ttlMs = (options.ttlSec ?? 3600) * 1000;
  const secretKey = `nango_sk_${randomBytes(8).toString('hex')}`;
  const sockets = new Set<Socket>();
  const fake: NangoFake = {
    host: '',
    secretKey,
    connections: new Map(),
    integrations: new Set(['github', 'slack', 'jira']),
    refreshes: 0,
    requests: {},
    fault: 'none',
    now: Date.now,
    add(c) {
      const full: FakeConnection = {
        provider: c.provider_config_key,
        orgId: null,
        type: 'OAUTH2',
        access_token: token('nango_at'),
        refresh_token: token('nango_rt'),
        expires_at: fake.now() + ttlMs,
        scope: 'read write',
        errors: [],
        created_at: new Date(fake.now()).toISOString(),
        ...c,
      };
      fake.connections.set(key(c.provider_config_key, c.connection_id), full);
      return full;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, { error: { code, message } });

  const publicShape = (c: FakeConnection) => ({
    id: 1,
    connection_id: c.connection_id,
    provider_config_key: c.provider_config_key,
    provider: c.provider,
    created: c.created_at,
    metadata: c.metadata ?? null,
    errors: c.errors,
    end_user: c.orgId
      ? {
          id: 'end_user_1',
          display_name: null,
          email: null,
          tags: null,
          organization: { id: c.orgId, display_name: null },
        }
      : null,
    tags: c.tags ?? {},
  });

  const credentials = (c: FakeConnection) => {
    switch (c.type) {
      case 'API_KEY':
        return { type: 'API_KEY', apiKey: c.apiKey };
      case 'BASIC':
        return { type: 'BASIC', username: c.username, password: c.password };
      default:
        return {
          type: 'OAUTH2',
          access_token: c.access_token,
          refresh_token: c.refresh_token,
          expires_at: c.expires_at === null ? undefined : new Date(c.expires_at).toISOString(),
          raw: { access_token: c.access_token, token_type: 'bearer', scope: c.scope },
        };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return error(res, 401, 'unauthorized', 'Authentication failed. The provided secret key is invalid.');
    }
    if (fake.fault === 'hang') return; // never answers; the client's timeout must fire
    if (fake.fault === 'server_error') return error(res, 500, 'server_error', 'An unexpected error occurred');
    const parts = url.pathname.split('/').filter(Boolean);

    if (parts[0] === 'proxy') {
      fake.requests.PROXY = (fake.requests.PROXY ?? 0) + 1;
      const id = String(req.headers['connection-id'] ?? '');
      const pck = String(req.headers['provider-config-key'] ?? '');
      const c = fake.connections.get(key(pck, id));
      if (!c) return error(res, 404, 'unknown_connection', 'Connection not found');
      const base = String(req.headers['base-url-override'] ?? '');
      if (!base) return error(res, 400, 'missing_base_api_url', 'No base URL');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${base}/${parts.slice(1).join('/')}${url.search}`, {
        method: req.method,
        headers: { authorization: `Bearer ${c.access_token}` },
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      });
      res.end(Buffer.from(await upstream.arrayBuffer()));
      return;
    }
    if (parts[0] !== 'connections') return error(res, 404, 'not_found', 'Route not found');

    if (parts.length === 1 && req.method === 'GET') {
      fake.requests['GET /connections'] = (fake.requests['GET /connections'] ?? 0) + 1;
      const integrationId = url.searchParams.get('integrationId');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const page = Number(url.searchParams.get('page') ?? 0);
      const all = [...fake.connections.values()].filter(
        (c) => !integrationId || integrationId.split(',').includes(c.provider_config_key),
      );
      return send(res, 200, { connections: all.slice(page * limit, page * limit + limit).map(publicShape) });
    }

    const id = decodeURIComponent(parts[1] ?? '');
    const pck = url.searchParams.get('provider_config_key') ?? '';
    if (!fake.integrations.has(pck)) {
      return error(res, 400, 'unknown_provider_config', 'Provider config not found');
    }
    const c = fake.connections.get(key(pck, id));
    if (req.method === 'DELETE') {
      fake.requests.DELETE = (fake.requests.DELETE ?? 0) + 1;
      if (!c) return error(res, 404, 'not_found', 'Connection not found');
      fake.connections.delete(key(pck, id));
      res.writeHead(204).end();
      return;
    }
    fake.requests['GET /connections/:id'] = (fake.requests['GET /connections/:id'] ?? 0) + 1;
    if (!c) return error(res, 404, 'not_found', 'Connection not found');
    const force = url.searchParams.get('force_refresh') === 'true';
    const expired = c.expires_at !== null && c.expires_at - 15 * 60_000 <= fake.now();
    if (c.type === 'OAUTH2' && (force || expired)) {
      if (fake.fault === 'refresh_revoked') {
        c.errors = [{ type: 'auth', log_id: 'log_1' }];
        return error(
          res,
          400,
          'refresh_token_external_error',
          'The external API returned an error when trying to refresh the access token. Please try again later. invalid_grant',
        );
      }
      fake.refreshes++;
      c.access_token = token('nango_at');
      c.refresh_token = token('nango_rt');
      c.expires_at = fake.now() + ttlMs;
    }
    return send(res, 200, {
      ...publicShape(c),
      created_at: c.created_at,
      updated_at: c.created_at,
      last_fetched_at: null,
      connection_config: {},
      credentials: credentials(c),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => error(res, 500, 'server_error', 'fake failure'));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (fake as { host: string }).host = `http://127.0.0.1:${port}`;
  return fake;
}
