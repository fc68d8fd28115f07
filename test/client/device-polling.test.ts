// The device-flow polling rules oidc-provider cannot be made to exercise (it never answers
// slow_down, and its codes live 10 minutes): a minimal RFC 8628 authorization server on loopback,
// scripted per test. The token manager and openid-client run unmodified against it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStorage, createTokenManager } from '../../src/client/index';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Starts the fake; `answers` are the token endpoint's successive OAuth errors. */
async function deviceServer(answers: string[], interval: number) {
  const polls: number[] = [];
  let started = 0;
  const self = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(self.address() as AddressInfo).port}`;
    const json = (status: number, body: unknown) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    if (req.url === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        device_authorization_endpoint: `${issuer}/device/auth`,
        jwks_uri: `${issuer}/jwks`,
      });
    }
    if (req.url === '/device/auth') {
      started = Date.now();
      return json(200, {
        device_code: 'dc',
        user_code: 'ABCD-EFGH',
        verification_uri: `${issuer}/device`,
        expires_in: 60,
        interval,
      });
    }
    if (req.url === '/token') {
      polls.push(Date.now() - started);
      return json(400, { error: answers.shift() ?? 'authorization_pending' });
    }
    json(404, {});
  });
  server = self;
  await new Promise<void>((r) => self.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(self.address() as AddressInfo).port}`;
  const tokens = createTokenManager({
    issuer,
    clientId: 'c',
    allowInsecureRequests: true,
    storage: createMemoryStorage(),
  });
  return { tokens, polls };
}

describe('device flow polling (RFC 8628 §3.5)', () => {
  it('waits `interval` before polling, adds 5 s on slow_down, and stops on expired_token', async () => {
    const { tokens, polls } = await deviceServer(['slow_down', 'expired_token'], 1);
    const err = await tokens.login({ flow: 'device', onCode: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'login_timeout', message: expect.stringContaining('expired') });
    expect(polls).toHaveLength(2);
    expect(polls[0]).toBeGreaterThanOrEqual(950);
    expect((polls[1] ?? 0) - (polls[0] ?? 0)).toBeGreaterThanOrEqual(5950); // 1 s + 5 s
  }, 15_000);

  it('keeps polling on authorization_pending and stops on access_denied', async () => {
    const { tokens, polls } = await deviceServer(['authorization_pending', 'access_denied'], 1);
    const err = await tokens.login({ flow: 'device', onCode: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'login_failed', message: expect.stringContaining('denied') });
    expect(polls).toHaveLength(2);
    expect((polls[1] ?? 0) - (polls[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('can be cancelled with an AbortSignal', async () => {
    const { tokens } = await deviceServer([], 1);
    const abort = new AbortController();
    const err = await tokens
      .login({ flow: 'device', signal: abort.signal, onCode: () => void setTimeout(() => abort.abort(), 50) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'login_failed', message: expect.stringContaining('cancelled') });
  });
});
