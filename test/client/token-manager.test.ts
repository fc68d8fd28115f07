import type { DevIssuer } from 'authplane/dev';
import { startDevIssuer } from 'authplane/dev';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientError,
  createEncryptedFileStorage,
  createMemoryStorage,
  createTokenManager,
  type SessionEndedEvent,
  type SessionStorage,
} from '../../src/client/index';
import { browserAs, managerFor, movableClock, quickLogin, tempDir } from './helpers';

let dev: DevIssuer;
let cli: oidc.Configuration;

beforeAll(async () => {
  dev = await startDevIssuer();
  cli = await oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
});
afterAll(async () => {
  await dev?.stop();
});

async function refreshTokenOf(storage: SessionStorage): Promise<string> {
  const session = await storage.read();
  if (!session?.refreshToken) throw new Error('no refresh token stored');
  return session.refreshToken;
}

describe('token manager: login flows end to end', () => {
  it('logs in through the browser (PKCE + loopback) and stores a refreshable session', async () => {
    const storage = createMemoryStorage();
    const tokens = managerFor(dev, storage);
    const status = await tokens.login({ flow: 'browser', open: browserAs('bob') });
    expect(status).toMatchObject({
      loggedIn: true,
      issuer: dev.issuer,
      user: { subject: 'bob', email: 'bob@acme.test', orgId: 'org_acme' },
      refreshable: true,
      accessTokenValid: true,
    });
    const at = await tokens.getAccessToken();
    expect(decodeJwt(at)).toMatchObject({ sub: 'bob', aud: dev.audience, iss: dev.issuer });
    expect(await tokens.status()).toEqual(status);
  });

  it('logs in with the device flow, showing the code through onCode', async () => {
    const storage = createMemoryStorage();
    const tokens = managerFor(dev, storage);
    const prompts: unknown[] = [];
    const { approveDeviceCode } = await import('../peers/user-agent');
    const status = await tokens.login({
      flow: 'device',
      onCode: (prompt) => {
        prompts.push(prompt);
        void approveDeviceCode(prompt.verificationUriComplete as string, { login: 'carol' });
      },
    });
    expect(prompts).toEqual([
      {
        userCode: expect.any(String),
        verificationUri: `${dev.issuer}/device`,
        verificationUriComplete: expect.stringContaining('user_code='),
        expiresIn: expect.any(Number),
      },
    ]);
    expect(status.user).toMatchObject({ subject: 'carol', orgId: 'org_globex' });
    expect(decodeJwt(await tokens.getAccessToken()).sub).toBe('carol');
  });

  it('ends the device flow with login_failed when the user is refused (access_denied)', async () => {
    const tokens = managerFor(dev, createMemoryStorage());
    const { approveDeviceCode } = await import('../peers/user-agent');
    const err = await tokens
      .login({
        flow: 'device',
        onCode: ({ verificationUriComplete }) => {
          void approveDeviceCode(verificationUriComplete as string, { login: 'mallory' }).catch(
            () => undefined,
          );
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'login_failed', message: expect.stringContaining('denied') });
    expect((await tokens.status()).loggedIn).toBe(false);
  });
});

describe('token manager: refresh', () => {
  it('refreshes before expiry with rotation, and the rotated-out token is never used again', async () => {
    const clock = movableClock();
    const storage = createMemoryStorage();
    const tokens = managerFor(dev, storage, { clock });
    await quickLogin(tokens, 'alice');
    const first = await tokens.getAccessToken();
    const rt1 = await refreshTokenOf(storage);
    expect(await tokens.getAccessToken()).toBe(first); // fresh: no refresh

    clock.advance(600 - 30); // inside the 60 s skew
    const before = dev.stats.tokenRequests;
    const second = await tokens.getAccessToken();
    expect(second).not.toBe(first);
    expect(dev.stats.tokenRequests).toBe(before + 1);
    const rt2 = await refreshTokenOf(storage);
    expect(rt2).not.toBe(rt1);

    clock.advance(600);
    const third = await tokens.getAccessToken();
    expect(third).not.toBe(second);
    expect(decodeJwt(third).sub).toBe('alice');
    expect(dev.stats.tokenRequests).toBe(before + 2);
  });

  it('single-flight: 100 concurrent getAccessToken at expiry make one refresh', async () => {
    const clock = movableClock();
    const { dir, cleanup } = await tempDir();
    try {
      const storage = createEncryptedFileStorage({ path: `${dir}/session` });
      const tokens = managerFor(dev, storage, { clock });
      await quickLogin(tokens);
      clock.advance(3600);
      const before = dev.stats.tokenRequests;
      const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getAccessToken()));
      expect(dev.stats.tokenRequests).toBe(before + 1);
      expect(new Set(results).size).toBe(1);
      // A second manager on the same file (another process, in effect) adopts the refreshed session.
      const other = managerFor(dev, storage, { clock });
      expect(await other.getAccessToken()).toBe(results[0]);
      expect(dev.stats.tokenRequests).toBe(before + 1);
    } finally {
      await cleanup();
    }
  });

  it('fetch injects the bearer token; on a 401 it refreshes once and retries once', async () => {
    const storage = createMemoryStorage();
    const seen: string[] = [];
    let reject = 1;
    const api: typeof fetch = async (input, init) => {
      const auth = new Headers(init?.headers).get('authorization') ?? '';
      seen.push(auth);
      if (reject-- > 0) return new Response('expired', { status: 401 });
      return Response.json({ ok: true, url: String(input) });
    };
    const tokens = managerFor(dev, storage);
    await quickLogin(tokens);
    const at = await tokens.getAccessToken();
    // The manager's fetch option also reaches the issuer: route only the API host to the fake.
    const routed = createTokenManager({
      issuer: dev.issuer,
      clientId: dev.clients.cli.clientId,
      allowInsecureRequests: true,
      storage,
      fetch: (input, init) =>
        (input instanceof Request ? input.url : String(input)).startsWith('https://api.test')
          ? api(input, init)
          : fetch(input, init),
    });
    const before = dev.stats.tokenRequests;
    const res = await routed.fetch('https://api.test/items', { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(`Bearer ${at}`);
    expect(seen[1]).toMatch(/^Bearer /);
    expect(seen[1]).not.toBe(seen[0]);
    expect(dev.stats.tokenRequests).toBe(before + 1);

    reject = 5; // a 401 that persists is returned after one retry, not looped on
    const still = await routed.fetch(new Request('https://api.test/items'));
    expect(still.status).toBe(401);
    expect(seen).toHaveLength(4);
  });
});

describe('token manager: the session ends', () => {
  it('server-side revocation: session_invalidated, the event fires, local state is cleared', async () => {
    const clock = movableClock();
    const { dir, cleanup } = await tempDir();
    try {
      const storage = createEncryptedFileStorage({ path: `${dir}/session` });
      const tokens = managerFor(dev, storage, { clock });
      const events: SessionEndedEvent[] = [];
      tokens.onSessionEnded((e) => events.push(e));
      await quickLogin(tokens);
      await tokens.getAccessToken();
      await oidc.tokenRevocation(cli, await refreshTokenOf(storage));

      clock.advance(3600);
      const err = await tokens.getAccessToken().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'session_invalidated' });
      expect((err as Error).message).not.toMatch(/eyJ/);
      expect(events).toEqual([{ reason: 'invalidated' }]);
      expect(await storage.read()).toBeNull();
      expect((await tokens.status()).loggedIn).toBe(false);
      await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'not_logged_in' });
      expect(events).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });

  it('logout revokes the refresh token at the issuer and deletes the session', async () => {
    const storage = createMemoryStorage();
    const tokens = managerFor(dev, storage);
    const events: SessionEndedEvent[] = [];
    tokens.onSessionEnded((e) => events.push(e));
    await quickLogin(tokens);
    const rt = await refreshTokenOf(storage);
    expect(await tokens.logout()).toEqual({ loggedOut: true, revoked: true });
    expect(events).toEqual([{ reason: 'logged_out' }]);
    expect(await storage.read()).toBeNull();
    await expect(oidc.refreshTokenGrant(cli, rt)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await tokens.logout()).toEqual({ loggedOut: false, revoked: false });
  });

  it('logout with the issuer down still deletes locally and reports the revocation failure', async () => {
    const other = await startDevIssuer();
    try {
      const storage = createMemoryStorage();
      const tokens = managerFor(other, storage, { timeoutMs: 2000 });
      await quickLogin(tokens);
      // A new manager: no discovery cached, so the outage hits discovery too.
      const fresh = managerFor(other, storage, { timeoutMs: 2000 });
      await other.setOnline(false);
      const result = await fresh.logout();
      expect(result).toMatchObject({
        loggedOut: true,
        revoked: false,
        revocationError: { code: 'provider_unavailable' },
      });
      expect(await storage.read()).toBeNull();
    } finally {
      await other.stop();
    }
  });

  it('keeps serving a still-valid token inside the skew window while the issuer is down', async () => {
    const other = await startDevIssuer();
    try {
      const clock = movableClock();
      const tokens = managerFor(other, createMemoryStorage(), { clock, timeoutMs: 2000 });
      await quickLogin(tokens);
      const at = await tokens.getAccessToken();
      await other.setOnline(false);
      clock.advance(600 - 20);
      expect(await tokens.getAccessToken()).toBe(at);
      clock.advance(60); // now expired: nothing valid to hand out
      await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'provider_unavailable' });
      await other.setOnline(true);
      expect(await tokens.getAccessToken()).not.toBe(at);
    } finally {
      await other.stop();
    }
  });
});

