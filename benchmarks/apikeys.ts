// API-key verify/s: authplane's createApiKeys over the memory store, the SQLite file and PostgreSQL behind
// the invalidation-driven cache, beside a bare SHA-256 + Map lookup (the physical limit of any hashed-key
// check). Every contender verifies the same 1 000 real keys round-robin.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiKeys, createApiKeys } from '../src/apikeys/keys';
import { createCachedApiKeyStore } from '../src/stores/cache';
import type { ApiKeyStore } from '../src/stores/contracts';
import { createMemoryApiKeyStore } from '../src/stores/memory';
import { openSqliteStores } from '../src/stores/sqlite';
import { type Contender, measureAll, report } from './harness';

const KEYS = 1000;
const PREFIX = 'ap_live';

async function issueAll(keys: ApiKeys): Promise<string[]> {
  const issued: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const { key } = await keys.issue({ ownerId: `usr_${i}`, orgId: 'org_bench', scopes: ['sync:write'] });
    issued.push(key);
  }
  return issued;
}

function contender(name: string, keys: ApiKeys, issued: readonly string[]): Contender {
  return {
    name,
    role: 'authplane',
    run: async (i) => {
      const result = await keys.verify(issued[i % KEYS] as string);
      if (!result.ok) throw new Error(`bench: a valid key was refused (${result.failure.reason})`);
    },
  };
}

/**
 * Measures API-key verification per second and prints one table (ratios to the bare SHA-256 + Map
 * lookup). PostgreSQL runs only with `DATABASE_URL` (its row is skipped with the reason otherwise), in a
 * throw-away schema that is dropped afterwards. Aim: >= 100k/s with the memory store.
 *
 * @example
 * ```ts
 * await benchApiKeys(Number(process.env.BENCH_MS ?? 1500));
 * ```
 */
export async function benchApiKeys(durationMs: number): Promise<void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const contenders: Contender[] = [];
  try {
    // The limit: what any hashed-key verifier must at least do.
    const map = new Map<string, { ownerId: string }>();
    const bareKeys = Array.from({ length: KEYS }, (_, i) => {
      const key = `${PREFIX}_${randomBytes(30).toString('base64url')}`;
      map.set(createHash('sha256').update(key).digest('hex'), { ownerId: `usr_${i}` });
      return key;
    });
    contenders.push({
      name: 'bare sha256 + Map.get (limit)',
      role: 'limit',
      run: (i) => {
        if (
          !map.get(
            createHash('sha256')
              .update(bareKeys[i % KEYS] as string)
              .digest('hex'),
          )
        )
          throw new Error('miss');
      },
    });

    const withStore = async (name: string, store: ApiKeyStore) => {
      const keys = createApiKeys({ store, prefix: PREFIX });
      cleanups.push(() => keys.close());
      contenders.push(contender(name, keys, await issueAll(keys)));
    };

    await withStore('authplane keys.verify (memory store)', createMemoryApiKeyStore());

    const dir = mkdtempSync(join(tmpdir(), 'authplane-bench-keys-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sqlite = await openSqliteStores({ filename: join(dir, 'bench.db') });
    cleanups.push(() => sqlite.close());
    await withStore('authplane keys.verify (SQLite file)', sqlite.apiKeys);

    const url = process.env.DATABASE_URL;
    if (url) {
      const { createPostgresInvalidationChannel, createPostgresStores } = await import(
        '../src/stores/postgres/index'
      );
      const schema = `ap_bench_${randomBytes(4).toString('hex')}`;
      const pg = await createPostgresStores({ connectionString: url, schema });
      cleanups.push(async () => {
        await pg.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pg.close();
      });
      const channel = await createPostgresInvalidationChannel({ pool: pg.pool });
      cleanups.push(() => channel.close());
      await withStore(
        'authplane keys.verify (PostgreSQL + cache)',
        createCachedApiKeyStore({ store: pg.apiKeys, channel }),
      );
    } else {
      console.log('\n(API keys, PostgreSQL + cache: skipped, DATABASE_URL is not set)');
    }

    report('API key verify (1 000 keys, sequential)', await measureAll(contenders, durationMs));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
