// Configuration of the session commands (login, logout, status, token, whoami). Kept light on
// purpose: `authplane token` imports this, and must start fast (no schema library, no openid-client).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isClientError } from '../../client/errors';
import { createEncryptedFileStorage } from '../../client/file-storage';
import { createTokenManager, type TokenManager } from '../../client/manager';
import { ConfigError } from '../../core/errors';
import { type CliIO, EXIT_CODES, type ParsedArgs } from '../types';

/**
 * Exit codes of the session commands: those of every command, plus 3 when there is no usable session
 * (never logged in, logged out, or ended by the issuer).
 *
 * @example
 * ```sh
 * authplane token >/dev/null 2>&1; [ $? -eq 3 ] && authplane login
 * ```
 */
export const SESSION_EXIT_CODES = Object.freeze({ ...EXIT_CODES, notLoggedIn: 3 } as const);

/** The dev issuer `authplane dev` starts by default, and its CLI client: the zero-configuration demo. */
export const DEFAULT_ISSUER = 'http://127.0.0.1:4455';
/** The dev issuer's public CLI client id. */
export const DEFAULT_CLIENT_ID = 'authplane-cli';
/** Default scopes: a refresh token (offline_access), the user's profile and the dev API's read/write. */
export const DEFAULT_SCOPES = 'openid offline_access profile email read write';

/**
 * Options shared by every session command (parsed by the dispatcher).
 *
 * @example
 * ```ts
 * export const tokenCommand: Command = { ..., options: { ...SESSION_OPTIONS } };
 * ```
 */
export const SESSION_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  scope: { type: 'string' },
  resource: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/**
 * Help lines for `SESSION_OPTIONS`, the configuration sources and the exit codes.
 *
 * @example
 * ```ts
 * usage: ['Usage: authplane token [options]', '', SESSION_HELP].join('\n')
 * ```
 */
export const SESSION_HELP = [
  'Configuration (flags > AUTHPLANE_* variables > config file > defaults):',
  `  --issuer URL        AUTHPLANE_ISSUER         issuer (default ${DEFAULT_ISSUER}, the dev issuer)`,
  `  --client-id ID      AUTHPLANE_CLIENT_ID      public client id (default ${DEFAULT_CLIENT_ID})`,
  `  --scope "A B"       AUTHPLANE_SCOPES         scopes (default "${DEFAULT_SCOPES}")`,
  '  --resource URI      AUTHPLANE_RESOURCE       API resource indicator (or AUTHPLANE_AUDIENCE)',
  '  --config FILE       config file (default ~/.config/authplane/config.json): JSON with issuer,',
  '                      clientId, scopes, resource, sessionFile, allowInsecureRequests',
  '                      AUTHPLANE_SESSION_FILE   session file (default ~/.config/authplane/sessions/<hash>.session)',
  '                      AUTHPLANE_SESSION_SECRET secret the session key is derived from (default: a key file)',
  '                      AUTHPLANE_ALLOW_INSECURE_REQUESTS=true  plain-http issuer on loopback only',
  '  --json              machine-readable output on stdout',
  '  -h, --help          show this help',
  '',
  'Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 not logged in or session ended.',
].join('\n');

/**
 * The resolved configuration of the session commands.
 *
 * @example
 * ```ts
 * const { issuer, sessionFile } = resolveSessionConfig(values, process.env);
 * ```
 */
export interface SessionConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  readonly resource: string | undefined;
  readonly sessionFile: string;
  readonly allowInsecureRequests: boolean;
  readonly secret: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

function configDir(env: Env): string {
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'authplane');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'authplane');
}

function parseBoolean(path: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(path, 'must be true or false');
}

interface FileConfig {
  issuer?: string;
  clientId?: string;
  scopes?: string;
  resource?: string;
  sessionFile?: string;
  allowInsecureRequests?: boolean;
}

function readConfigFile(path: string, required: boolean): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(
      '--config',
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(path, 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, 'must contain a JSON object');
  }
  const raw = value as Record<string, unknown>;
  const out: FileConfig = {};
  for (const key of ['issuer', 'clientId', 'resource', 'sessionFile'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new ConfigError(`${path}: ${key}`, 'must be a string');
    out[key] = v;
  }
  if (raw.scopes !== undefined) {
    const v = raw.scopes;
    if (typeof v === 'string') out.scopes = v;
    else if (Array.isArray(v) && v.every((s) => typeof s === 'string')) out.scopes = v.join(' ');
    else throw new ConfigError(`${path}: scopes`, 'must be a string or an array of strings');
  }
  if (raw.allowInsecureRequests !== undefined) {
    if (typeof raw.allowInsecureRequests !== 'boolean') {
      throw new ConfigError(`${path}: allowInsecureRequests`, 'must be a boolean');
    }
    out.allowInsecureRequests = raw.allowInsecureRequests;
  }
  return out;
}

