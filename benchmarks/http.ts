// End-to-end HTTP figure: requests per second of one protected route under autocannon on loopback,
// beside the same route without auth and beside Express with express-oauth2-jwt-bearer.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { auth as auth0Auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as authExpress from '../src/http/express';
import * as authNode from '../src/http/node';
import { createIdentityPlane } from '../src/index';
import { type Measurement, report } from './harness';

// autocannon ships no types; this is the part used here.
interface AutocannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const AUDIENCE = 'https://api.bench.local';
const TOKENS = 2000;
const BODY = JSON.stringify({ items: ['a', 'b'] });
const ROUNDS = 3;

/**
 * `npm run bench` part 2 (call it from benchmarks/index.ts): requests/s of `GET /items` (scope `read`)
 * on node:http and on Express, with authplane, without auth, and with express-oauth2-jwt-bearer, each
 * under autocannon (one worker thread, 10 connections) for `durationMs` per round after a short
 * warm-up, median of three interleaved rounds (7 × (1 s + 3 × durationMs) in all). Requests cycle
 * through 2000 distinct RS256 tokens (distinct `sub` and `jti`), as 2000 clients reusing their tokens
 * would: authplane is measured with its verified-token cache (the default) and with the cache off, so
 * every request pays a signature check like the peer does. Loopback only. Prints two tables and the
 * ratios the project aims at.
 *
 * @example
 * ```ts
 * await benchHttp(2000);
 * ```
 */
export async function benchHttp(durationMs = 2000): Promise<void> {
  const seconds = Math.min(10, Math.max(1, Math.round(durationMs / 1000)));
  const keys: object[] = [];
  const jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  const issuerUrl = await listen(jwksServer);
  const issuer = `${issuerUrl}/`;
  const jwksUri = `${issuerUrl}/jwks`;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  keys.push({ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' });
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, (_, i) =>
      new SignJWT({ scope: 'read write', org_id: 'org_bench', client_id: 'bench-client' })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject(`user-${i}`)
        .setJti(`jti-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    ),
  );
  const requests = tokens.map((t) => ({
    method: 'GET',
    path: '/items',
    headers: { authorization: `Bearer ${t}` },
  }));

  const planeWith = (maxCachedTokens: number) =>
    createIdentityPlane({
      provider: 'oidc',
      issuer,
      audience: AUDIENCE,
      jwksUri,
      algorithms: ['RS256'],
      allowInsecureRequests: true,
      tokenCache: { maxEntries: maxCachedTokens },
    });
  const plane = await planeWith(10_000);
  const planeUncached = await planeWith(0);

  const handler: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(BODY);
  };
  const expressHandler: RequestHandler = (_req, res) => {
    res.type('json').send(BODY);
  };
  const protect = authNode.authenticate(plane);
  const protectUncached = authNode.authenticate(planeUncached);
  const expressApp = (...middleware: RequestHandler[]) => {
    const app = express();
    app.get('/items', ...middleware, expressHandler);
    return app;
  };
  const peer = auth0Auth({ issuer, audience: AUDIENCE, jwksUri, tokenSigningAlg: 'RS256' });

  const contenders: Array<{
    name: string;
    role: Measurement['role'];
    group: 'node' | 'express';
    listener: RequestListener;
  }> = [
    { name: 'node:http, no auth', role: 'limit', group: 'node', listener: handler },
    {
      name: 'node:http + authplane',
      role: 'authplane',
      group: 'node',
      listener: protect(authNode.requireScopes('read')(handler)),
    },
    {
      name: 'node:http + authplane, token cache off',
      role: 'authplane',
      group: 'node',
      listener: protectUncached(authNode.requireScopes('read')(handler)),
    },
    { name: 'express, no auth', role: 'limit', group: 'express', listener: expressApp() },
    {
      name: 'express + express-oauth2-jwt-bearer',
      role: 'peer',
      group: 'express',
      listener: expressApp(peer, requiredScopes('read')),
    },
    {
      name: 'express + authplane',
      role: 'authplane',
      group: 'express',
      listener: expressApp(authExpress.authenticate(plane), authExpress.requireScopes('read')),
    },
    {
      name: 'express + authplane, token cache off',
      role: 'authplane',
      group: 'express',
      listener: expressApp(authExpress.authenticate(planeUncached), authExpress.requireScopes('read')),
    },
  ];

  // Three interleaved rounds, median of each contender (as benchmarks/harness.ts does): on a shared
  // machine a burst of load otherwise lands on whichever contender runs at that moment.
  const rounds = new Map<string, Measurement[]>();
  const servers = await Promise.all(
    contenders.map(async (c) => {
      const server = createServer(c.listener);
      return { contender: c, server, url: await listen(server) };
    }),
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const { contender: c, url } of servers) {
        const load = { url, connections: 10, pipelining: 1, workers: 1, requests };
        if (round === 0) await autocannon({ ...load, duration: 1 }); // warm-up: JIT, JWKS, keep-alive
        const r = await autocannon({ ...load, duration: seconds });
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${c.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const list = rounds.get(c.name) ?? [];
        list.push({
          name: c.name,
          role: c.role,
          opsPerSec: r.requests.average,
          p50Us: r.latency.p50 * 1000,
          p99Us: r.latency.p99 * 1000,
          heapDeltaKb: 0,
        });
        rounds.set(c.name, list);
      }
    }
  } finally {
    await Promise.all(servers.map(({ server }) => close(server)));
    await plane.close();
    await planeUncached.close();
    await close(jwksServer);
  }
  const results = contenders.map((c) => {
    const sorted = [...(rounds.get(c.name) ?? [])].sort((x, y) => x.opsPerSec - y.opsPerSec);
    return { ...(sorted[Math.floor(sorted.length / 2)] as Measurement), group: c.group };
  });

  console.log(
    `\nHTTP, GET /items, 2000 clients' RS256 tokens in turn — autocannon, 10 connections, median of ${ROUNDS} rounds × ${seconds} s (heap Δ not measured)`,
  );
  report(
    'node:http (× limit = share of the unauthenticated route)',
    results.filter((r) => r.group === 'node'),
  );
  report(
    'Express 5 (× best peer = against express-oauth2-jwt-bearer)',
    results.filter((r) => r.group === 'express'),
  );
  const rps = (name: string) => results.find((r) => r.name === name)?.opsPerSec ?? Number.NaN;
  const cost = (name: string) => `${((1 - rps(name) / rps('node:http, no auth')) * 100).toFixed(1)}%`;
  const vsPeer = (name: string) => (rps(name) / rps('express + express-oauth2-jwt-bearer')).toFixed(2);
  console.log(
    `\nauth cost on node:http: ${cost('node:http + authplane')} of the unauthenticated throughput with the token cache, ${cost('node:http + authplane, token cache off')} with every token verified (aim ≤ 20%)`,
  );
  console.log(
    `authplane on Express vs express-oauth2-jwt-bearer: ${vsPeer('express + authplane')}× with the token cache, ${vsPeer('express + authplane, token cache off')}× with every token verified (aim ≥ 1.2×)`,
  );
}

async function listen(server: Server): Promise<string> {
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await benchHttp(Number(process.env.BENCH_MS ?? 2000));
