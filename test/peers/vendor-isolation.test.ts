// Child processes: the root entry and authplane/oidc load no vendor SDK module; a missing vendor SDK is
// a ConfigError naming the package; and after using both vendor adapters (failures included) a process
// exits by itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const children = fileURLToPath(new URL('./vendor-children/', import.meta.url));

function run(script: string, env: Record<string, string> = {}, timeoutMs = 15_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve, reject) => {
      const started = Date.now();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--import', join(children, 'register.mjs'), join(children, script)],
        {
          cwd: root,
          env: { ...process.env, NODE_ENV: 'production', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} did not exit within ${timeoutMs} ms: ${stderr}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    },
  );
}

const VENDOR = /\/node_modules\/(auth0|@clerk\/[^/]+)\//;

describe('vendor SDK isolation', () => {
  it('importing authplane and authplane/oidc (and building an oidc plane) loads no auth0 or @clerk module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authplane-resolve-'));
    const log = join(dir, 'resolved.txt');
    try {
      const out = await run('import-roots.ts', { AUTHPLANE_TEST_RESOLVE_LOG: log });
      expect(out.code, out.stderr).toBe(0);
      const esm = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const cjs = JSON.parse(out.stdout.trim().split('\n').pop() as string) as string[];
      // The recorder really sees the graph: our own sources and a real dependency are in it.
      expect(esm.some((u) => u.endsWith('/providers/oidc/index.ts'))).toBe(true);
      expect(esm.some((u) => u.includes('/node_modules/jose/'))).toBe(true);
      expect(esm.filter((u) => VENDOR.test(u))).toEqual([]);
      expect(cjs.filter((p) => VENDOR.test(p))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing vendor SDK is a ConfigError naming the package (auth0); clerk needs none at run time', async () => {
    const out = await run('missing-sdk.ts', { AUTHPLANE_TEST_MISSING: 'auth0,@clerk/backend' });
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout.trim().split('\n').pop() as string) as Record<
      string,
      { name: string; path: string; message: string }
    >;
    expect(result.auth0).toMatchObject({ name: 'ConfigError', path: 'provider' });
    expect(result.auth0?.message).toContain('npm install auth0');
    // Session tokens are verified by authplane's own verifier and the Backend API is called through
    // `fetch`: the Clerk adapter builds without @clerk/backend.
    expect(result.clerk).toMatchObject({ name: 'ok' });
  });

  it('importing authplane/auth0 without its SDK is the same clear ConfigError, not ERR_MODULE_NOT_FOUND', async () => {
    const out = await run('missing-subpath.ts', { AUTHPLANE_TEST_MISSING: 'auth0,@clerk/backend' });
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout.trim().split('\n').pop() as string) as Record<
      string,
      { name?: string; path?: string; message?: string; code?: string; loaded?: boolean }
    >;
    expect(result.auth0).toMatchObject({ name: 'ConfigError', path: 'provider' });
    expect(result.auth0?.message).toContain('authplane/auth0 needs the optional package "auth0"');
    expect(result.auth0?.message).toContain('npm install auth0');
    expect(result.clerk).toEqual({ loaded: true });
  });

  it('a process that used both vendor adapters, failures included, exits by itself', async () => {
    const out = await run('exits.ts');
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop() as string)).toEqual([
      'ok',
      'ok',
      'provider_unavailable',
      'provider_unavailable',
      'ok',
      'provider_unavailable',
      'provider_unavailable',
      'members:0',
    ]);
    // Nothing holds the process after its work: no SDK timer (60 s default) or retry keeps it alive.
    expect(out.ms).toBeLessThan(8000);
  });
});
