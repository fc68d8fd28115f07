import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdentityPlane } from 'authplane';
import { type DevIssuer, startDevIssuer } from 'authplane/dev';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { completeBrowserLogin } from './user-agent';

const insecure = { execute: [oidc.allowInsecureRequests] };
const running: DevIssuer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'authplane-dev-state-'));
  dirs.push(dir);
  return join(dir, 'dev');
}

async function start(options: Parameters<typeof startDevIssuer>[0]): Promise<DevIssuer> {
  const dev = await startDevIssuer(options);
  running.push(dev);
  return dev;
}

async function stop(dev: DevIssuer): Promise<void> {
  await dev.stop();
  running.splice(running.indexOf(dev), 1);
}

async function cliConfig(dev: DevIssuer): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), insecure);
}

/** A human session as the CLI gets it: auth code + PKCE with offline_access, so a refresh token. */
async function login(dev: DevIssuer, user: string) {
  const cli = await cliConfig(dev);
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedState = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(cli, {
    redirect_uri: dev.clients.cli.redirectUri.replace('127.0.0.1', '127.0.0.1:53682'),
    scope: 'openid offline_access read',
    prompt: 'consent',
    resource: dev.audience,
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    login_hint: user,
  });
  const callback = await completeBrowserLogin(url.href);
  return oidc.authorizationCodeGrant(cli, new URL(callback), { pkceCodeVerifier, expectedState });
}

async function verifyAtPlane(dev: DevIssuer, token: string) {
  const plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    allowInsecureRequests: true,
  });
  try {
    return await plane.verify(token);
  } finally {
    await plane.close();
  }
}

describe('dev issuer: state survives a restart (stateDir)', () => {
  it('an old access token still verifies and an old refresh token still refreshes after a restart', async () => {
    const dir = stateDir();
    const first = await start({ stateDir: dir });
    const service = await first.mintServiceToken({ alg: 'ES256' });
    const human = await login(first, 'bob');
    expect(human.refresh_token).toBeTypeOf('string');
    const secret = first.clients.service.clientSecret;
    const port = first.port;
    await stop(first);

    // Private keys and the client secret are on disk: owner-only.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);

    const second = await start({ stateDir: dir, port });
    expect(second.clients.service.clientSecret).toBe(secret);
    await expect(verifyAtPlane(second, service)).resolves.toMatchObject({ ok: true });
    const humanResult = await verifyAtPlane(second, human.access_token);
    expect(humanResult).toMatchObject({ ok: true });

    const refreshed = await oidc.refreshTokenGrant(await cliConfig(second), human.refresh_token as string, {
      resource: second.audience,
    });
    expect(refreshed.access_token).not.toBe(human.access_token);
    await expect(verifyAtPlane(second, refreshed.access_token)).resolves.toMatchObject({ ok: true });
  });

  it('with reset: true the old token no longer verifies and the old refresh token is refused', async () => {
    const dir = stateDir();
    const first = await start({ stateDir: dir });
    const service = await first.mintServiceToken();
    const human = await login(first, 'alice');
    const secret = first.clients.service.clientSecret;
    const port = first.port;
    await stop(first);

    const second = await start({ stateDir: dir, port, reset: true });
    expect(second.clients.service.clientSecret).not.toBe(secret);
    await expect(verifyAtPlane(second, service)).resolves.toMatchObject({ ok: false });
    const refusal = await oidc.refreshTokenGrant(await cliConfig(second), human.refresh_token as string).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(oidc.ResponseBodyError);
    expect((refusal as oidc.ResponseBodyError).error).toBe('invalid_grant');
  });

  it('without stateDir nothing survives: a second issuer on the same port does not honour the first', async () => {
    const first = await start({});
    const token = await first.mintServiceToken();
    const port = first.port;
    await stop(first);
    const second = await start({ port });
    await expect(verifyAtPlane(second, token)).resolves.toMatchObject({ ok: false });
  });

  it('refuses a state file it did not write instead of overwriting it, and reset without stateDir', async () => {
    const dir = stateDir();
    const first = await start({ stateDir: dir });
    await stop(first);
    writeFileSync(join(dir, 'state.json'), '{"version":1,"not":"a state"}');
    await expect(startDevIssuer({ stateDir: dir })).rejects.toThrow(/--reset/);
    await expect(startDevIssuer({ reset: true })).rejects.toThrow(/stateDir/);
    await expect(start({ stateDir: dir, reset: true })).resolves.toBeDefined();
  });
});
