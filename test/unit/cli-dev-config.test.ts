import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main';
import { type CliIO, EXIT_CODES } from '../../src/cli/types';
import { createMemoryStorage, createTokenManager } from '../../src/client/index';
import { createIdentityPlane } from '../../src/index';
import { completeBrowserLogin } from '../peers/user-agent';

const dir = mkdtempSync(join(tmpdir(), 'authplane-dev-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function captureIO(shutdown: Promise<string>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), shutdown: () => shutdown };
  return { io, out, err };
}

/** The object literal passed to `name(...)` in the printed snippet, evaluated as JavaScript. */
function literalAfter(text: string, prefix: string): Record<string, unknown> {
  const line = text.split('\n').find((l) => l.includes(prefix));
  expect(line, `a line with ${prefix}`).toBeDefined();
  const start = (line as string).indexOf('{');
  const end = (line as string).lastIndexOf('}');
  return new Function(`return (${(line as string).slice(start, end + 1)});`)() as Record<string, unknown>;
}

describe('authplane dev prints a ready-to-paste config', () => {
  it('for the plane and the client, both with allowInsecureRequests, and both work as printed', async () => {
    let stop: (signal: string) => void = () => {};
    const human = captureIO(new Promise((resolve) => (stop = resolve)));
    const running = run(['dev', '--port', '0', '--state-dir', join(dir, 'dev')], human.io);
    await expect.poll(() => human.out.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const text = human.out.join('\n');
    try {
      expect(text).toContain("import { createIdentityPlane } from 'authplane';");
      expect(text).toContain(
        "import { createEncryptedFileStorage, createTokenManager } from 'authplane/client';",
      );
      const planeOptions = literalAfter(text, 'createIdentityPlane({');
      const issuer = /Issuer\s+(\S+)/.exec(text)?.[1] as string;
      expect(planeOptions).toEqual({
        provider: 'oidc',
        issuer,
        audience: 'https://api.authplane.local',
        allowInsecureRequests: true,
      });
      const clientOptions = literalAfter(text, '    ...{');
      expect(clientOptions).toMatchObject({ issuer, clientId: 'authplane-cli', allowInsecureRequests: true });
      expect(text).toMatch(/loginHint: 'alice', .*'bob', 'carol'/);

      // The printed plane options verify a token of this issuer.
      const plane = await createIdentityPlane(planeOptions as Parameters<typeof createIdentityPlane>[0]);
      const secret = /client_secret\s+(\S+)/.exec(text)?.[1] as string;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`authplane-service:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
      });
      const { access_token } = (await res.json()) as { access_token: string };
      await expect(plane.verify(access_token)).resolves.toMatchObject({ ok: true });
      await plane.close();

      // The printed client options log in (here as carol) and get a token the plane accepts.
      const tokens = createTokenManager({
        ...(clientOptions as { issuer: string; clientId: string }),
        loginHint: 'carol',
        storage: createMemoryStorage(),
      });
      const status = await tokens.login({
        flow: 'browser',
        open: async (url) => {
          await fetch(await completeBrowserLogin(url)).then((r) => r.text());
        },
      });
      expect(status.user).toMatchObject({ subject: 'carol', orgId: 'org_globex' });
    } finally {
      stop('SIGTERM');
      expect(await running).toBe(EXIT_CODES.ok);
    }
  }, 60_000);

  it('--json carries the same config objects', async () => {
    let stop: (signal: string) => void = () => {};
    const json = captureIO(new Promise((resolve) => (stop = resolve)));
    const running = run(['dev', '--port', '0', '--json', '--state-dir', join(dir, 'dev2')], json.io);
    await expect.poll(() => json.out.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const doc = JSON.parse(json.out[0] as string) as { issuer: string; config: Record<string, unknown> };
    stop('SIGTERM');
    expect(await running).toBe(EXIT_CODES.ok);
    expect(doc.config).toMatchObject({
      plane: { provider: 'oidc', issuer: doc.issuer, allowInsecureRequests: true },
      client: {
        issuer: doc.issuer,
        clientId: 'authplane-cli',
        allowInsecureRequests: true,
        loginHint: 'alice',
      },
    });
  }, 60_000);
});
