import { startDevIssuer } from '../../dev/index';
import type { DevIssuer } from '../../dev/types';
import { type CliIO, type Command, EXIT_CODES, type ParsedArgs, UsageError } from '../types';
import { pasteConfig, pasteConfigLines } from './dev-config';

const DEFAULT_PORT = 4455;
const DEFAULT_STATE_DIR = '.authplane/dev';

/**
 * The banner printed first, on stderr when stdout carries JSON.
 *
 * @example
 * ```ts
 * expect(stderr).toContain(DEV_BANNER);
 * ```
 */
export const DEV_BANNER =
  'authplane dev: DEVELOPMENT ONLY. A local OIDC issuer with password-less login and automatic consent; never use it in production.';

function parsePort(value: unknown): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || port > 65535) {
    throw new UsageError('--port must be an integer between 0 and 65535 (0 picks a free port)');
  }
  return port;
}

/** Single-quotes a value for a POSIX shell line. */
function sh(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The JSON document `authplane dev --json` prints on one line (the dev client secret included).
 *
 * @example
 * ```ts
 * const { env, clients } = devDescription(await startDevIssuer());
 * ```
 */
export function devDescription(dev: DevIssuer) {
  return {
    issuer: dev.issuer,
    audience: dev.audience,
    jwksUri: dev.jwksUri,
    tokenEndpoint: dev.tokenEndpoint,
    introspectionEndpoint: dev.introspectionEndpoint,
    revocationEndpoint: dev.revocationEndpoint,
    env: dev.env(),
    clients: dev.clients,
    users: dev.users,
    /** `createIdentityPlane` and `createTokenManager` options, ready to use. */
    config: pasteConfig(dev),
  };
}

function tokenCurl(dev: DevIssuer): string {
  const { clientId, clientSecret } = dev.clients.service;
  return [
    'curl -s',
    `-u ${sh(`${clientId}:${clientSecret}`)}`,
    '-d grant_type=client_credentials',
    `-d ${sh('scope=read write')}`,
    `--data-urlencode ${sh(`resource=${dev.audience}`)}`,
    dev.tokenEndpoint,
  ].join(' ');
}

function printHuman(dev: DevIssuer, io: CliIO): void {
  const { service, cli } = dev.clients;
  const lines = [
    DEV_BANNER,
    '',
    `Issuer    ${dev.issuer}`,
    `Audience  ${dev.audience}`,
    `JWKS      ${dev.jwksUri}`,
    '',
    'Backend environment:',
    ...Object.entries(dev.env()).map(([k, v]) => `  export ${k}=${sh(v)}`),
    '',
    `Service client (client_credentials, ${service.tokenEndpointAuthMethod}):`,
    `  client_id      ${service.clientId}`,
    `  client_secret  ${service.clientSecret}`,
    `  org_id         ${service.orgId}`,
    `  scopes         ${service.scopes.join(' ')}`,
    `  other algs     ${service.variants.ES256} (ES256), ${service.variants.EdDSA} (EdDSA), ${service.variants.opaque} (opaque tokens)`,
    '',
    'CLI client (public, PKCE, device flow, rotating refresh tokens):',
    `  client_id      ${cli.clientId}`,
    `  redirect_uri   ${cli.redirectUri} (any loopback port)`,
    `  scopes         ${cli.scopes.join(' ')}`,
    '',
    'Users (no password; pick one with login_hint=<id>, default the first):',
    ...dev.users.map(
      (u) => `  ${u.id.padEnd(8)} ${u.email.padEnd(22)} ${(u.orgId ?? '-').padEnd(12)} ${u.roles.join(',')}`,
    ),
    '',
    ...pasteConfigLines(dev),
    '',
    'Get an access token:',
    `  ${tokenCurl(dev)}`,
    '',
    'Press Ctrl+C to stop.',
  ];
  for (const line of lines) io.out(line);
}

/**
 * `authplane dev [--port 4455] [--audience URI] [--json]`: runs the development issuer until SIGINT or
 * SIGTERM, after printing what a backend and a client need to use it.
 *
 * @example
 * ```sh
 * npx authplane dev --port 4455
 * npx authplane dev --port 0 --json   # one JSON line on stdout, then runs until SIGTERM
 * ```
 */
export const devCommand: Command = {
  name: 'dev',
  summary: 'Run a local OIDC issuer for development and tests (DEVELOPMENT ONLY)',
  usage: [
    'Usage: authplane dev [--port 4455] [--audience URI] [--state-dir DIR] [--reset] [--json]',
    '',
    'Options:',
    `  --port N         port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)`,
    '  --audience URI   API audience / resource indicator (default https://api.authplane.local)',
    `  --state-dir DIR  keys, secrets, grants and sessions survive a restart here (default ${DEFAULT_STATE_DIR})`,
    '  --reset          discard the saved state and start clean (tokens issued before stop working)',
    '  --json           print the configuration as one JSON line on stdout (banner on stderr)',
    '  -h, --help       show this help',
  ].join('\n'),
  options: {
    port: { type: 'string' },
    audience: { type: 'string' },
    json: { type: 'boolean', default: false },
    'state-dir': { type: 'string' },
    reset: { type: 'boolean', default: false },
  },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const port = parsePort(values.port);
    const audience = typeof values.audience === 'string' ? values.audience : undefined;
    const json = values.json === true;
    const stateDir = typeof values['state-dir'] === 'string' ? values['state-dir'] : DEFAULT_STATE_DIR;
    if (stateDir === '') throw new UsageError('--state-dir must be a directory path');

    let dev: DevIssuer;
    try {
      dev = await startDevIssuer({
        port,
        audience,
        stateDir,
        reset: values.reset === true,
        // Tokens and secrets never reach these messages (see DevLogger).
        logger: { warn: (m) => io.err(m), error: (m) => io.err(m) },
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'EADDRINUSE') {
        io.err(`authplane dev: port ${port} is already in use (try --port 0)`);
        return EXIT_CODES.failure;
      }
      throw err;
    }

    if (json) {
      io.err(DEV_BANNER);
      io.out(JSON.stringify(devDescription(dev)));
    } else {
      printHuman(dev, io);
    }

    const signal = await io.shutdown();
    await dev.stop();
    io.err(`authplane dev: stopped (${signal})`);
    return EXIT_CODES.ok;
  },
};
