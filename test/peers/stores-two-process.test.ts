import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStores } from '../../src/stores/postgres';
import { sleep } from '../contract/fixture';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

const script = fileURLToPath(new URL('./fixtures/stores-instance.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const TSX = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** `authplane …` as an operator runs it: its own process, configured by the environment. */
function cli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(root, 'src/cli/index.ts'), ...args], {
      cwd: root,
      env: { ...process.env, AUTHPLANE_INVALIDATION_CHANNELS: undefined, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** A separate OS process running one service instance, driven over stdin/stdout. */
class Instance {
  private seq = 0;
  private readonly waiting = new Map<number, (value: Record<string, unknown>) => void>();
  readonly ready: Promise<void>;
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as {
        ready?: boolean;
        seq?: number;
        result?: Record<string, unknown>;
        error?: string;
      };
      if (message.ready) return markReady();
      const resolve = this.waiting.get(message.seq as number);
      this.waiting.delete(message.seq as number);
      resolve?.(message.error ? { error: message.error } : (message.result ?? {}));
    });
  }
  static start(schema: string, channel: 'redis' | 'postgres'): Instance {
    const child = spawn('npx', ['tsx', script], {
      cwd: root,
      env: { ...process.env, AP_SCHEMA: schema, AP_CHANNEL: channel },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // Forward the instance's errors, without npm's own notices.
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (!line.startsWith('npm warn')) process.stderr.write(`[instance] ${line}\n`);
    });
    return new Instance(child);
  }
  send(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.child.stdin.write(`${JSON.stringify({ seq, ...cmd })}\n`);
    });
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await Promise.race([this.send({ op: 'close' }), sleep(3_000)]);
    if (this.child.exitCode === null) this.child.kill();
    await exited;
  }
}

async function pollUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) return Number.POSITIVE_INFINITY;
    await sleep(10);
  }
  return performance.now() - start;
}

const enabled = Boolean(DATABASE_URL && REDIS_URL);

describe.skipIf(!enabled)(
  enabled
    ? 'revocation across two processes'
    : 'revocation across two processes (skipped: DATABASE_URL or REDIS_URL not set)',
  () => {
    const schemas: string[] = [];
    afterAll(async () => {
      for (const schema of schemas) await dropSchema(schema);
    });

    for (const channel of ['redis', 'postgres'] as const) {
      it(`a key and a jti revoked on one instance are refused on the other within 1 s (${channel} channel)`, async () => {
        const schema = testSchema(`2p_${channel.slice(0, 2)}`);
        schemas.push(schema);
        // Migrate once up front so the two instances start from the same schema.
        await (await createPostgresStores({ connectionString: DATABASE_URL, schema })).close();
        const a = Instance.start(schema, channel);
        const b = Instance.start(schema, channel);
        try {
          await Promise.all([a.ready, b.ready]);
          expect(a.pid).not.toBe(b.pid);

          const { key, id } = (await a.send({ op: 'issue' })) as { key: string; id: string };
          expect(await b.send({ op: 'verify', key })).toEqual({ ok: true, subject: 'usr_ci' });
          expect(await b.send({ op: 'isRevoked', jti: 'jti-1' })).toMatchObject({
            revoked: false,
            cached: 1,
          });

          await a.send({ op: 'revoke', id });
          const keyMs = await pollUntil(
            async () => (await b.send({ op: 'verify', key })).reason === 'api_key_revoked',
            1_000,
          );
          expect(keyMs).toBeLessThan(1_000);

          await a.send({ op: 'revokeJti', jti: 'jti-1' });
          const jtiMs = await pollUntil(
            async () => (await b.send({ op: 'isRevoked', jti: 'jti-1' })).revoked === true,
            1_000,
          );
          expect(jtiMs).toBeLessThan(1_000);
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      }, 30_000);
    }

    it('`authplane keys revoke` reaches an instance listening on Redis and one on PostgreSQL', async () => {
      const schema = testSchema('2p_cli');
      schemas.push(schema);
      await (await createPostgresStores({ connectionString: DATABASE_URL, schema })).close();
      const onRedis = Instance.start(schema, 'redis');
      const onPostgres = Instance.start(schema, 'postgres');
      try {
        await Promise.all([onRedis.ready, onPostgres.ready]);
        const { key, id } = (await onRedis.send({ op: 'issue' })) as { key: string; id: string };
        for (const instance of [onRedis, onPostgres]) {
          expect(await instance.send({ op: 'verify', key })).toEqual({ ok: true, subject: 'usr_ci' }); // cached 60 s
        }
        // Configured once, for the application and the CLI alike.
        const redis = new URL(REDIS_URL as string);
        redis.searchParams.set('channel', `${schema}:inv`);
        const postgres = new URL(DATABASE_URL as string);
        postgres.searchParams.set('channel', `${schema}_inv`);
        const run = await cli(['keys', 'revoke', id, '--store', DATABASE_URL as string, '--schema', schema], {
          AUTHPLANE_INVALIDATION_CHANNELS: `${postgres},${redis}`,
        });
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        for (const instance of [onRedis, onPostgres]) {
          const ms = await pollUntil(
            async () => (await instance.send({ op: 'verify', key })).reason === 'api_key_revoked',
            3_000,
          );
          expect(ms).toBeLessThan(3_000);
        }
      } finally {
        await Promise.all([onRedis.stop(), onPostgres.stop()]);
      }
    }, 60_000);

    it('`authplane keys revoke` says so and exits 1 when a configured channel cannot be told', async () => {
      const schema = testSchema('2p_cli');
      schemas.push(schema);
      const stores = await createPostgresStores({ connectionString: DATABASE_URL, schema });
      try {
        const { createApiKeys } = await import('../../src/apikeys');
        const keys = createApiKeys({ store: stores.apiKeys, prefix: 'ap_test' });
        const { record } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
        const run = await cli(
          [
            'keys',
            'revoke',
            record.id,
            '--store',
            DATABASE_URL as string,
            '--schema',
            schema,
            '--channel',
            'redis://127.0.0.1:1',
          ],
          {},
        );
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/not every invalidation channel \(redis:\/\/127\.0\.0\.1:1\)/);
        expect((await stores.apiKeys.findById(record.id))?.revokedAt).not.toBeNull(); // revoked all the same
      } finally {
        await stores.close();
      }
    }, 30_000);
  },
);
