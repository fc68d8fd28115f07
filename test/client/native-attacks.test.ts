// RFC 9700 (OAuth 2.0 Security BCP) attacks that apply to a native client with a loopback redirect,
// played against the real dev issuer.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { DevIssuer } from 'authplane/dev';
import { startDevIssuer } from 'authplane/dev';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createMemoryStorage, type TokenManager } from '../../src/client/index';
import { completeBrowserLogin } from '../peers/user-agent';
import { managerFor } from './helpers';

let dev: DevIssuer;
beforeAll(async () => {
  dev = await startDevIssuer();
});
afterAll(async () => {
  await dev?.stop();
});

/** Runs a browser login whose `open` is `attack`; resolves with the error it ended with. */
async function loginError(tokens: TokenManager, attack: (authorizationUrl: URL) => Promise<void>) {
  let attacking: Promise<void> = Promise.resolve();
  const err = await tokens
    .login({
      flow: 'browser',
      timeoutMs: 5000,
      open: (url) => {
        attacking = attack(new URL(url));
        return attacking;
      },
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  await attacking; // the login may end before the attacker's script does
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

function redirectOf(authorizationUrl: URL): URL {
  return new URL(authorizationUrl.searchParams.get('redirect_uri') as string);
}

/** A real, valid code for a login the attacker started themselves (their own PKCE and state). */
async function attackersCallback(victimAuthorizationUrl: URL, mutate: (u: URL) => void): Promise<URL> {
  const url = new URL(victimAuthorizationUrl);
  url.searchParams.set('state', 'attacker-state');
  mutate(url);
  return new URL(await completeBrowserLogin(url.href, { login: 'carol' }));
}

function refused(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('browser login: what the authorization request carries', () => {
  it('always sends PKCE S256, a random state, and a 127.0.0.1 redirect on an ephemeral port', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const seen: URL[] = [];
    await loginError(tokens, async (url) => {
      seen.push(url);
      const callback = new URL(redirectOf(url));
      callback.searchParams.set('error', 'access_denied');
      callback.searchParams.set('state', url.searchParams.get('state') as string);
      await fetch(callback);
    });
    const [url] = seen as [URL];
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('resource')).toBe(dev.audience);
    const redirect = redirectOf(url);
    expect(redirect.hostname).toBe('127.0.0.1');
    expect(redirect.pathname).toBe('/callback');
    expect(Number(redirect.port)).toBeGreaterThan(1023);
  });

  it('PKCE missing: the issuer refuses an authorization request without code_challenge', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const before = dev.stats.tokenRequests;
    const err = await loginError(tokens, async (url) => {
      url.searchParams.delete('code_challenge');
      url.searchParams.delete('code_challenge_method');
      await fetch(await completeBrowserLogin(url.href, { login: 'alice' }));
    });
    expect(err.code).toBe('login_failed');
    expect(err.message).toMatch(/invalid_request/);
    expect(dev.stats.tokenRequests).toBe(before);
  });
});

describe('browser login: attacks on the loopback listener', () => {
  it('state mismatch: a callback with another state gets an error page and is ignored; the real one still lands', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const before = dev.stats.tokenRequests;
    const pages: string[] = [];
    await tokens.login({
      flow: 'browser',
      timeoutMs: 10_000,
      open: async (authorizationUrl) => {
        const url = new URL(authorizationUrl);
        // Any local process can reach the listener: the attacker's own valid code, then junk.
        const forged = await fetch(await attackersCallback(url, () => undefined));
        pages.push(`${forged.status} ${await forged.text()}`);
        const junk = await fetch(`${redirectOf(url).href}?code=x&state=nope`);
        pages.push(`${junk.status} ${await junk.text()}`);
        // The user's own browser then completes the login in progress.
        await fetch(await completeBrowserLogin(authorizationUrl, { login: 'alice' }));
      },
    });
    expect(pages).toHaveLength(2);
    for (const page of pages) expect(page).toMatch(/^400 .*wrong state/s);
    // Only the genuine code was redeemed; the attacker's never was.
    expect(dev.stats.tokenRequests).toBe(before + 1);
    expect((await tokens.status()).loggedIn).toBe(true);
  });

  it('code injection: a stolen code delivered without the state is ignored; with no right callback the login times out', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const before = dev.stats.tokenRequests;
    let page = '';
    const err = await tokens
      .login({
        flow: 'browser',
        timeoutMs: 1500,
        open: async (url) => {
          const stolen = await attackersCallback(new URL(url), () => undefined);
          stolen.searchParams.delete('state');
          const res = await fetch(stolen);
          page = `${res.status} ${await res.text()}`;
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as ClientError,
      );
    expect(err).toBeInstanceOf(ClientError);
    expect(err?.code).toBe('login_timeout');
    expect(page).toMatch(/^400 .*no state/s);
    expect(dev.stats.tokenRequests).toBe(before);
  });

  it('code injection with the right state but another login’s code: PKCE makes the issuer refuse it', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const err = await loginError(tokens, async (url) => {
      const state = url.searchParams.get('state') as string;
      // The attacker's code was bound to the attacker's code_challenge, not ours.
      const stolen = await attackersCallback(url, (u) =>
        u.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
      );
      stolen.searchParams.set('state', state);
      await fetch(stolen);
    });
    expect(err.code).toBe('login_failed');
    expect(err.message).toMatch(/invalid_grant/);
  });

  it('issuer mismatch (RFC 9207): a callback whose iss is another issuer is refused', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const err = await loginError(tokens, async (url) => {
      const callback = new URL(await completeBrowserLogin(url.href, { login: 'alice' }));
      expect(callback.searchParams.get('iss')).toBe(dev.issuer);
      callback.searchParams.set('iss', 'https://evil.example');
      await fetch(callback);
    });
    expect(err.code).toBe('login_failed');
    expect(err.message).toMatch(/rejected/);
  });

  it('an error response ends the login with the error code, sanitized', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const err = await loginError(tokens, async (url) => {
      const callback = new URL(await completeBrowserLogin(url.href, { login: 'mallory' }));
      expect(callback.searchParams.get('error')).toBe('access_denied');
      callback.searchParams.set('error_description', 'no such\u001b[31m user');
      await fetch(callback);
    });
    expect(err.message).toMatch(/access_denied: no such\[31m user/);
  });

  it('ignores other paths (404) and foreign Host headers (DNS rebinding), then takes the real callback', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const statuses: number[] = [];
    const status = await tokens.login({
      flow: 'browser',
      timeoutMs: 5000,
      open: async (raw) => {
        const redirect = redirectOf(new URL(raw));
        const origin = `http://127.0.0.1:${redirect.port}`;
        statuses.push((await fetch(`${origin}/favicon.ico`)).status);
        statuses.push((await fetch(`${origin}/callback/extra?code=x&state=y`)).status);
        statuses.push((await fetch(`${origin}/callback`, { method: 'POST' })).status);
        const rebinding = await new Promise<number>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: Number(redirect.port) }, () =>
            socket.write(
              `GET /callback?code=x&state=y HTTP/1.1\r\nHost: evil.example:${redirect.port}\r\nConnection: close\r\n\r\n`,
            ),
          );
          let data = '';
          socket.on('data', (d) => {
            data += d.toString();
          });
          socket.on('close', () => resolve(Number(data.split(' ')[1])));
        });
        statuses.push(rebinding);
        await fetch(await completeBrowserLogin(raw, { login: 'bob' }));
      },
    });
    expect(statuses).toEqual([404, 404, 404, 400]);
    expect(status.user.subject).toBe('bob');
  });

  it('binds 127.0.0.1 only: other addresses of this machine refuse the connection', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal && i.family === 'IPv4')
      .map((i) => i?.address as string);
    const results: Record<string, string> = {};
    await loginError(tokens, async (url) => {
      const port = Number(redirectOf(url).port);
      // 127.0.0.2 is loopback too on Linux: a listener on 0.0.0.0 or 127.0.0.0/8 would accept it.
      for (const host of ['127.0.0.2', ...others]) results[host] = await refused(host, port);
      results['127.0.0.1'] = await refused('127.0.0.1', port);
      await fetch(`http://127.0.0.1:${port}/callback`); // end the login
    });
    expect(results['127.0.0.1']).toBe('connected');
    for (const host of ['127.0.0.2', ...others]) expect(results[host], host).not.toBe('connected');
  });

  it('times out with login_timeout and closes the listener', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    let port = 0;
    const err = await tokens
      .login({
        flow: 'browser',
        timeoutMs: 200,
        open: (url) => {
          port = Number(redirectOf(new URL(url)).port);
        },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'login_timeout' });
    expect(await refused('127.0.0.1', port)).toBe('ECONNREFUSED');
  });
});
