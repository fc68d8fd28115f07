// Rollback under load: concurrent requests over real HTTP on loopback while the OpenFeature flag flips
// org_acme between `dual` and `target` every 25 ms. Every decision is checked exactly against the modes
// that were in force while its request was in flight: zero valid refused, zero invalid accepted.
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHttp } from '../../src/core/response';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { importLinks, type MigrationPlane } from '../../src/migration/index';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';
import { legacyConfig, legacyToken, linksCsv, targetConfig, targetUserToken } from './migration-fixtures';

const FLAG = 'authplane-migration-mode';
const DOMAIN = 'migration-load';
const DURATION_MS = Number(process.env.MIGRATION_LOAD_MS ?? 4000);
const CONCURRENCY = 24;

type Flip = 'dual' | 'target';
const flagConfig = (acme: Flip) => ({
  [FLAG]: {
    variants: { legacy: 'legacy', dual: 'dual', target: 'target' },
    defaultVariant: 'target',
    disabled: false,
    contextEvaluator: (ctx: { targetingKey?: string }) =>
      ctx.targetingKey === 'org_acme' ? acme : ctx.targetingKey === 'org_globex' ? 'dual' : 'target',
  },
});

// What each token must get: always accepted (valid under both flipped modes, or in a tenant not flipped),
// never accepted (invalid under both), or accepted exactly when `dual` was in force.
type Expectation =
  | { kind: 'always'; subject: string }
  | { kind: 'never' }
  | { kind: 'dual-only'; subject: string };

let dev: DevIssuer;
let plane: MigrationPlane;
let server: Server;
let port: number;
const flagProvider = new InMemoryProvider(flagConfig('dual'));
const cases: Array<{ name: string; token: string; expect: Expectation }> = [];

beforeAll(async () => {
  dev = await startDevIssuer();
  await OpenFeature.setProviderAndWait(DOMAIN, flagProvider);
  const links = createMemoryIdentityLinkStore();
  await importLinks(links, linksCsv(), { format: 'csv' });
  plane = await createIdentityPlane({
    provider: 'migration',
    legacy: legacyConfig,
    target: targetConfig(dev),
    modeFlag: { client: OpenFeature.getClient(DOMAIN) },
    links: { store: links },
  });
  const aliceTarget = await targetUserToken(dev, 'alice');
  const carolTarget = await targetUserToken(dev, 'carol');
  const tampered = `${aliceTarget.slice(0, -4)}${aliceTarget.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  cases.push(
    { name: 'alice target (acme)', token: aliceTarget, expect: { kind: 'always', subject: 'usr_alice' } },
    {
      name: 'carol target (globex, dual)',
      token: carolTarget,
      expect: { kind: 'always', subject: 'usr_carol' },
    },
    {
      name: 'carol legacy (globex, dual)',
      token: await legacyToken('carol'),
      expect: { kind: 'always', subject: 'usr_carol' },
    },
    {
      name: 'alice legacy (acme)',
      token: await legacyToken('alice'),
      expect: { kind: 'dual-only', subject: 'usr_alice' },
    },
    {
      name: 'bob legacy (acme)',
      token: await legacyToken('bob'),
      expect: { kind: 'dual-only', subject: 'usr_bob' },
    },
    {
      name: 'expired legacy',
      token: await legacyToken('alice', { expiresInSec: -120 }),
      expect: { kind: 'never' },
    },
    {
      name: 'forged legacy',
      token: await legacyToken('alice', { secret: 'f'.repeat(40) }),
      expect: { kind: 'never' },
    },
    { name: 'tampered target', token: tampered, expect: { kind: 'never' } },
  );
  server = createServer(async (req, res) => {
    const result = await plane.authenticate(req);
    if (result.ok) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ subject: result.principal.subject }));
    } else {
      const http = toHttp(result.failure);
      res.writeHead(http.status, http.headers).end(http.body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
}, 30_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await plane?.close();
  await OpenFeature.clearProviders();
  await dev?.stop();
});

function get(agent: Agent, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/items', agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('rollback under load (real HTTP, flag flipping dual <-> target)', () => {
  it('never refuses a valid request and never accepts an invalid one while the flag flips', async () => {
    // Flip log: the mode set at each instant (performance.now()). The flag client, the server and the
    // clients share one thread, so a flip is atomic at its timestamp.
    const flips: Array<{ at: number; mode: Flip }> = [{ at: performance.now(), mode: 'dual' }];
    let current: Flip = 'dual';
    const flipper = setInterval(() => {
      current = current === 'dual' ? 'target' : 'dual';
      flagProvider.putConfiguration(flagConfig(current));
      flips.push({ at: performance.now(), mode: current });
    }, 25);

    const modesDuring = (t0: number, t1: number): Set<Flip> => {
      const modes = new Set<Flip>();
      let atStart: Flip = 'dual';
      for (const f of flips) {
        if (f.at <= t0) atStart = f.mode;
        else if (f.at <= t1) modes.add(f.mode);
      }
      modes.add(atStart);
      return modes;
    };

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const violations: string[] = [];
    const counts = { total: 0, accepted: 0, refused: 0, dualOnlyAccepted: 0, dualOnlyRefused: 0 };
    const started = performance.now();
    const deadline = started + DURATION_MS;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const c = cases[next++ % cases.length] as (typeof cases)[number];
          const t0 = performance.now();
          const { status, body } = await get(agent, c.token);
          const t1 = performance.now();
          counts.total++;
          const accepted = status === 200;
          if (accepted) counts.accepted++;
          else counts.refused++;
          const e = c.expect;
          if (e.kind === 'always') {
            if (!accepted || JSON.parse(body).subject !== e.subject) violations.push(`${c.name}: ${status}`);
          } else if (e.kind === 'never') {
            if (accepted || status !== 401) violations.push(`${c.name}: ${status}`);
          } else {
            const modes = modesDuring(t0, t1);
            if (accepted) counts.dualOnlyAccepted++;
            else counts.dualOnlyRefused++;
            const ok = accepted
              ? modes.has('dual') && JSON.parse(body).subject === e.subject
              : modes.has('target') && JSON.parse(body).reason === 'provider_disabled';
            if (!ok) violations.push(`${c.name}: ${status} during ${[...modes].join('/')}`);
          }
        }
      }),
    );
    const elapsedSec = (performance.now() - started) / 1000;
    clearInterval(flipper);
    agent.destroy();
    const rate = Math.round(counts.total / elapsedSec);
    console.log(
      `[migration load] ${counts.total} requests in ${elapsedSec.toFixed(2)} s = ${rate} req/s over HTTP, ` +
        `${flips.length - 1} flag flips, dual-only accepted ${counts.dualOnlyAccepted} / refused ${counts.dualOnlyRefused}, ` +
        `violations ${violations.length}`,
    );
    expect(violations.slice(0, 10)).toEqual([]);
    // Both outcomes of the mode-dependent tokens were really exercised: the flips took effect under load.
    expect(counts.dualOnlyAccepted).toBeGreaterThan(0);
    expect(counts.dualOnlyRefused).toBeGreaterThan(0);
    expect(flips.length).toBeGreaterThan(DURATION_MS / 25 / 2);
    expect(counts.total).toBeGreaterThan(cases.length * 10);
  }, 30_000);
});
