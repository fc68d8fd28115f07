import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStores } from '../../src/stores/postgres';
import { sleep } from '../contract/fixture';
import { DATABASE_URL, dropSchema, REDIS_URL, testSchema } from './pg-helpers';

const script = fileURLToPath(new URL('./fixtures/stores-instance.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

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
  },
);
