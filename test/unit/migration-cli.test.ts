// `authplane migrate …`, spawned as users run it: node --import tsx src/cli/index.ts.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/stores/sqlite';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'migrate', ...args], {
      cwd: root,
      env: {
        ...process.env,
        AUTHPLANE_STORE: '',
        AUTHPLANE_MIGRATION_MODE: '',
        AUTHPLANE_MIGRATION_TENANTS: '',
        AUTHPLANE_MIGRATION_ROLLOUT: '',
        ...env,
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authplane-migrate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('authplane migrate', () => {
  it('status: mode per tenant from the environment, or a config file, as a table or JSON', async () => {
    const env = await cli(['status', '--org', 'org_new'], {
      AUTHPLANE_MIGRATION_MODE: 'shadow',
      AUTHPLANE_MIGRATION_TENANTS: 'org_acme=dual',
    });
    expect(env.code).toBe(0);
    expect(env.out).toMatch(/default mode\s+shadow/);
    expect(env.out).toMatch(/org_acme\s+dual\s+org/);
    expect(env.out).toMatch(/org_new\s+shadow\s+default/);

    const config = join(dir, 'migration.json');
    await writeFile(
      config,
      JSON.stringify({
        mode: 'legacy',
        tenants: { orgs: { org_acme: 'target' }, rollout: { mode: 'dual', percent: 100 } },
      }),
    );
    const json = await cli(['status', '--config', config, '--org', 'org_x', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      default: 'legacy',
      tenants: [
        { org: null, mode: 'legacy', source: 'default' },
        { org: 'org_acme', mode: 'target', source: 'org' },
        { org: 'org_x', mode: 'dual', source: 'rollout' },
      ],
    });
    const bad = await cli(['status'], { AUTHPLANE_MIGRATION_MODE: 'sideways' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('AUTHPLANE_MIGRATION_MODE');
  });

  it('report: summarises a JSON-lines event file as a table or JSON', async () => {
    const side = { decision: 'accept', reason: null, subject: 's', orgId: 'org_acme', scopes: [], roles: [] };
    const event = (outcome: string, classes: string[], tenant = 'org_acme') =>
      JSON.stringify({
        type: 'migration.shadow',
        time: '2024-05-01T00:00:00.000Z',
        traceId: 't',
        tenant,
        outcome,
        classes,
        legacy: side,
        target: side,
      });
    const file = join(dir, 'shadow.jsonl');
    await writeFile(
      file,
      [
        event('agreed', []),
        event('diverged', ['scopes', 'roles']),
        event('diverged', ['decision'], 'org_b'),
        'not json',
        '',
      ].join('\n'),
    );
    const table = await cli(['report', '--events', file]);
    expect(table.code).toBe(0);
    expect(table.out).toContain(
      'shadow comparisons since 2024-05-01T00:00:00.000Z: 3 (agreed 1, diverged 2 = 66.7%)',
    );
    expect(table.out).toMatch(/scopes\s+1\s+33\.3%/);
    expect(table.out).toMatch(/org_acme\s+2\s+1\s+scopes:1 roles:1/);
    const json = await cli(['report', '--events', file, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({
      comparisons: 3,
      diverged: 2,
      errors: 1,
      byClass: { decision: 1, scopes: 1, roles: 1 },
    });
    expect((await cli(['report'])).code).toBe(2);
  });

  it('import-links: into a SQLite file, idempotently; an invalid file writes nothing and names the lines', async () => {
    const db = join(dir, 'links.db');
    const good = join(dir, 'links.csv');
    await writeFile(
      good,
      'type,provider,external_id,internal_id\nuser,legacy,101,usr_alice\nuser,oidc,alice,usr_alice\norg,legacy,team_7,org_acme\n',
    );
    const first = await cli(['import-links', good, '--store', `sqlite:${db}`]);
    expect(first.code).toBe(0);
    expect(first.out).toContain('3 inserted, 0 already present');
    const again = await cli(['import-links', good, '--store', `sqlite:${db}`, '--json']);
    expect(JSON.parse(again.out)).toMatchObject({ inserted: 0, unchanged: 3, links: 2, orgs: 1 });

    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      'type,provider,external_id,internal_id\nuser,legacy,102,usr_bob\nuser,legacy,101,usr_mallory\nuser,,x,y\n',
    );
    const refused = await cli(['import-links', bad, '--store', `sqlite:${db}`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('line 4: provider is empty');
    const conflict = join(dir, 'conflict.csv');
    await writeFile(
      conflict,
      'type,provider,external_id,internal_id\nuser,legacy,102,usr_bob\nuser,legacy,101,usr_mallory\n',
    );
    const conflicted = await cli(['import-links', conflict, '--store', `sqlite:${db}`]);
    expect(conflicted.code).toBe(1);
    expect(conflicted.err).toContain('line 3: the identity is already linked to another subject');

    const stores = await openSqliteStores({ filename: db });
    try {
      expect(await stores.links.resolve('legacy', '101')).toBe('usr_alice');
      expect(await stores.links.resolve('oidc', 'alice')).toBe('usr_alice');
      expect(await stores.links.resolve('legacy', '102')).toBeNull();
      expect(await stores.links.resolveOrg('legacy', 'team_7')).toBe('org_acme');
    } finally {
      await stores.close();
    }
    const dry = await cli(['import-links', conflict, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('nothing written');
  });
});
