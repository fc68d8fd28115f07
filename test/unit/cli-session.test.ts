import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DevIssuer } from 'authplane/dev';
import { startDevIssuer } from 'authplane/dev';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSessionConfig } from '../../src/cli/commands/session-config';
import { run } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/types';
import { approveDeviceCode } from '../peers/user-agent';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dev: DevIssuer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dev = await startDevIssuer();
  dir = await mkdtemp(join(tmpdir(), 'authplane-cli-'));
  env = {
    ...(process.env as Record<string, string>),
    XDG_CONFIG_HOME: dir, // never the real ~/.config
    AUTHPLANE_ISSUER: dev.issuer,
    AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'true',
    AUTHPLANE_SESSION_FILE: join(dir, 'session'),
  };
});
afterAll(async () => {
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `authplane ...args` as a child process; `onStderrLine` sees stderr as it arrives. */
function cli(args: string[], onStderrLine?: (line: string) => void): Promise<Ran> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr += `${line}\n`;
    onStderrLine?.(line);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('authplane login / token / status / whoami / logout (child processes)', () => {
  it('logs in with --device headlessly, prints tokens and status, logs out; exit codes 0 and 3', async () => {
    const login = await cli(['login', '--device', '--json'], (line) => {
      const event = JSON.parse(line) as {
        event?: string;
        verificationUriComplete?: string;
        userCode?: string;
      };
      if (event.event === 'device_code') {
        expect(event.userCode).toEqual(expect.any(String));
        void approveDeviceCode(event.verificationUriComplete as string, { login: 'alice' });
      }
    });
    expect(login.code).toBe(0);
    const status = JSON.parse(login.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({
      loggedIn: true,
      issuer: dev.issuer,
      user: { subject: 'alice', orgId: 'org_acme' },
      storage: join(dir, 'session'),
    });
    expect(login.stdout).not.toMatch(/eyJ/); // no token in the status

    const again = await cli(['login', '--device']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Already logged in .* as Alice Admin <alice@acme.test> \(org org_acme\)/);

    const token = await cli(['token']);
    expect(token.code).toBe(0);
    expect(decodeJwt(token.stdout.trim())).toMatchObject({
      sub: 'alice',
      iss: dev.issuer,
      aud: dev.audience,
    });
    expect(token.stderr).toBe('');

    const st = await cli(['status', '--json']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({
      loggedIn: true,
      accessTokenValid: true,
      refreshable: true,
    });
    const human = await cli(['status']);
    expect(human.stdout).toMatch(/org\s+org_acme/);
    expect(human.stdout).toMatch(/storage\s+.*session/);

    const who = await cli(['whoami', '--json']);
    expect(JSON.parse(who.stdout)).toMatchObject({
      subject: 'alice',
      email: 'alice@acme.test',
      orgId: 'org_acme',
    });

    const logout = await cli(['logout', '--json']);
    expect(logout.code).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ loggedOut: true, revoked: true });

    const after = await cli(['token']);
    expect(after.code).toBe(3);
    expect(after.stdout).toBe('');
    expect(after.stderr).toMatch(/not logged in/);
    expect((await cli(['status'])).code).toBe(3);
    expect((await cli(['whoami'])).code).toBe(3);
  });
});

describe('session commands in process', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      shutdown: () => new Promise(() => {}),
    };
    return { io, out, err };
  }

  it('documents the exit codes and the configuration in --help', async () => {
    for (const name of ['login', 'logout', 'status', 'token', 'whoami']) {
      const { io, out } = capture();
      expect(await run([name, '--help'], io)).toBe(0);
      expect(out.join('\n')).toContain('3 not logged in or session ended');
      expect(out.join('\n')).toContain('AUTHPLANE_ISSUER');
    }
    const { io, out } = capture();
    await run(['--help'], io);
    expect(out.join('\n')).toMatch(/login\s+Log in/);
  });

  it('refuses a non-loopback http issuer as a configuration error (exit 2)', async () => {
    const { io, err } = capture();
    expect(await run(['token', '--issuer', 'http://id.example.com'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/must be https/);
  });

  it('resolves flags over variables over the config file, with a per-issuer session file', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = join(dir, 'config.json');
    await writeFile(
      file,
      JSON.stringify({ issuer: 'https://file.example', clientId: 'from-file', scopes: ['openid', 'x'] }),
    );
    const base = { XDG_CONFIG_HOME: dir };
    const fromFile = resolveSessionConfig({ config: file }, base);
    expect(fromFile).toMatchObject({
      issuer: 'https://file.example',
      clientId: 'from-file',
      scopes: 'openid x',
    });
    expect(fromFile.sessionFile).toMatch(/authplane[/\\]sessions[/\\][0-9a-f]{16}\.session$/);
    expect(fromFile.allowInsecureRequests).toBe(false);
    const fromEnv = resolveSessionConfig(
      { config: file },
      { ...base, AUTHPLANE_ISSUER: 'https://env.example' },
    );
    expect(fromEnv.issuer).toBe('https://env.example');
    expect(fromEnv.sessionFile).not.toBe(fromFile.sessionFile);
    const fromFlag = resolveSessionConfig(
      { config: file, issuer: 'https://flag.example' },
      { ...base, AUTHPLANE_ISSUER: 'https://env.example', AUTHPLANE_AUDIENCE: 'https://api' },
    );
    expect(fromFlag).toMatchObject({ issuer: 'https://flag.example', resource: 'https://api' });
    const defaults = resolveSessionConfig({}, base);
    expect(defaults).toMatchObject({
      issuer: 'http://127.0.0.1:4455',
      clientId: 'authplane-cli',
      allowInsecureRequests: true,
    });
    expect(() => resolveSessionConfig({ config: join(dir, 'missing.json') }, base)).toThrow(/cannot read/);
  });
});
