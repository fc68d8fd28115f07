// `authplane keys` and `authplane db migrate` as users run them: spawned processes against a temp SQLite
// file (and PostgreSQL when DATABASE_URL is set), then the created keys verified through createApiKeys.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKeys } from '../../src/apikeys/keys';
import { parseDuration } from '../../src/cli/commands/keys';
import { POSTGRES_MIGRATIONS } from '../../src/stores/postgres/migrations';
import { openSqliteStores } from '../../src/stores/sqlite';

const root = fileURLToPath(new URL('../../', import.meta.url));
// By URL, so that a run from another working directory (the default-store case) still finds tsx.
const TSX = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'authplane-cli-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  cwd = root,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(root, 'src/cli/index.ts'), ...args], {
      cwd,
      env: { ...process.env, AUTHPLANE_STORE: undefined, AUTHPLANE_API_KEY_PREFIX: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const KEY = /ap_live_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}/g;

async function verifyWith(filename: string, key: string, prefix = 'ap_live') {
  const stores = await openSqliteStores({ filename });
  const keys = createApiKeys({ store: stores.apiKeys, prefix });
  try {
    return await keys.verify(key);
  } finally {
    await keys.close();
    await stores.close();
  }
}

describe('authplane keys (SQLite file)', () => {
  const db = join(dir, 'keys.db');
  const store = `sqlite:${db}`;

  it('creates a key (printed once, with a warning), lists it without the key, and the key verifies', async () => {
    const created = await cli([
      'keys',
      'create',
      '--org',
      'org_acme',
      '--owner',
      'usr_ci',
      '--scopes',
      'sync:write,read',
      '--expires',
      '30d',
      '--name',
      'GitHub Actions',
      '--store',
      store,
      '--json',
    ]);
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout) as {
      key: string;
      record: Record<string, unknown>;
      warning: string;
    };
    expect(body.key).toMatch(KEY);
    expect(body.record).toMatchObject({
      orgId: 'org_acme',
      ownerId: 'usr_ci',
      scopes: ['sync:write', 'read'],
      name: 'GitHub Actions',
      status: 'active',
    });
    expect(Date.parse(body.record.expiresAt as string) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(created.stderr).toContain('shown only once');
    expect(created.stderr).not.toContain(body.key);
    expect(JSON.stringify(body.record)).not.toContain(body.key.slice(-38));

    const verified = await verifyWith(db, body.key);
    expect(verified.ok && verified.principal).toMatchObject({
      subject: 'usr_ci',
      orgId: 'org_acme',
      kind: 'api_key',
      providerSubject: body.record.id,
    });

    const human = await cli([
      'keys',
      'create',
      '--org',
      'org_acme',
      '--owner',
      'usr_2',
      '--scopes',
      'read',
      '--store',
      store,
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Created API key \S+ in sqlite:/);
    expect(human.stdout.match(KEY)).toHaveLength(1);
    expect(human.stderr).toContain('Store this key now');

    const listed = await cli(['keys', 'list', '--org', 'org_acme', '--store', store, '--json']);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.ownerId).sort()).toEqual(['usr_2', 'usr_ci']);
    expect(listed.stdout).not.toMatch(KEY);
    expect(listed.stdout).not.toContain('hash');

    const table = await cli(['keys', 'list', '--owner', 'usr_ci', '--store', store]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+SCOPES/);
    expect(table.stdout).toContain('GitHub Actions');
    expect(table.stdout).not.toMatch(KEY);
  });

  it('revokes (the key then fails api_key_revoked) and rotates with an overlap', async () => {
    const created = JSON.parse(
      (
        await cli([
          'keys',
          'create',
          '--org',
          'org_r',
          '--owner',
          'usr_r',
          '--scopes',
          'deploy',
          '--store',
          store,
          '--json',
        ])
      ).stdout,
    ) as { key: string; record: { id: string } };

    const rotated = await cli([
      'keys',
      'rotate',
      created.record.id,
      '--overlap',
      '1h',
      '--store',
      store,
      '--json',
    ]);
    expect(rotated.code).toBe(0);
    const r = JSON.parse(rotated.stdout) as {
      key: string;
      record: { id: string };
      previous: { expiresAt: string; replacedBy: string };
    };
    expect(r.key).toMatch(KEY);
    expect(r.key).not.toBe(created.key);
    expect(r.previous.replacedBy).toBe(r.record.id);
    expect(Math.abs(Date.parse(r.previous.expiresAt) - Date.now() - 3_600_000)).toBeLessThan(60_000);
    expect(rotated.stderr).toContain('shown only once');
    // Both work during the overlap.
    expect((await verifyWith(db, created.key)).ok).toBe(true);
    expect((await verifyWith(db, r.key)).ok).toBe(true);

    const revoked = await cli(['keys', 'revoke', r.record.id, '--store', store]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API key ${r.record.id}`);
    const after = await verifyWith(db, r.key);
    expect(!after.ok && after.failure.reason).toBe('api_key_revoked');

    const unknown = await cli(['keys', 'revoke', 'nope', '--store', store]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No API key has this id');
    const again = await cli(['keys', 'rotate', created.record.id, '--store', store]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already rotated');
  });

  it('uses AUTHPLANE_STORE, then the default ./.authplane/authplane.db, and --prefix', async () => {
    const viaEnv = join(dir, 'env.db');
    const created = await cli(
      ['keys', 'create', '--org', 'o', '--owner', 'u', '--scopes', 's', '--prefix', 'ap_test', '--json'],
      { AUTHPLANE_STORE: `sqlite:${viaEnv}` },
    );
    expect(created.code).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    expect(key.startsWith('ap_test_')).toBe(true);
    expect((await verifyWith(viaEnv, key, 'ap_test')).ok).toBe(true);

    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const byDefault = await cli(['keys', 'create', '--org', 'o', '--owner', 'u', '--scopes', 's'], {}, cwd);
    expect(byDefault.code).toBe(0);
    expect(existsSync(join(cwd, '.authplane', 'authplane.db'))).toBe(true);
  });

  it('refuses usage mistakes with exit 2 and the usage text', async () => {
    const cases: string[][] = [
      ['keys'],
      ['keys', 'burn'],
      ['keys', 'create', '--org', 'o', '--owner', 'u'],
      ['keys', 'create', '--org', 'o', '--owner', 'u', '--scopes', 's', '--expires', 'soon'],
      ['keys', 'create', '--org', 'o', '--owner', 'u', '--scopes', 'has space'],
      ['keys', 'list'],
      ['keys', 'list', '--org', 'o', '--owner', 'u'],
      ['keys', 'revoke'],
      ['keys', 'revoke', 'a', '--scopes', 'x'],
      ['keys', 'list', '--org', 'o', '--store', 'mysql://x'],
      ['db', 'upgrade'],
    ];
    const usageStore = `sqlite:${join(dir, 'usage.db')}`;
    const results = await Promise.all(
      cases.map((args) => cli(args.includes('--store') ? args : [...args, '--store', usageStore])),
    );
    for (const [i, result] of results.entries()) {
      expect(result.code, cases[i]?.join(' ')).toBe(2);
      expect(result.stderr, cases[i]?.join(' ')).toMatch(/Usage: authplane (keys|db)/);
    }
  });

  it('db migrate on SQLite creates the file and reports its schema version', async () => {
    const file = join(dir, 'nested', 'migrate.db');
    const result = await cli(['db', 'migrate', '--store', `sqlite:${file}`, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).version).toBeGreaterThanOrEqual(2);
    expect(existsSync(file)).toBe(true);
  });

  it('parses durations', () => {
    expect(parseDuration('90m', '--x')).toBe(5400);
    expect(parseDuration('2w', '--x')).toBe(1_209_600);
    expect(parseDuration('0s', '--x')).toBe(0);
    expect(() => parseDuration('1y', '--expires')).toThrow('--expires must be a duration');
  });
});

describe.skipIf(!process.env.DATABASE_URL)(
  process.env.DATABASE_URL
    ? 'authplane db migrate and keys on PostgreSQL'
    : 'authplane db migrate and keys on PostgreSQL (skipped: DATABASE_URL not set)',
  () => {
    it('applies the migrations once, then keys create/list/revoke work on that schema', async () => {
      const { dropSchema, testSchema } = await import('../peers/pg-helpers');
      const schema = testSchema('cli');
      const url = process.env.DATABASE_URL as string;
      try {
        const first = await cli(['db', 'migrate', '--store', url, '--schema', schema, '--json']);
        expect(first.code, first.stderr).toBe(0);
        expect(JSON.parse(first.stdout)).toMatchObject({
          schema,
          applied: POSTGRES_MIGRATIONS.map((m) => m.version),
        });
        expect(first.stdout).not.toContain('postgres@'); // no credentials in output
        const second = await cli(['db', 'migrate', '--store', url, '--schema', schema]);
        expect(second.code).toBe(0);
        expect(second.stdout).toContain('is up to date');

        const created = await cli([
          'keys',
          'create',
          '--org',
          'o_pg',
          '--owner',
          'u',
          '--scopes',
          'a',
          '--store',
          url,
          '--schema',
          schema,
          '--json',
        ]);
        expect(created.code, created.stderr).toBe(0);
        const { key, record } = JSON.parse(created.stdout) as { key: string; record: { id: string } };
        const { createPostgresStores } = await import('../../src/stores/postgres/index');
        const pg = await createPostgresStores({ connectionString: url, schema, migrate: false });
        const keys = createApiKeys({ store: pg.apiKeys, prefix: 'ap_live' });
        try {
          expect((await keys.verify(key)).ok).toBe(true);
          expect((await cli(['keys', 'revoke', record.id, '--store', url, '--schema', schema])).code).toBe(0);
          const after = await keys.verify(key);
          expect(!after.ok && after.failure.reason).toBe('api_key_revoked');
        } finally {
          await keys.close();
          await pg.close();
        }
      } finally {
        await dropSchema(schema);
      }
    });
  },
);
