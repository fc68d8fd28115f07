/**
 * examples/cli-login: a tiny CLI ("acme") built on the authplane token manager. It logs in through
 * the browser or with a device code, keeps an encrypted session in ~/.config/acme, and calls an API
 * with a token that is refreshed as needed. Against the dev issuer (`npx authplane dev`) and the
 * saas-backend example:
 *
 *   npx tsx examples/cli-login/index.ts login --device
 *   npx tsx examples/cli-login/index.ts call http://127.0.0.1:3000/items
 *   npx tsx examples/cli-login/index.ts logout
 *
 * ACME_ISSUER / ACME_CLIENT_ID / ACME_AUDIENCE point it elsewhere.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createEncryptedFileStorage, createTokenManager, isClientError } from 'authplane/client';

const issuer = process.env.ACME_ISSUER ?? 'http://127.0.0.1:4455';
const tokens = createTokenManager({
  issuer,
  clientId: process.env.ACME_CLIENT_ID ?? 'authplane-cli',
  scopes: ['openid', 'offline_access', 'profile', 'email', 'read'],
  resource: process.env.ACME_AUDIENCE ?? 'https://api.authplane.local',
  // Plain http is accepted for a loopback issuer only; the token manager refuses it anywhere else.
  allowInsecureRequests: new URL(issuer).protocol === 'http:',
  storage: createEncryptedFileStorage({ path: join(homedir(), '.config', 'acme', 'session') }),
});
tokens.onSessionEnded(({ reason }) => {
  if (reason === 'invalidated') console.error('acme: your session was ended by the server; run `acme login`');
});

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'login': {
      const status = await tokens.login(args.includes('--device') ? { flow: 'device' } : { flow: 'browser' });
      console.log(`Logged in as ${status.user.email ?? status.user.subject}`);
      return 0;
    }
    case 'whoami': {
      const status = await tokens.status();
      console.log(
        status.loggedIn
          ? `${status.user.email ?? status.user.subject} (${status.user.orgId ?? 'no org'})`
          : 'not logged in',
      );
      return status.loggedIn ? 0 : 3;
    }
    case 'call': {
      const res = await tokens.fetch(args[0] ?? 'http://127.0.0.1:3000/items');
      console.log(res.status, await res.text());
      return res.ok ? 0 : 1;
    }
    case 'logout': {
      const { revoked } = await tokens.logout();
      console.log(revoked ? 'Logged out.' : 'Logged out locally (the server could not be told).');
      return 0;
    }
    default:
      console.error('usage: acme login [--device] | whoami | call URL | logout');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // ClientError messages name the problem and the fix, never a token.
    console.error(`acme: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode =
      isClientError(err, 'not_logged_in') || isClientError(err, 'session_invalidated') ? 3 : 1;
  },
);
