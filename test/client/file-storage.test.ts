import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmod,
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DevIssuer } from 'authplane/dev';
import { startDevIssuer } from 'authplane/dev';
import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createEncryptedFileStorage, type StoredSession } from '../../src/client/index';
import { managerFor, movableClock, quickLogin, tempDir } from './helpers';

const root = fileURLToPath(new URL('../../', import.meta.url));
const posix = process.platform !== 'win32';

const session = (n: number): StoredSession => ({
  version: 1,
  issuer: 'https://id.example.com',
  clientId: 'c',
  accessToken: `at-${n}`,
  tokenType: 'bearer',
  expiresAt: 2_000_000_000,
  obtainedAt: 1_700_000_000,
  refreshToken: `rt-${n}`,
  scope: 'read',
  user: { subject: 'alice', email: 'alice@acme.test', orgId: 'org_acme' },
});

let dirs: Array<() => Promise<void>> = [];
async function dir(): Promise<string> {
  const t = await tempDir();
  dirs.push(t.cleanup);
  return t.dir;
}
afterEach(async () => {
  await Promise.all(dirs.map((c) => c()));
  dirs = [];
});

async function corruptError(path: string, options: { secret?: string } = {}): Promise<ClientError> {
  const err = await createEncryptedFileStorage({ path, ...options })
    .read()
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  expect(err).toMatchObject({ code: 'session_corrupt' });
  expect((err as Error).message).toContain('run `authplane login --force`');
  return err as ClientError;
}

