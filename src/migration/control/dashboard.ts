// `authplane migrate dashboard`: one page over a control store, served by node:http on 127.0.0.1. Static
// files ship in the package (assets/dashboard, uPlot from its own package); no build step for users.
//
// Who may do what: the printed login URL carries a random token; opening it sets a session cookie
// (HttpOnly, SameSite=Strict) and the page learns a per-session CSRF token. Reads need the cookie;
// changes need the cookie, the CSRF token in a header, a same-origin Origin and a JSON body. Every
// request's Host must be this server's own (no DNS rebinding). Every change is audited.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Auditor, createAuditor } from '../../telemetry/audit';
import { isMigrationMode } from '../modes';
import { applyControlAction } from './actions';
import { type ReadinessOptions, readFleetReport } from './summary';
import type { MigrationControlStore } from './types';

/**
 * Options of {@link startMigrationDashboard}.
 *
 * @example
 * ```ts
 * const dash = await startMigrationDashboard({ store: pg.migrationControl, actor: 'alice', auditor });
 * console.log(dash.loginUrl);
 * ```
 */
export interface DashboardOptions {
  readonly store: MigrationControlStore;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Who the changes are recorded as (with `via: dashboard`). */
  readonly actor: string;
  /** Receives a `privileged` audit event per change. */
  readonly auditor?: Auditor;
  /** Shown in the page header (no credentials). */
  readonly storeDescription?: string;
  readonly readiness?: ReadinessOptions;
}

/**
 * A running dashboard.
 *
 * @example
 * ```ts
 * const { loginUrl, token, close } = await startMigrationDashboard({ store, actor: 'ops' });
 * ```
 */
