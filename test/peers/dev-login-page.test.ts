// The dev issuer's login page in a real browser (Chromium through playwright-core), and login_hint
// through the token manager. The scripted user agent (fetch, no text/html) keeps the headless path.
import { type DevIssuer, startDevIssuer } from 'authplane/dev';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStorage } from '../../src/client/index';
import { managerFor } from '../client/helpers';
import { hasChromium as chromiumInstalled, launchChromium } from './chromium';
import { CookieJar, completeBrowserLogin } from './user-agent';

// Installed by .ci/run; on a machine without it the browser half says why it was skipped.
const hasChromium = chromiumInstalled();

let dev: DevIssuer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dev = await startDevIssuer();
  if (hasChromium) browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
});

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'dev issuer: the login page in Chromium'
    : 'dev issuer: the login page in Chromium (skipped: /usr/bin/chromium missing; apt-get install -y chromium)',
  () => {
    beforeEach(async () => {
      // A fresh context per test: no issuer session cookie carried over.
      page = await (await browser.newContext()).newPage();
    });

    afterEach(async () => {
      await page.context().close();
    });

    it('lists every seeded user with org and roles, styled, and signs in as the one clicked (bob)', async () => {
      const tokens = managerFor(dev, createMemoryStorage());
      let shown: (() => void) | undefined;
      const pageShown = new Promise<void>((resolve) => {
        shown = resolve;
      });
      const login = tokens.login({
        flow: 'browser',
        open: async (url) => {
          await page.goto(url);
          shown?.();
        },
      });
      await pageShown;

      expect(await page.title()).toContain('Sign in');
      const buttons = page.locator('button.user');
      expect(await buttons.count()).toBe(3);
      const rows = await buttons.allInnerTexts();
      expect(rows[0]).toMatch(/Alice Admin[\s\S]*alice@acme\.test[\s\S]*org_acme · admin/);
      expect(rows[1]).toMatch(/Bob Member[\s\S]*bob@acme\.test[\s\S]*org_acme · member/);
      expect(rows[2]).toMatch(/Carol Admin[\s\S]*carol@globex\.test[\s\S]*org_globex · admin/);
      expect(await page.locator('.banner').innerText()).toMatch(/DEVELOPMENT ONLY/);
      // The stylesheet applies (the page's CSP allows exactly its inline style).
      const radius = await page.locator('main').evaluate((el) => getComputedStyle(el).borderTopLeftRadius);
      expect(radius).toBe('12px');

      await page.locator('button[data-user="bob"]').click();
      const status = await login;
      expect(status.user).toMatchObject({ subject: 'bob', orgId: 'org_acme' });
    }, 60_000);

    it('loginHint: carol goes straight through the token manager flow, no page and no URL editing', async () => {
      const tokens = managerFor(dev, createMemoryStorage(), { loginHint: 'carol' });
      const seen: string[] = [];
      page.on('request', (r) => {
        seen.push(r.url());
      });
      const status = await tokens.login({
        flow: 'browser',
        open: (url) => page.goto(url).then(() => undefined),
      });
      expect(status.user).toMatchObject({
        subject: 'carol',
        email: 'carol@globex.test',
        orgId: 'org_globex',
      });
      expect(seen.some((u) => u.includes('login_hint=carol'))).toBe(true);
      const access = await tokens.getAccessToken();
      const claims = JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      expect(claims).toMatchObject({ sub: 'carol', org_id: 'org_globex', roles: ['admin'] });
    }, 60_000);

    it('an unknown login_hint ends the login with access_denied, not the first user', async () => {
      const tokens = managerFor(dev, createMemoryStorage(), { loginHint: 'mallory' });
      await expect(
        tokens.login({
          flow: 'browser',
          open: (url) => page.goto(url).then(() => undefined),
          timeoutMs: 15_000,
        }),
      ).rejects.toMatchObject({ code: 'login_failed' });
    }, 60_000);
  },
);

describe('dev issuer: the headless path is unchanged', () => {
  it('a script (no text/html in Accept) still signs in as the first user without a page', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const status = await tokens.login({
      flow: 'browser',
      open: async (url) => {
        const callback = await completeBrowserLogin(url, { jar: new CookieJar() });
        await fetch(callback).then((r) => r.text());
      },
    });
    expect(status.user).toMatchObject({ subject: 'alice' });
  });

  it('escapes user fields in the page', async () => {
    const other = await startDevIssuer({
      users: [{ id: 'x', email: '<img src=x onerror=alert(1)>@t', name: '<script>', orgId: null, roles: [] }],
    });
    try {
      const tokens = managerFor(other, createMemoryStorage());
      let html = '';
      const login = tokens.login({
        flow: 'browser',
        timeoutMs: 5000,
        open: async (url) => {
          const start = new URL(url);
          const jar = new CookieJar();
          let res = await fetch(start, { redirect: 'manual' });
          jar.store(start, res);
          const next = new URL(res.headers.get('location') ?? '', start);
          res = await fetch(next, { headers: { accept: 'text/html', cookie: jar.header(next) ?? '' } });
          html = await res.text();
        },
      });
      await expect(login).rejects.toBeDefined();
      expect(html).toContain('&lt;script&gt;');
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img');
    } finally {
      await other.stop();
    }
  });
});

describe('token manager: loginHint in the device flow', () => {
  it('is passed with the device authorization: the approving user agent makes no choice and gets bob', async () => {
    const { approveDeviceCode } = await import('./user-agent');
    const tokens = managerFor(dev, createMemoryStorage(), { loginHint: 'bob' });
    const status = await tokens.login({
      flow: 'device',
      onCode: (prompt) => {
        void approveDeviceCode(prompt.verificationUriComplete as string);
      },
    });
    expect(status.user).toMatchObject({ subject: 'bob' });
  }, 60_000);
});

describe('token manager: loginHint is validated', () => {
  it.each([[''], ['a\nb'], ['x'.repeat(300)], [42]])('refuses %j with a ConfigError', (hint) => {
    expect(() => managerFor(dev, createMemoryStorage(), { loginHint: hint as string })).toThrow(/loginHint/);
  });
});
