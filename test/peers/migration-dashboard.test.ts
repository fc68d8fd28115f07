// The dashboard in a real browser (Debian's chromium driven by playwright-core): the table and a uPlot
// chart render, a mode changed from the page reaches a second plane instance through PostgreSQL
// LISTEN/NOTIFY, and the change endpoints refuse cross-site and token-less requests.
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { type MigrationDashboard, startMigrationDashboard } from '../../src/migration/control/dashboard';
import { EMPTY_SHADOW_COUNTS } from '../../src/migration/control/store';
import { importLinks, type MigrationPlane } from '../../src/migration/index';
import type { InvalidationChannel } from '../../src/stores/contracts';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';
import {
  createPostgresInvalidationChannel,
  createPostgresStores,
  type PostgresStores,
} from '../../src/stores/postgres';
import { type AuditEvent, createAuditor } from '../../src/telemetry/audit';
import { sleep } from '../contract/fixture';
import { hasChromium as chromiumInstalled, launchChromium } from './chromium';
import { legacyConfig, legacyToken, linksCsv, requestWith, targetConfig } from './migration-fixtures';
import { DATABASE_URL, dropSchema, testSchema } from './pg-helpers';

const ready = Boolean(DATABASE_URL) && chromiumInstalled();

describe.skipIf(!ready)(
  ready
    ? 'migration dashboard in chromium'
    : 'migration dashboard (skipped: needs DATABASE_URL and /usr/bin/chromium)',
  () => {
    const schema = testSchema('dash');
    const notifyChannel = `${schema}_inv`;
    let dev: DevIssuer;
    let ui: PostgresStores;
    let fleet: PostgresStores;
    let channel: InvalidationChannel;
    let instance: MigrationPlane;
    let dashboard: MigrationDashboard;
    let browser: Browser;
    const audits: AuditEvent[] = [];

    beforeAll(async () => {
      dev = await startDevIssuer();
      ui = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel,
        poolConfig: { max: 3 },
      });
      fleet = await createPostgresStores({
        connectionString: DATABASE_URL,
        schema,
        notifyChannel,
        poolConfig: { max: 3 },
      });
      channel = await createPostgresInvalidationChannel({ pool: fleet.pool, channel: notifyChannel });
      const store = ui.migrationControl;
      await store.change({
        target: { scope: 'org', orgId: 'org_acme' },
        value: { mode: 'shadow' },
        actor: 'ops',
        reason: 'start shadow',
      });
      await store.change({
        target: { scope: 'org', orgId: 'org_globex' },
        value: { mode: 'legacy' },
        actor: 'ops',
      });
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      const buckets = [];
      for (let i = 30; i >= 0; i--) {
        const start = now - i * 60_000;
        buckets.push({
          start,
          tenant: 'org_acme',
          counts: {
            ...EMPTY_SHADOW_COUNTS,
            comparisons: 40 + (i % 7),
            agreed: 38 + (i % 7),
            scopes: 2,
            legacy: 50,
            refusedTarget: i % 3,
          },
        });
        buckets.push({
          start,
          tenant: 'org_globex',
          counts: { ...EMPTY_SHADOW_COUNTS, legacy: 20, refusedTarget: i % 2 },
        });
      }
      await store.recordShadow(buckets);
      const links = createMemoryIdentityLinkStore();
      await importLinks(links, linksCsv(), { format: 'csv' });
      instance = (await createIdentityPlane({
        provider: 'migration',
        legacy: legacyConfig,
        target: targetConfig(dev),
        links: { store: links },
        control: { store: fleet.migrationControl, channel, pollSec: 60 },
      })) as MigrationPlane;
      dashboard = await startMigrationDashboard({
        store,
        actor: 'cli:tester',
        auditor: createAuditor((e) => {
          audits.push(e);
        }),
        storeDescription: 'postgres://127.0.0.1:5432/test',
      });
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await instance?.close();
      await channel?.close();
      await fleet?.close();
      await ui?.close();
      await dev?.stop();
      await dropSchema(schema);
    });

    it('renders tenants and charts, and a mode changed on the page reaches another instance within a second', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
      await page.goto(dashboard.loginUrl);
      expect(new URL(page.url()).search).toBe(''); // the token left the address bar
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
      const rows = await page.$$eval('#tenants tbody tr', (trs) =>
        trs.map((tr) => tr.getAttribute('data-tenant')),
      );
      expect(rows).toEqual(['org_acme', 'org_globex']);
      expect(await page.textContent('#tenants tbody tr[data-tenant="org_acme"] td.mode')).toBe('shadow');
      // uPlot drew a canvas with the data; its legend lists both series.
      const canvas = await page.$eval('#chart-divergence canvas', (c) => ({
        w: (c as HTMLCanvasElement).width,
        h: (c as HTMLCanvasElement).height,
      }));
      expect(canvas.w).toBeGreaterThan(200);
      expect(canvas.h).toBeGreaterThan(100);
      expect(await page.textContent('#chart-divergence .u-legend')).toContain('diverged');
      // Tenant detail with its divergence kinds.
      await page.click('#tenants tr[data-tenant="org_acme"] td.tenant button');
      await page.waitForSelector('#detail:not([hidden])');
      expect(await page.textContent('#detail-classes')).toContain('scopes');
      expect(await page.textContent('#detail-history')).toContain('start shadow');
      if (process.env.UPDATE_SCREENSHOT === '1')
        await page.screenshot({ path: join(process.cwd(), 'docs', 'dashboard.png'), type: 'png' });

      const legacy = await legacyToken('alice');
      expect((await instance.authenticate(requestWith(legacy))).ok).toBe(true);
      await page.selectOption('select[data-tenant="org_acme"]', 'target');
      await page.fill('#tenants tr[data-tenant="org_acme"] input', 'cut over');
      const clicked = Date.now();
      await page.click('#tenants tr[data-tenant="org_acme"] button.apply');
      while ((await instance.migration.modeOf('org_acme')).mode !== 'target') {
        if (Date.now() - clicked > 3_000)
          throw new Error('the other instance did not apply the change in time');
        await sleep(10);
      }
      expect(Date.now() - clicked).toBeLessThan(3_000);
      const after = await instance.authenticate(requestWith(legacy));
      expect(!after.ok && after.failure.reason).toBe('provider_disabled');
      await page.waitForFunction(() => document.querySelector('#message')?.textContent?.includes('target'));
      const audit = audits.find((e) => e.action === 'migration.mode.set' && e.outcome === 'succeeded');
      expect(audit).toMatchObject({
        type: 'privileged',
        orgId: 'org_acme',
        details: {
          via: 'dashboard',
          mode: 'target',
          previous: 'shadow',
          actor: 'cli:tester',
          reason: 'cut over',
        },
      });
      const [last] = await ui.migrationControl.history({ limit: 1 });
      expect(last).toMatchObject({ actor: 'cli:tester', reason: 'cut over', value: { mode: 'target' } });
      await page.close();
    }, 30_000);

    it('refuses changes without the session, the CSRF token, the same origin or JSON, and foreign hosts', async () => {
      const base = dashboard.url;
      const host = new URL(base).host;
      expect((await fetch(`${base}?token=wrong`, { redirect: 'manual' })).status).toBe(403);
      expect((await fetch(`${base}api/state`)).status).toBe(401);
      const login = await fetch(dashboard.loginUrl, { redirect: 'manual' });
      expect(login.status).toBe(303);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      const cookie = setCookie.split(';')[0] as string;
      const page = await (await fetch(base, { headers: { cookie } })).text();
      const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] as string;
      expect(csrf).toBeTruthy();
      const version = await ui.migrationControl.version();
      const post = (
        headers: Record<string, string>,
        body = JSON.stringify({ org: 'org_globex', mode: 'target' }),
      ) =>
        fetch(`${base}api/mode`, {
          method: 'POST',
          headers: {
            cookie,
            'content-type': 'application/json',
            origin: `http://${host}`,
            'x-csrf-token': csrf,
            ...headers,
          },
          body,
        });
      expect((await post({ 'x-csrf-token': 'nope' })).status).toBe(403);
      expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
      expect((await post({ cookie: 'ap_dash=forgedforgedforgedforged' })).status).toBe(401);
      expect(
        (await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'org=org_globex&mode=target'))
          .status,
      ).toBe(415);
      expect((await post({}, JSON.stringify({ org: 'org_globex', mode: 'everything' }))).status).toBe(400);
      expect(
        (await post({}, JSON.stringify({ org: 'x', mode: 'dual', reason: 'y'.repeat(5000) }))).status,
      ).toBe(413);
      expect((await post({}, JSON.stringify({ org: 'x', mode: 'dual', reason: 'line\nbreak' }))).status).toBe(
        400,
      );
      // A rebound DNS name reaches the same socket with a foreign Host: refused.
      const foreign = await new Promise<number>((resolve, reject) => {
        const req = request(`${base}api/state`, { headers: { cookie, host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(foreign).toBe(421);
      expect(await ui.migrationControl.version()).toBe(version);
      expect((await post({})).status).toBe(200);
      expect((await ui.migrationControl.read()).orgs.org_globex?.value.mode).toBe('target');
    });
  },
);
