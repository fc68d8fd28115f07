// The README's first quick start is a whole program: this test runs it, as pasted, against the local
// development issuer, configured only through the environment variables the README names.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';

const root = resolve(import.meta.dirname, '../..');

/** The first ```ts block under a `## heading` of the README. */
function firstBlockUnder(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`README has no section "${heading}"`);
  const start = readme.indexOf('\n```ts\n', at);
  const end = readme.indexOf('\n```\n', start + 1);
  return readme.slice(start + '\n```ts\n'.length, end);
}

describe('README quick start "a SaaS backend", run against the dev issuer', () => {
  let dev: DevIssuer;
  const dir = join(root, 'test', '.readme-run');
  let handle: (request: Request) => Promise<Response>;
  const saved = { ...process.env };

  beforeAll(async () => {
    dev = await startDevIssuer();
    Object.assign(process.env, {
      AUTHPLANE_PROVIDER: 'oidc',
      AUTHPLANE_ISSUER: dev.issuer,
      AUTHPLANE_AUDIENCE: dev.audience,
      AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'true',
    });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'saas-backend.ts');
    writeFileSync(file, firstBlockUnder('Quick start: a SaaS backend'));
    ({ handle } = (await import(/* @vite-ignore */ file)) as { handle: typeof handle });
  });

  afterAll(async () => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
    await dev?.stop();
  });

  const call = (token?: string) =>
    handle(
      new Request('http://127.0.0.1/sync', token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    );

  it('a token of org_acme with sync:write is served', async () => {
    const res = await call(await dev.mintServiceToken({ scope: 'sync:write' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hello: expect.any(String) });
  });

  it('a token without sync:write is 403 scope_insufficient', async () => {
    const res = await call(await dev.mintServiceToken({ scope: 'read' }));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ reason: 'scope_insufficient' });
  });

  it('no token is 401 with a bare challenge, a forged one 401 signature_invalid', async () => {
    expect((await call()).status).toBe(401);
    const token = await dev.mintServiceToken({ scope: 'sync:write' });
    // One character inside the signature changed (never the last, whose spare bits must stay zero).
    const at = token.length - 10;
    const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const res = await call(forged);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: 'signature_invalid' });
  });
});
