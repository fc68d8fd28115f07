// `authplane migrate set | rollout | rollback | history | status | report --store …` through the CLI's
// own dispatcher, against SQLite, real PostgreSQL and real Redis.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/types';
import { openControlStore } from '../../src/migration/control/open';
import { EMPTY_SHADOW_COUNTS } from '../../src/migration/control/store';
import { uid } from '../contract/fixture';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

const dir = mkdtempSync(join(tmpdir(), 'authplane-ctl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    shutdown: () => new Promise(() => {}),
  };
  const code = await run(['migrate', ...args], io);
  return { code, out, err };
}

function suite(label: string, spec: () => string, extra: string[] = [], cleanup?: () => Promise<void>) {
  describe(`migrate control commands: ${label}`, () => {
    afterAll(async () => cleanup?.());
    it('set, rollout, history, rollback, status and report, each change audited', async () => {
      const store = ['--store', spec(), ...extra];
      const auditLog = join(dir, `${uid('audit')}.jsonl`);
      const set = await cli([
        'set',
        '--org',
        'org_acme',
        '--mode',
        'dual',
        '--reason',
        'ticket 42',
        '--actor',
        'alice',
        '--audit-log',
        auditLog,
        '--json',
        ...store,
      ]);
      expect(set.code).toBe(0);
      expect(JSON.parse(set.out[0] as string).change).toMatchObject({
        version: 1,
        value: { mode: 'dual' },
        actor: 'alice',
        reason: 'ticket 42',
      });
      expect(
        (await cli(['rollout', '--mode', 'shadow', '--percent', '10', '--audit-log', auditLog, ...store]))
          .code,
      ).toBe(0);
      expect(
        (await cli(['set', '--org', 'org_acme', '--mode', 'target', '--audit-log', auditLog, ...store])).code,
      ).toBe(0);
      const back = await cli([
        'rollback',
        '--org',
        'org_acme',
        '--reason',
        'errors',
        '--audit-log',
        auditLog,
        '--json',
        ...store,
      ]);
      expect(JSON.parse(back.out[0] as string).change).toMatchObject({
        version: 4,
        value: { mode: 'dual' },
        rollbackOf: 3,
      });
      const history = await cli(['history', '--org', 'org_acme', '--json', ...store]);
      expect(JSON.parse(history.out[0] as string).changes.map((c: { version: number }) => c.version)).toEqual(
        [4, 3, 1],
      );
      const text = await cli(['history', ...store]);
      expect(text.out[0]).toMatch(/^v4 .* org_acme: target -> dual {2}by cli:.*rollback of v3.*"errors"/);
      const audits = readFileSync(auditLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(audits.map((a) => a.action)).toEqual([
        'migration.mode.set',
        'migration.rollout.set',
        'migration.mode.set',
        'migration.mode.rollback',
      ]);
      expect(audits[0]).toMatchObject({
        type: 'privileged',
        outcome: 'succeeded',
        orgId: 'org_acme',
        details: { actor: 'alice', via: 'cli', mode: 'dual', reason: 'ticket 42' },
      });

      const opened = await openControlStore(spec(), { schema: extra[1] });
      await opened.store.recordShadow([
        {
          start: Date.now() - 60_000,
          tenant: 'org_acme',
          counts: { ...EMPTY_SHADOW_COUNTS, comparisons: 150, agreed: 150, target: 3 },
        },
      ]);
      await opened.close();
      const status = await cli(['status', '--json', ...store]);
      const parsed = JSON.parse(status.out[0] as string);
      expect(parsed.state.orgs.org_acme.value.mode).toBe('dual');
      expect(parsed.readiness.org_acme).toMatchObject({ dual: { ready: true }, target: { ready: true } });
      const report = await cli(['report', '--json', ...store]);
      expect(JSON.parse(report.out[0] as string).tenants.org_acme.counts.comparisons).toBe(150);
      expect((await cli(['report', ...store])).out.join('\n')).toMatch(/org_acme\s+150\s+0/);
      // Credentials in the spec never reach the output.
      expect([...set.out, ...status.out].join('\n')).not.toMatch(/:[^@/]*@/);
    });

    it('refuses bad input without writing, and reports a failed change to the audit log', async () => {
      const store = ['--store', spec(), ...extra];
      expect((await cli(['set', '--org', 'org_x', '--mode', 'everything', ...store])).code).toBe(2);
      expect((await cli(['rollout', '--mode', 'dual', '--percent', '250', ...store])).code).toBe(2);
      expect((await cli(['set', '--org', 'a', '--org', 'b', '--mode', 'dual', ...store])).code).toBe(2);
      const auditLog = join(dir, `${uid('audit')}.jsonl`);
      const never = await cli(['rollback', '--org', `org_${uid('n')}`, '--audit-log', auditLog, ...store]);
      expect(never.code).toBe(1);
      expect(JSON.parse(readFileSync(auditLog, 'utf8'))).toMatchObject({
        action: 'migration.mode.rollback',
        outcome: 'failed',
        details: { error: 'store_conflict' },
      });
    });
  });
}

suite('sqlite', () => `sqlite:${join(dir, 'control.db')}`);

if (DATABASE_URL) {
  const schema = testSchema('ctlcli');
  suite(
    'postgres',
    () => DATABASE_URL as string,
    ['--schema', schema],
    () => dropSchema(schema),
  );
} else it.skip('postgres (skipped: DATABASE_URL not set)', () => {});

if (REDIS_URL) {
  const prefix = `${uid('cli')}:`;
  const spec = `${REDIS_URL}?prefix=${prefix}`;
  suite(
    'redis',
    () => spec,
    [],
    async () => {
      const { Redis } = await import('ioredis');
      const client = new Redis(REDIS_URL as string);
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  );
} else it.skip('redis (skipped: REDIS_URL not set)', () => {});

it('refuses a store spec of another kind', async () => {
  expect((await cli(['set', '--org', 'o', '--mode', 'dual', '--store', 'mysql://db'])).code).toBe(2);
});