describe('encrypted file storage', () => {
  it('round-trips a session, encrypted, 0600 in a 0700 directory it created', async () => {
    const path = join(await dir(), 'nested', 'deeper', 'session');
    const storage = createEncryptedFileStorage({ path });
    expect(await storage.read()).toBeNull();
    await storage.write(session(1));
    expect(await storage.read()).toEqual(session(1));
    expect(await createEncryptedFileStorage({ path }).read()).toEqual(session(1));
    const raw = await readFile(path);
    expect(raw.subarray(0, 3).toString()).toBe('APS');
    expect(raw.toString('latin1')).not.toContain('at-1');
    expect(raw.toString('latin1')).not.toContain('alice');
    if (posix) {
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(`${path}.key`)).mode & 0o777).toBe(0o600);
      expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(path, '..', '..'))).mode & 0o777).toBe(0o700);
    }
    await storage.clear();
    expect(await storage.read()).toBeNull();
    await storage.clear();
  });

  it('uses a fresh IV per write and keeps the per-store salt', async () => {
    const path = join(await dir(), 'session');
    const storage = createEncryptedFileStorage({ path });
    await storage.write(session(1));
    const a = await readFile(path);
    await storage.write(session(1));
    const b = await readFile(path);
    expect(a.subarray(7, 23)).toEqual(b.subarray(7, 23)); // salt
    expect(a.subarray(23, 35)).not.toEqual(b.subarray(23, 35)); // iv
  });

  it('with a secret: no key file, and another secret cannot read it', async () => {
    const path = join(await dir(), 'session');
    await createEncryptedFileStorage({ path, secret: 'correct horse battery staple' }).write(session(2));
    await expect(stat(`${path}.key`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await createEncryptedFileStorage({ path, secret: 'correct horse battery staple' }).read()).toEqual(
      session(2),
    );
    await corruptError(path, { secret: 'wrong' });
  });

  it('a tampered, truncated, foreign or keyless file is session_corrupt, never a crash', async () => {
    const path = join(await dir(), 'session');
    await createEncryptedFileStorage({ path }).write(session(3));
    const good = await readFile(path);

    for (const offset of [0, 4, 10, 30, 40, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[offset] = (bad[offset] ?? 0) ^ 0x01; // header, scrypt params, salt, iv, body, tag
      await writeFile(path, bad);
      await corruptError(path);
    }
    await writeFile(path, good.subarray(0, 20));
    await corruptError(path);
    await writeFile(path, '{"accessToken":"plain"}');
    await corruptError(path);
    await writeFile(
      path,
      Buffer.concat([good.subarray(0, 4), Buffer.from([40, 200, 200]), good.subarray(7)]),
    );
    expect((await corruptError(path)).message).toMatch(/invalid header/);

    await writeFile(path, good);
    await writeFile(`${path}.key`, 'garbage');
    expect((await corruptError(path)).message).toMatch(/key file/);
    // Writing (login --force) replaces the unusable key, and the store works again.
    await createEncryptedFileStorage({ path }).write(session(4));
    expect(await createEncryptedFileStorage({ path }).read()).toEqual(session(4));
  });

  it('the token manager surfaces a corrupt file as session_corrupt; logout deletes it', async () => {
    const dev = await startDevIssuer();
    try {
      const path = join(await dir(), 'session');
      await writeFile(path, 'not a session');
      const tokens = managerFor(dev, createEncryptedFileStorage({ path }));
      await expect(tokens.getAccessToken()).rejects.toMatchObject({ code: 'session_corrupt' });
      await expect(tokens.status()).rejects.toMatchObject({ code: 'session_corrupt' });
      expect(await tokens.logout()).toMatchObject({ loggedOut: true, revoked: false });
      expect((await tokens.status()).loggedIn).toBe(false);
    } finally {
      await dev.stop();
    }
  });

  it('kill -9 during a loop of writes leaves a readable session (old or new, never torn)', async () => {
    const base = await dir();
    for (const [round, delayLines] of [
      [1, 3],
      [2, 17],
      [3, 40],
    ] as const) {
      const path = join(base, `session-${round}`);
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/client/fixtures/write-loop.ts'], {
        cwd: root,
        env: { ...process.env, SESSION_FILE: path, PADDING: String(2000 * round) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let last = 0;
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      await new Promise<void>((resolve) => {
        lines.on('line', (l) => {
          last = Number(l);
          if (last === delayLines) resolve();
        });
      });
      // Kill while it keeps writing: somewhere in a write, an fsync or a rename.
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      child.kill('SIGKILL');
      await once(child, 'exit');
      const read = await createEncryptedFileStorage({ path }).read();
      expect(read?.clientId).toBe('loop');
      const n = Number(read?.accessToken.split('-')[1]);
      expect(n).toBeGreaterThanOrEqual(last);
      expect(read?.refreshToken).toBe(`rt-${n}`);
      expect(read?.user.subject).toBe(`user-${n}`);
    }
    // Leftovers are temp files only, never a half-written session under the real name.
    const names = await readdir(base);
    expect(names.filter((n) => !/^session-\d(\.key|\.\d+\.[0-9a-f]+\.tmp)?$/.test(n))).toEqual([]);
  });
});

describe('a session directory, key file or lock found on disk is not trusted blindly', () => {
  async function insecureError(run: () => Promise<unknown>, path: string): Promise<void> {
    const err = await run().then(
      () => new Error('expected a refusal'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'session_insecure' });
    expect((err as Error).message).toContain(path);
  }

  it('refuses a group/other-writable session directory, key file or session file', async () => {
    const base = await dir();
    const sessionDir = join(base, 'cli');
    const path = join(sessionDir, 'session');
    const storage = createEncryptedFileStorage({ path });
    await storage.write(session(1));
    await chmod(sessionDir, 0o777);
    await insecureError(() => storage.read(), sessionDir);
    await insecureError(() => storage.write(session(2)), sessionDir);
    await chmod(sessionDir, 0o700);
    await chmod(`${path}.key`, 0o666);
    await insecureError(() => storage.read(), `${path}.key`);
    await chmod(`${path}.key`, 0o600);
    await chmod(path, 0o622);
    await insecureError(() => storage.read(), path);
    await chmod(path, 0o600);
    expect((await storage.read())?.accessToken).toBe('at-1');
  });

  it('never follows a symbolic link: a planted directory, key file, session file or lock', async () => {
    const base = await dir();
    // An attacker's directory, planted where the CLI will look (a shared HOME in CI).
    const planted = join(base, 'planted');
    await mkdir(planted, { mode: 0o700 });
    await symlink(planted, join(base, 'cli'));
    await insecureError(
      () => createEncryptedFileStorage({ path: join(base, 'cli', 'session') }).write(session(1)),
      join(base, 'cli'),
    );
    const path = join(base, 'own', 'session');
    const storage = createEncryptedFileStorage({ path });
    await storage.write(session(1));
    const attackerKey = join(planted, 'key');
    await writeFile(attackerKey, `${'A'.repeat(43)}\n`, { mode: 0o600 });
    await rm(`${path}.key`);
    await symlink(attackerKey, `${path}.key`);
    await insecureError(() => createEncryptedFileStorage({ path }).read(), `${path}.key`);
    await rm(`${path}.key`);
    await symlink(join(planted, 'session'), `${path}.x`);
    await rename(`${path}.x`, path);
    await insecureError(() => createEncryptedFileStorage({ path, secret: 's' }).read(), path);
    await mkdir(join(planted, 'lock'), { mode: 0o700 });
    await symlink(join(planted, 'lock'), `${path}.lock`);
    await insecureError(
      () => createEncryptedFileStorage({ path, secret: 's' }).withLock(async () => 1),
      `${path}.lock`,
    );
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses files owned by another user (needs root to chown in the test)',
    async () => {
      const base = await dir();
      const path = join(base, 'cli', 'session');
      const storage = createEncryptedFileStorage({ path });
      await storage.write(session(1));
      await chown(`${path}.key`, 4242, 4242);
      await insecureError(() => storage.read(), `${path}.key`);
      await chown(`${path}.key`, 0, 0);
      await chown(join(base, 'cli'), 4242, 4242);
      await insecureError(() => storage.read(), join(base, 'cli'));
    },
  );
});

describe('several OS processes refreshing one rotated session', () => {
  let dev: DevIssuer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dev = await startDevIssuer();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await dev?.stop();
  });

  it('refresh exactly once, never trip reuse detection, and all use the same new token', async () => {
    const path = join(await dir(), 'session');
    const clock = movableClock();
    const storage = createEncryptedFileStorage({ path });
    const tokens = managerFor(dev, storage, { clock });
    await quickLogin(tokens, 'bob');
    const original = await storage.read();

    const N = 6;
    const workers = Array.from({ length: N }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/client/fixtures/refresh-worker.ts'], {
        cwd: root,
        env: {
          ...process.env,
          ISSUER: dev.issuer,
          CLIENT_ID: dev.clients.cli.clientId,
          SESSION_FILE: path,
          CLOCK_OFFSET_MS: String(3600_000), // every worker sees the access token as expired
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const output: string[] = [];
      const ready = new Promise<void>((resolve) =>
        lines.on('line', (l) => {
          if (l === 'ready') resolve();
          else output.push(l);
        }),
      );
      return { child, ready, output };
    });
    await Promise.all(workers.map((w) => w.ready));
    const before = dev.stats.tokenRequests;
    for (const w of workers) w.child.stdin?.write('go\n');
    await Promise.all(workers.map((w) => once(w.child, 'exit')));

    const results = workers.map((w) => JSON.parse(w.output[0] ?? '{}') as { token?: string; error?: string });
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(dev.stats.tokenRequests - before).toBe(1);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    const refreshed = await storage.read();
    expect(refreshed?.accessToken).toBe(results[0]?.token);
    expect(refreshed?.refreshToken).not.toBe(original?.refreshToken);

    // No reuse detection fired: the rotated session still refreshes, and the old token is dead.
    clock.advance(7200);
    const again = await tokens.getAccessToken();
    expect(again).not.toBe(refreshed?.accessToken);
    const cli = await oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    await expect(oidc.refreshTokenGrant(cli, original?.refreshToken as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
