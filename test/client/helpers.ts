// Shared set-up of the token-manager tests: a real dev issuer and the scripted user agent.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTokenManager,
  type SessionStorage,
  type TokenManager,
  type TokenManagerOptions,
} from '../../src/client/index';
import type { DevIssuer } from '../../src/dev/index';
import { completeBrowserLogin } from '../peers/user-agent';

/** The scopes every test session asks for: a refresh token (offline_access) and an API scope. */
export const SCOPES = 'openid offline_access profile email read';

/** A token manager for the dev issuer's CLI client. */
export function managerFor(
  dev: DevIssuer,
  storage: SessionStorage,
  extra: Partial<TokenManagerOptions> = {},
): TokenManager {
  return createTokenManager({
    issuer: dev.issuer,
    clientId: dev.clients.cli.clientId,
    scopes: SCOPES,
    resource: dev.audience,
    allowInsecureRequests: true,
    storage,
    ...extra,
  });
}

/** An `open` that plays the browser: logs in as `login` and delivers the redirect to the listener. */
export function browserAs(login: string, rewrite: (url: URL) => URL = (u) => u) {
  return async (authorizationUrl: string) => {
    const callback = await completeBrowserLogin(authorizationUrl, { login });
    await fetch(rewrite(new URL(callback))).then((r) => r.text());
  };
}

/** A temp directory removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'authplane-client-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A clock the test moves: `clock.advance(sec)`. */
export function movableClock() {
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  return Object.assign(now, {
    advance(sec: number) {
      offsetMs += sec * 1000;
    },
  });
}

/** Logs in through the browser flow (fast: no device polling interval), as `login`. */
export function quickLogin(manager: TokenManager, login = 'alice') {
  return manager.login({ flow: 'browser', open: browserAs(login) });
}
