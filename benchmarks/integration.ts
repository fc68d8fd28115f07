// IntegrationPlane figures: cached getToken latency/throughput (first-party adapter, memory store)
// beside a bare Map lookup (the physical limit of an in-process cache), and the refresh herd: N
// concurrent callers at expiry, one token-endpoint request. The token endpoint is a minimal loopback
// OAuth server so the numbers measure authplane, not an authorization server.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIntegrationPlane } from '../src/integration/index';
import { createMemoryConnectionStore } from '../src/stores/memory';
import { type Measurement, measure, report } from './harness';

async function startTokenEndpoint(): Promise<{ url: string; requests: () => number; close(): void }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: randomBytes(24).toString('base64url'),
          refresh_token: randomBytes(24).toString('base64url'),
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'read',
        }),
      );
    });
  });
  // Keep idle sockets open across the bench's pauses: with node's 5 s default the server may close a
  // socket just as the client reuses it (ECONNRESET), and a refresh POST is rightly never retried.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests: () => requests,
    close: () => server.close(),
  };
}

/**
 * Runs the IntegrationPlane benchmarks and prints their tables.
 *
 * @example
 * ```ts
 * await benchIntegration(1500);
 * ```
 */
export async function benchIntegration(durationMs: number, herdSize = 200): Promise<void> {
  const endpoint = await startTokenEndpoint();
  let offset = 0;
  const redirectUri = 'http://127.0.0.1:1/callback';
  const plane = await createIntegrationPlane({
    store: createMemoryConnectionStore(),
    encryption: { currentKeyId: 'k1', keys: { k1: randomBytes(32).toString('base64') } },
    catalog: {
      bench: {
        clientId: 'bench',
        clientSecret: 'bench-secret',
        authorizationEndpoint: 'http://127.0.0.1:1/authorize',
        tokenEndpoint: endpoint.url,
      },
    },
    clock: () => Date.now() + offset,
  });
  try {
    const connections = 100;
    for (let i = 0; i < connections; i++) {
      const { state } = await plane.connect.start({
        integration: 'bench',
        orgId: `org_${i}`,
        userId: 'u',
        redirectUri,
      });
      await plane.connect.finish(`${redirectUri}?code=c${i}&state=${state}`, {
        orgId: `org_${i}`,
        userId: 'u',
      });
    }
    const refs = Array.from({ length: connections }, (_, i) => ({
      integration: 'bench',
      connectionId: `org_${i}`,
      orgId: `org_${i}`,
    }));
    const map = new Map(refs.map((r) => [`${r.integration}\u0000${r.connectionId}`, r]));
    const rows: Measurement[] = [
      await measure(
        {
          name: 'Map.get (in-process cache limit)',
          role: 'limit',
          run: (i) => map.get(`bench\u0000org_${i % connections}`),
        },
        durationMs,
      ),
      await measure(
        {
          name: 'getToken, cached (first-party)',
          role: 'authplane',
          run: (i) => plane.getToken(refs[i % connections] as (typeof refs)[number]),
        },
        durationMs,
      ),
    ];
    report('IntegrationPlane: cached getToken', rows);

    console.log(
      `\nIntegrationPlane: refresh herd (${herdSize} concurrent callers at expiry, per connection)`,
    );
    console.log(
      `${'round'.padEnd(10)}${'wall ms'.padStart(10)}${'token requests'.padStart(16)}${'distinct tokens'.padStart(17)}`,
    );
    for (let round = 1; round <= 5; round++) {
      offset += 2 * 3600_000;
      const ref = refs[round] as (typeof refs)[number];
      const before = endpoint.requests();
      const started = performance.now();
      const tokens = await Promise.all(Array.from({ length: herdSize }, () => plane.getToken(ref)));
      const wall = performance.now() - started;
      const distinct = new Set(tokens.map((t) => t.accessToken)).size;
      console.log(
        `${String(round).padEnd(10)}${wall.toFixed(2).padStart(10)}${String(endpoint.requests() - before).padStart(16)}${String(distinct).padStart(17)}`,
      );
    }
  } finally {
    await plane.close();
    endpoint.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  await benchIntegration(Number(process.env.BENCH_MS ?? 1500));
