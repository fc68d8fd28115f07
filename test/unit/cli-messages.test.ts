// Honest CLI messages: every exit code in --help, a failing store named without its credentials,
// the import-links CSV columns documented and listed when a column is unknown.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/types';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authplane-cli-messages-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    shutdown: () => new Promise(() => {}),
  };
  return { io, out, err };
}

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: root,
      env: { ...process.env, AUTHPLANE_STORE: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('authplane --help', () => {
  it('lists every exit code, 3 included', async () => {
    const { io, out } = captureIO();
    expect(await run(['--help'], io)).toBe(0);
    const help = out.join('\n');
    for (const code of ['0 ok', '1 failure', '2 usage', '3 not logged in']) expect(help).toContain(code);
  });
});

describe('an unreachable store', () => {
  let stalled: Server;
  let port = 0;
  beforeAll(async () => {
    // A PostgreSQL port that drops every connection.
    stalled = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    port = (stalled.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => stalled.close(() => resolve())));

  it.each([
    ['keys', ['keys', 'list', '--org', 'org_acme']],
    ['db', ['db', 'migrate']],
  ])(
    '%s: names the host and database, never the user or password of the URL',
    async (_name, args) => {
      const store = `postgres://admin:hunter2-secret@127.0.0.1:${port}/appdb?password=alsosecret`;
      const result = await cli([...args, '--store', store]);
      expect(result.code).toBe(1);
      expect(result.err).toContain(`postgres://127.0.0.1:${port}/appdb`);
      expect(result.err).not.toContain('hunter2');
      expect(result.err).not.toContain('admin');
      expect(result.err).not.toContain('alsosecret');
    },
    60_000,
  );

  it('migrate import-links: an unresolvable host is named with its network error', async () => {
    const file = join(dir, 'links.csv');
    await writeFile(file, 'provider,external_id,internal_id\nauth0,a|1,usr_1\n');
    const result = await cli([
      'migrate',
      'import-links',
      file,
      '--store',
      'postgres://u:pw-secret@db.invalid:5432/links',
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/store postgres:\/\/db\.invalid:5432\/links, (ENOTFOUND|EAI_AGAIN)/);
    expect(result.err).not.toContain('pw-secret');
  }, 60_000);
});

describe('authplane migrate import-links: CSV columns', () => {
  it('--help shows the columns and an example', async () => {
    const { io, out } = captureIO();
    expect(await run(['migrate', '--help'], io)).toBe(0);
    const help = out.join('\n');
    for (const column of ['type', 'provider', 'external_id', 'internal_id', 'provider_subject', 'org_id'])
      expect(help).toContain(column);
    expect(help).toContain('type,provider,external_id,internal_id');
  });

  it('an unknown column is refused with the accepted ones', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'provider,sub,internal_id\nauth0,a|1,usr_1\n');
    const db = join(dir, 'links.db');
    const result = await cli(['migrate', 'import-links', file, '--store', `sqlite:${db}`]);
    expect(result.code).toBe(1);
    const text = result.out + result.err;
    expect(text).toContain('unknown column(s): sub');
    expect(text).toContain(
      'accepted: type, provider, external_id, provider_subject, external_org_id, internal_id, subject, org_id',
    );
  }, 60_000);
});
