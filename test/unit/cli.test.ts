import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_BANNER } from '../../src/cli/commands/dev';
import { run } from '../../src/cli/main';
import { type CliIO, EXIT_CODES } from '../../src/cli/types';

const root = fileURLToPath(new URL('../../', import.meta.url));

function captureIO(shutdown: Promise<string> = new Promise(() => {})) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), shutdown: () => shutdown };
  return { io, out, err };
}

describe('authplane dispatcher', () => {
  it('prints help (0), the version (0), and refuses unknown commands and options (2)', async () => {
    const help = captureIO();
    expect(await run(['--help'], help.io)).toBe(EXIT_CODES.ok);
    expect(help.out.join('\n')).toMatch(/dev\s+Run a local OIDC issuer/);
    expect(help.out.join('\n')).toMatch(/Exit codes: 0 ok, 1 failure[\s\S]*2 usage[\s\S]*3 not logged in/);

    const version = captureIO();
    expect(await run(['--version'], version.io)).toBe(EXIT_CODES.ok);
    expect(version.out).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+/)]);

    const none = captureIO();
    expect(await run([], none.io)).toBe(EXIT_CODES.usage);
    expect(none.err.join('\n')).toContain('Usage: authplane <command>');

    const unknown = captureIO();
    expect(await run(['nope'], unknown.io)).toBe(EXIT_CODES.usage);
    expect(unknown.err.join('\n')).toContain('unknown command "nope"');

    const badOption = captureIO();
    expect(await run(['dev', '--bogus'], badOption.io)).toBe(EXIT_CODES.usage);
    expect(badOption.err.join('\n')).toContain('Usage: authplane dev');

    const badPort = captureIO();
    expect(await run(['dev', '--port', 'abc'], badPort.io)).toBe(EXIT_CODES.usage);
    expect(badPort.err.join('\n')).toContain('--port must be an integer');

    const badAudience = captureIO();
    expect(await run(['dev', '--port', '0', '--audience', 'not a uri'], badAudience.io)).toBe(
      EXIT_CODES.usage,
    );

    const commandHelp = captureIO();
    expect(await run(['dev', '--help'], commandHelp.io)).toBe(EXIT_CODES.ok);
    expect(commandHelp.out.join('\n')).toContain('--audience URI');
  });

  it('runs `dev` in process until shutdown, printing the banner, env, clients, users and a curl line', async () => {
    let stop: (signal: string) => void = () => {};
    const { io, out } = captureIO(new Promise((resolve) => (stop = resolve)));
    const running = run(['dev', '--port', '0', '--audience', 'https://api.cli.test'], io);
    await expect.poll(() => out.length, { timeout: 5000 }).toBeGreaterThan(0);
    const text = out.join('\n');
    expect(text.split('\n')[0]).toBe(DEV_BANNER);
    expect(text).toContain('DEVELOPMENT ONLY');
    expect(text).toContain('export AUTHPLANE_PROVIDER=oidc');
    expect(text).toContain('export AUTHPLANE_AUDIENCE=https://api.cli.test');
    expect(text).toMatch(/client_secret\s+dev_/);
    expect(text).toMatch(/alice\s+alice@acme\.test\s+org_acme\s+admin/);
    expect(text).toMatch(
      /curl -s -u authplane-service:\S+ -d grant_type=client_credentials .*resource=https:\/\/api\.cli\.test/,
    );

    const issuer = /Issuer\s+(\S+)/.exec(text)?.[1] as string;
    expect((await fetch(`${issuer}/jwks`)).status).toBe(200);
    stop('SIGTERM');
    expect(await running).toBe(EXIT_CODES.ok);
    await expect(fetch(`${issuer}/jwks`)).rejects.toThrow();
  });
});

describe('authplane dev (child process)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('prints its configuration as JSON, serves tokens with it, and exits 0 on SIGTERM', async () => {
    // `node --import tsx` rather than `npx tsx`: the signal must reach the CLI itself, not a wrapper.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'dev', '--port', '0', '--json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line')) as [string];
    const config = JSON.parse(line) as {
      issuer: string;
      audience: string;
      tokenEndpoint: string;
      jwksUri: string;
      env: Record<string, string>;
      clients: { service: { clientId: string; clientSecret: string; orgId: string } };
    };
    expect(stderr).toContain('DEVELOPMENT ONLY');
    expect(config.env).toMatchObject({
      AUTHPLANE_PROVIDER: 'oidc',
      AUTHPLANE_ISSUER: config.issuer,
      AUTHPLANE_AUDIENCE: 'https://api.authplane.local',
    });

    const { clientId, clientSecret } = config.clients.service;
    const res = await fetch(config.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'read',
        resource: config.audience,
      }),
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const jwks = (await (await fetch(config.jwksUri)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks), {
      issuer: config.issuer,
      audience: config.audience,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ scope: 'read', org_id: config.clients.service.orgId });

    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('stopped (SIGTERM)');
    expect(stderr).not.toContain('Unsupported runtime');
  });
});
