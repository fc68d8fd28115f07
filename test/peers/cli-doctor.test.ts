// `authplane doctor` against the dev issuer, real PostgreSQL and Redis: all green when everything is
// right, and each failure it names, provoked for real.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorCommand } from '../../src/cli/commands/doctor';
import { runDoctor } from '../../src/cli/doctor/run';
import type { DoctorCheck } from '../../src/cli/doctor/types';
import { startDevIssuer } from '../../src/dev';
import type { DevIssuer } from '../../src/dev/types';
import { createPostgresStores } from '../../src/stores/postgres';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

const enabled = Boolean(DATABASE_URL && REDIS_URL);

const failures = (checks: DoctorCheck[]) => checks.filter((c) => c.status === 'fail');
const named = (checks: DoctorCheck[], name: string) => checks.filter((c) => c.name === name);

describe.skipIf(!enabled)(
  enabled ? 'authplane doctor' : 'authplane doctor (skipped: DATABASE_URL or REDIS_URL not set)',
  () => {
    let dev: DevIssuer;
    let home: string;
    let base: Record<string, string>;
    const schema = testSchema('doc');

    beforeAll(async () => {
      dev = await startDevIssuer({ port: 0 });
      home = mkdtempSync(join(tmpdir(), 'authplane-doctor-'));
      const sessions = join(home, '.config', 'authplane', 'sessions');
      mkdirSync(sessions, { recursive: true, mode: 0o700 });
      chmodSync(join(home, '.config', 'authplane'), 0o700);
      writeFileSync(join(sessions, 'a.session'), 'x', { mode: 0o600 });
      await (await createPostgresStores({ connectionString: DATABASE_URL, schema })).close();
      const store = new URL(DATABASE_URL as string);
      const redis = new URL(REDIS_URL as string);
      redis.searchParams.set('channel', `${schema}:doc`);
      const pgChannel = new URL(DATABASE_URL as string);
      pgChannel.searchParams.set('channel', `${schema}_doc`);
      base = {
        ...dev.env(),
        HOME: home,
        AUTHPLANE_STORE: store.toString(),
        AUTHPLANE_STORE_SCHEMA: schema,
        AUTHPLANE_INVALIDATION_CHANNELS: `${redis},${pgChannel}`,
      };
    }, 30_000);
    afterAll(async () => {
      await dev?.stop();
      rmSync(home, { recursive: true, force: true });
      await dropSchema(schema);
    });

    it('passes every check against a working setup, and exits 0', async () => {
      const checks = await runDoctor({ env: base });
      expect(failures(checks)).toEqual([]);
      for (const name of ['config', 'discovery', 'clock', 'jwks', 'introspection', 'store', 'session']) {
        expect(named(checks, name).map((c) => c.status)).toEqual(['ok']);
      }
      expect(named(checks, 'channels').map((c) => c.status)).toEqual(['ok', 'ok']);
      expect(JSON.stringify(checks)).not.toContain(dev.clients.service.clientSecret); // never a secret
    }, 30_000);

    it('fails discovery for an issuer that differs by a trailing slash, and for one that is down', async () => {
      const wrong = await runDoctor({ env: { ...base, AUTHPLANE_ISSUER: `${dev.issuer}/` } });
      expect(named(wrong, 'discovery')[0]).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/not the configured/),
      });
      await dev.setOnline(false);
      try {
        const down = await runDoctor({ env: base, timeoutMs: 2_000 });
        expect(named(down, 'discovery')[0]?.status).toBe('fail');
        expect(named(down, 'jwks')[0]?.status).toBe('fail');
      } finally {
        await dev.setOnline(true);
      }
    }, 30_000);

    it('fails the JWKS when no published key fits the allowed algorithms', async () => {
      const checks = await runDoctor({ env: { ...base, AUTHPLANE_ALGORITHMS: 'ES384' } });
      expect(named(checks, 'jwks')[0]).toMatchObject({
        status: 'fail',
        fix: expect.stringMatching(/AUTHPLANE_ALGORITHMS/),
      });
    }, 30_000);

    it('fails the clock when this machine is two minutes off', async () => {
      const checks = await runDoctor({ env: base, now: () => Date.now() + 120_000 });
      expect(named(checks, 'clock')[0]?.status).toBe('fail');
    }, 30_000);

    it('fails introspection with a wrong client secret, without printing it', async () => {
      const checks = await runDoctor({
        env: { ...base, AUTHPLANE_INTROSPECTION_CLIENT_SECRET: 'wrong-secret-value' },
      });
      expect(named(checks, 'introspection')[0]?.status).toBe('fail');
      expect(JSON.stringify(checks)).not.toContain('wrong-secret-value');
    }, 30_000);

    it('fails a store without migrations and an unreachable one', async () => {
      const fresh = await runDoctor({ env: { ...base, AUTHPLANE_STORE_SCHEMA: testSchema('none') } });
      expect(named(fresh, 'store')[0]).toMatchObject({
        status: 'fail',
        fix: expect.stringMatching(/db migrate/),
      });
      const down = await runDoctor({
        env: { ...base, AUTHPLANE_STORE: 'postgres://postgres@127.0.0.1:1/test' },
      });
      expect(named(down, 'store')[0]?.status).toBe('fail');
    }, 30_000);

    it('fails a channel that cannot be reached', async () => {
      const checks = await runDoctor({
        env: { ...base, AUTHPLANE_INVALIDATION_CHANNELS: 'redis://127.0.0.1:1' },
      });
      expect(named(checks, 'channels')[0]).toMatchObject({
        status: 'fail',
        message: expect.stringMatching(/127\.0\.0\.1:1/),
      });
    }, 30_000);

    it('fails a vendor adapter whose flag is on but whose settings are not, as a configuration error', async () => {
      const checks = await runDoctor({ env: { ...base, AUTHPLANE_PROVIDER: 'clerk', AUTHPLANE_FLAGS: '' } });
      expect(checks[0]).toMatchObject({ name: 'config', status: 'fail' });
    });

    it('fails a session directory open to others', async () => {
      const dir = join(home, '.config', 'authplane', 'sessions');
      chmodSync(dir, 0o755);
      try {
        const checks = await runDoctor({ env: base });
        expect(named(checks, 'session')[0]).toMatchObject({
          status: 'fail',
          fix: expect.stringMatching(/chmod 700/),
        });
      } finally {
        chmodSync(dir, 0o700);
      }
    }, 30_000);

    it('the command prints JSON and exits 1 when a check fails', async () => {
      const lines: string[] = [];
      const saved = process.env;
      process.env = { ...base, AUTHPLANE_ALGORITHMS: 'ES384' };
      try {
        const code = await doctorCommand.run(
          { values: { json: true }, positionals: [] },
          { out: (l) => lines.push(l), err: () => {}, shutdown: () => new Promise(() => {}) },
        );
        expect(code).toBe(1);
        expect(JSON.parse(lines[0] as string)).toMatchObject({ ok: false });
      } finally {
        process.env = saved;
      }
    }, 30_000);
  },
);