describe('token manager: configuration', () => {
  const base = () => ({ clientId: 'c', storage: createMemoryStorage() });
  it('refuses plain http except on loopback with allowInsecureRequests', () => {
    expect(() => createTokenManager({ ...base(), issuer: 'http://127.0.0.1:4455' })).toThrow(
      /allowInsecureRequests/,
    );
    expect(() =>
      createTokenManager({ ...base(), issuer: 'http://id.example.com', allowInsecureRequests: true }),
    ).toThrow(/only allowed for a loopback issuer/);
    expect(() => createTokenManager({ ...base(), issuer: 'http://id.example.com' })).toThrow(/must be https/);
    expect(() =>
      createTokenManager({ ...base(), issuer: 'http://127.0.0.1:4455', allowInsecureRequests: true }),
    ).not.toThrow();
  });

  it('refuses a redirect URI that is not http://127.0.0.1 (RFC 8252 loopback)', () => {
    for (const redirectUri of [
      'http://evil.example/callback',
      'https://127.0.0.1/callback',
      'http://localhost/callback',
      'http://0.0.0.0/callback',
      'http://127.0.0.1.evil.example/callback',
      'http://127.0.0.1/callback?x=1',
    ]) {
      expect(
        () => createTokenManager({ ...base(), issuer: 'https://id.example.com', redirectUri }),
        redirectUri,
      ).toThrow(expect.objectContaining({ code: 'config_invalid', path: 'redirectUri' }));
    }
  });

  it('reports not_logged_in without a session and for a session of another issuer', async () => {
    const storage = createMemoryStorage();
    const tokens = createTokenManager({ issuer: 'https://id.example.com', clientId: 'c', storage });
    await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'not_logged_in' });
    const other = managerFor(dev, storage);
    await quickLogin(other);
    const again = createTokenManager({ issuer: 'https://id.example.com', clientId: 'c', storage });
    await expect(again.getAccessToken()).rejects.toMatchObject({
      code: 'not_logged_in',
      message: expect.stringContaining('another issuer'),
    });
    expect(await again.status()).toMatchObject({ loggedIn: false });
  });
});
