// The README's first command (`npm run demo`) is a promise to a new user: CI runs it too.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
      cwd: root,
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it('plays every scenario with the promised outcome and exits 0 by itself', {
    timeout: 60_000,
  }, async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(stderr).not.toMatch(/Error/);
    expect(stdout).not.toContain('MISMATCH');
    expect(stdout).toMatch(/all \d+ outcomes as promised/);
    for (const reason of [
      'scope_insufficient',
      'token_expired',
      'signature_invalid',
      'audience_mismatch',
      'api_key_revoked',
      'provider_unavailable',
    ]) {
      expect(stdout).toContain(reason);
    }
    expect(code).toBe(0);
  });
});