/**
 * Resolves the configuration: flags, then `AUTHPLANE_*` variables, then the config file, then the
 * dev-issuer defaults. The default session file is per issuer and client, so switching issuers
 * never mixes sessions. Plain http is allowed only for the default dev issuer unless
 * `AUTHPLANE_ALLOW_INSECURE_REQUESTS` (or the file's `allowInsecureRequests`) says so, and the token
 * manager still refuses it for a non-loopback issuer.
 *
 * @throws ConfigError
 * @example
 * ```ts
 * const config = resolveSessionConfig({ issuer: 'https://id.example.com' }, process.env);
 * ```
 */
export function resolveSessionConfig(values: ParsedArgs['values'], env: Env = process.env): SessionConfig {
  const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const fromEnv = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const dir = configDir(env);
  const configPath = flag('config');
  const file = readConfigFile(configPath ?? join(dir, 'config.json'), configPath !== undefined);

  const issuer = flag('issuer') ?? fromEnv('AUTHPLANE_ISSUER') ?? file.issuer ?? DEFAULT_ISSUER;
  const clientId = flag('client-id') ?? fromEnv('AUTHPLANE_CLIENT_ID') ?? file.clientId ?? DEFAULT_CLIENT_ID;
  const scopes = flag('scope') ?? fromEnv('AUTHPLANE_SCOPES') ?? file.scopes ?? DEFAULT_SCOPES;
  const resource =
    flag('resource') ?? fromEnv('AUTHPLANE_RESOURCE') ?? fromEnv('AUTHPLANE_AUDIENCE') ?? file.resource;
  const insecureEnv = fromEnv('AUTHPLANE_ALLOW_INSECURE_REQUESTS');
  const allowInsecureRequests =
    insecureEnv !== undefined
      ? parseBoolean('AUTHPLANE_ALLOW_INSECURE_REQUESTS', insecureEnv)
      : (file.allowInsecureRequests ?? issuer === DEFAULT_ISSUER);
  const hash = createHash('sha256').update(`${issuer}\n${clientId}`).digest('hex').slice(0, 16);
  const sessionFile =
    fromEnv('AUTHPLANE_SESSION_FILE') ?? file.sessionFile ?? join(dir, 'sessions', `${hash}.session`);
  return Object.freeze({
    issuer,
    clientId,
    scopes,
    resource,
    sessionFile,
    allowInsecureRequests,
    secret: env.AUTHPLANE_SESSION_SECRET || undefined,
  });
}

/**
 * The token manager of the session commands, on the encrypted session file.
 *
 * @example
 * ```ts
 * const { manager } = sessionManager(values);
 * process.stdout.write(`${await manager.getAccessToken()}\n`);
 * ```
 */
export function sessionManager(
  values: ParsedArgs['values'],
  env: Env = process.env,
): { config: SessionConfig; manager: TokenManager } {
  const config = resolveSessionConfig(values, env);
  const manager = createTokenManager({
    issuer: config.issuer,
    clientId: config.clientId,
    scopes: config.scopes,
    resource: config.resource,
    // Only `login` declares --login-hint; other commands never log in.
    ...(typeof values['login-hint'] === 'string' ? { loginHint: values['login-hint'] } : {}),
    allowInsecureRequests: config.allowInsecureRequests,
    storage: createEncryptedFileStorage({ path: config.sessionFile, secret: config.secret }),
  });
  return { config, manager };
}

/**
 * Maps a failure of a session command to its exit code and prints it (as JSON with `--json`).
 * Configuration errors are rethrown so that the dispatcher prints the usage and exits 2.
 *
 * @example
 * ```ts
 * try { ... } catch (err) { return reportFailure(err, 'token', values.json === true, io); }
 * ```
 */
export function reportFailure(err: unknown, command: string, json: boolean, io: CliIO): number {
  if (err instanceof ConfigError) throw err;
  const code = isClientError(err) ? err.code : 'error';
  const message = err instanceof Error ? err.message : String(err);
  if (json) io.out(JSON.stringify({ error: code, message }));
  io.err(`authplane ${command}: ${message}`);
  return isClientError(err, 'not_logged_in') || isClientError(err, 'session_invalidated')
    ? SESSION_EXIT_CODES.notLoggedIn
    : SESSION_EXIT_CODES.failure;
}

/**
 * "in 9m 58s" / "2m ago", for the human output of `status`.
 *
 * @example
 * ```ts
 * relativeTime(600); // 'in 10m 0s'
 * ```
 */
export function relativeTime(deltaSec: number): string {
  const abs = Math.abs(Math.round(deltaSec));
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const text = h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
  return deltaSec >= 0 ? `in ${text}` : `${text} ago`;
}