export interface MigrationDashboard {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The URL that signs a browser in (carries the token once; the page drops it from the address bar). */
  readonly loginUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

const MAX_BODY = 4_096;
const MAX_SESSIONS = 100;

function moduleDir(): string {
  // CJS bundles have __dirname; ESM has import.meta.url.
  return typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
}

/**
 * Finds the shipped `assets/dashboard` folder (package root, beside `dist/` or `src/`).
 *
 * @internal
 * @example
 * ```ts
 * readFileSync(join(dashboardAssetsDir(), 'index.html'), 'utf8');
 * ```
 */
export function dashboardAssetsDir(): string {
  let dir = moduleDir();
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'assets', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('authplane: the dashboard assets (assets/dashboard) are missing from the package');
}

function loadAssets() {
  const dir = dashboardAssetsDir();
  const require = createRequire(join(moduleDir(), 'noop.js'));
  const uplotJs = require.resolve('uplot/dist/uPlot.iife.min.js');
  return {
    index: readFileSync(join(dir, 'index.html'), 'utf8'),
    files: new Map<string, { type: string; body: Buffer }>([
      ['/assets/app.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(dir, 'app.js')) }],
      ['/assets/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(dir, 'app.css')) }],
      ['/assets/uplot.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(uplotJs) }],
      [
        '/assets/uplot.css',
        { type: 'text/css; charset=utf-8', body: readFileSync(join(dirname(uplotJs), 'uPlot.min.css')) },
      ],
    ]),
  };
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Serves the migration dashboard until `close()`.
 *
 * @example
 * ```ts
 * const dash = await startMigrationDashboard({ store, port: 4100, actor: 'cli:alice', auditor: createAuditor(log) });
 * ```
 */
export async function startMigrationDashboard(options: DashboardOptions): Promise<MigrationDashboard> {
  const assets = loadAssets();
  const store = options.store;
  const auditor = options.auditor ?? createAuditor();
  const token = randomBytes(24).toString('base64url');
  const sessions = new Map<string, string>(); // session id -> CSRF token
  let origin = '';
  let hosts = new Set<string>();

  const send = (
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    type = 'application/json; charset=utf-8',
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, value: unknown) =>
    send(res, status, JSON.stringify(value));

  const sessionOf = (req: IncomingMessage): string | null => {
    const cookie = req.headers.cookie ?? '';
    const match = /(?:^|;\s*)ap_dash=([\w-]{20,64})/.exec(cookie);
    return match && sessions.has(match[1] as string) ? (match[1] as string) : null;
  };

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          reject(new Error('too_large')); // the rest is drained and dropped, never buffered
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error('invalid_json'));
        }
      });
      req.on('error', reject);
    });

  const state = async () => {
    const report = await readFleetReport(store, { readiness: options.readiness, sinceMs: 86_400_000 });
    const current = await store.read();
    const tenants = Object.entries(report.tenants).map(([tenant, t]) => {
      const entry = current.orgs[tenant];
      return {
        tenant,
        mode: entry?.value.mode ?? null,
        lastChange: entry
          ? { version: entry.version, at: entry.at.toISOString(), actor: entry.actor, reason: entry.reason }
          : null,
        readiness: t.readiness,
        counts: t.windows['24h'],
        classes: {
          decision: t.counts.decision,
          subject: t.counts.subject,
          org: t.counts.org,
          scopes: t.counts.scopes,
          roles: t.counts.roles,
        },
      };
    });
    return {
      store: options.storeDescription ?? null,
      version: current.version,
      defaultMode: current.defaultMode?.value.mode ?? null,
      rollout: current.rollout?.value ?? null,
      tenants,
      windows: report.windows,
      series: report.series,
      generatedAt: report.generatedAt,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hosts.has(String(req.headers.host ?? '').toLowerCase()))
      return send(res, 421, 'unknown host', 'text/plain');
    const url = new URL(req.url ?? '/', origin);
    const asset = assets.files.get(url.pathname);
    if (req.method === 'GET' && asset)
      return send(res, 200, asset.body, asset.type, { 'cache-control': 'max-age=300' });

    if (req.method === 'GET' && url.pathname === '/') {
      const given = url.searchParams.get('token');
      if (given !== null) {
        if (!same(given, token)) return send(res, 403, 'wrong token', 'text/plain');
        if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
        const id = randomBytes(24).toString('base64url');
        sessions.set(id, randomBytes(24).toString('base64url'));
        return send(res, 303, '', 'text/plain', {
          location: '/',
          'set-cookie': `ap_dash=${id}; HttpOnly; SameSite=Strict; Path=/`,
        });
      }
      const session = sessionOf(req);
      if (!session)
        return send(
          res,
          401,
          'Open the URL that `authplane migrate dashboard` printed.',
          'text/plain; charset=utf-8',
        );
      return send(
        res,
        200,
        assets.index.replace('{{CSRF}}', sessions.get(session) as string),
        'text/html; charset=utf-8',
      );
    }

    if (url.pathname.startsWith('/api/')) {
      const session = sessionOf(req);
      if (!session) return json(res, 401, { error: 'unauthenticated' });
      if (req.method === 'GET' && url.pathname === '/api/state') return json(res, 200, await state());
      if (req.method === 'GET' && url.pathname === '/api/tenant') {
        const org = url.searchParams.get('org') ?? '';
        const report = await readFleetReport(store, { readiness: options.readiness });
        const history = await store
          .history({ target: { scope: 'org', orgId: org }, limit: 20 })
          .catch(() => null);
        if (history === null) return json(res, 400, { error: 'invalid_org' });
        return json(res, 200, { tenant: org, report: report.tenants[org] ?? null, history });
      }
      if (req.method === 'POST' && (url.pathname === '/api/mode' || url.pathname === '/api/rollback')) {
        // CSRF: same-origin Origin, the session's token in a header, a JSON body (no simple form post).
        if (req.headers.origin !== `http://${String(req.headers.host).toLowerCase()}`)
          return json(res, 403, { error: 'origin' });
        const csrf = req.headers['x-csrf-token'];
        if (typeof csrf !== 'string' || !same(csrf, sessions.get(session) as string))
          return json(res, 403, { error: 'csrf' });
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
          return json(res, 415, { error: 'json_only' });
        let body: { org?: unknown; mode?: unknown; reason?: unknown };
        try {
          body = (await readBody(req)) as typeof body;
        } catch (err) {
          const message = (err as Error).message;
          return json(res, message === 'too_large' ? 413 : 400, { error: message });
        }
        if (!body || typeof body !== 'object' || typeof body.org !== 'string')
          return json(res, 400, { error: 'org' });
        const target = { scope: 'org', orgId: body.org } as const;
        const reason = typeof body.reason === 'string' ? body.reason : null;
        let action: Parameters<typeof applyControlAction>[1];
        if (url.pathname === '/api/rollback') action = { kind: 'rollback', target };
        else if (body.mode === 'none') action = { kind: 'set', target, value: null };
        else if (isMigrationMode(body.mode)) action = { kind: 'set', target, value: { mode: body.mode } };
        else return json(res, 400, { error: 'mode' });
        try {
          const change = await applyControlAction(store, action, {
            actor: options.actor,
            reason,
            auditor,
            via: 'dashboard',
          });
          return json(res, 200, { change });
        } catch (err) {
          const code = (err as { code?: string })?.code;
          return json(res, err instanceof TypeError ? 400 : code === 'store_conflict' ? 409 : 503, {
            error: err instanceof TypeError ? 'invalid' : (code ?? 'store_unavailable'),
          });
        }
      }
      return json(res, 404, { error: 'not_found' });
    }
    return send(res, 404, 'not found', 'text/plain');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 503, { error: 'store_unavailable' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  origin = `http://${shown}:${port}`;
  hosts = new Set([`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`].map((h) => h.toLowerCase()));
  return {
    url: `${origin}/`,
    loginUrl: `${origin}/?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
