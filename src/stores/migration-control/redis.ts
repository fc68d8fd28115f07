// The MigrationControlStore in Redis. A change is one Lua script (atomic: version check, previous value,
// state, log, PUBLISH on the invalidation channel), so instances hear of it as it is written. Shadow
// counters are one hash per time bucket, expiring with the retention.
import type { Redis as RedisClient } from 'ioredis';
import {
  type ControlBackend,
  type ControlStoreOptions,
  createControlStore,
  targetOf,
  versionConflict,
} from '../../migration/control/store';
import {
  type ControlChange,
  type ControlEntry,
  type ControlValue,
  type MigrationControlStore,
  SHADOW_COUNTERS,
  type ShadowBucket,
  type ShadowCounts,
} from '../../migration/control/types';
import { toStoreError } from '../errors';

const MAX_LOG = 10_000;

// KEYS: entries hash, values hash, log list, version key. ARGV: key, value ('' = clear), expected
// version ('' = any), actor, reason, at, rollbackOf, channel ('' = none).
const APPLY = `
local cur = tonumber(redis.call('GET', KEYS[4]) or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= cur then return false end
local prev = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local v = cur + 1
redis.call('SET', KEYS[4], v)
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ version = v, actor = ARGV[4], reason = ARGV[5], at = ARGV[6] }))
end
local entry = cjson.encode({ version = v, key = ARGV[1], value = ARGV[2], previous = prev,
  actor = ARGV[4], reason = ARGV[5], at = ARGV[6], rollbackOf = ARGV[7] })
redis.call('LPUSH', KEYS[3], entry)
redis.call('LTRIM', KEYS[3], 0, ${MAX_LOG - 1})
if ARGV[8] ~= '' then
  redis.call('PUBLISH', ARGV[8], cjson.encode({ type = 'migration_control', version = v }))
end
return entry`;

interface LogJson {
  version: number;
  key: string;
  value: string;
  previous: string;
  actor: string;
  reason: string;
  at: string;
  rollbackOf: string;
}

const parseValue = (text: string): ControlValue | null =>
  text === '' ? null : (JSON.parse(text) as ControlValue);

function changeFromJson(text: string): ControlChange {
  const e = JSON.parse(text) as LogJson;
  return {
    version: Number(e.version),
    target: targetOf(e.key),
    value: parseValue(e.value),
    previous: parseValue(e.previous),
    actor: e.actor,
    reason: e.reason === '' ? null : e.reason,
    at: new Date(Number(e.at)),
    rollbackOf: e.rollbackOf === '' ? null : Number(e.rollbackOf),
  };
}

/**
 * Options of {@link createRedisMigrationControlStore}.
 *
 * @example
 * ```ts
 * createRedisMigrationControlStore({ client, keyPrefix: 'authplane:', channel: 'authplane:invalidation' });
 * ```
 */
export interface RedisControlOptions extends ControlStoreOptions {
  /** A connected client; not closed by `close()`. */
  readonly client: RedisClient;
  /** Prefix of every key. Default `authplane:`. */
  readonly keyPrefix?: string;
  /** The invalidation channel changes are published on, or null. Default `authplane:invalidation`. */
  readonly channel?: string | null;
}

/**
 * The {@link MigrationControlStore} over Redis (what `openRedisStores` returns as `migrationControl`).
 *
 * @example
 * ```ts
 * const { migrationControl } = await openRedisStores({ url: process.env.REDIS_URL });
 * await migrationControl.change({ target: { scope: 'rollout' }, value: { mode: 'dual', percent: 10 }, actor: 'ops' });
 * ```
 */
export function createRedisMigrationControlStore(options: RedisControlOptions): MigrationControlStore {
  const { client } = options;
  const prefix = `${options.keyPrefix ?? 'authplane:'}ctl:`;
  const channel = options.channel === undefined ? 'authplane:invalidation' : options.channel;
  const keys = [`${prefix}entries`, `${prefix}values`, `${prefix}log`, `${prefix}version`];
  const shadowIndex = `${prefix}shadow`;
  const wrap = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, op);
    }
  };
  const version = () =>
    wrap('reading the migration control version', async () =>
      Number((await client.get(keys[3] as string)) ?? 0),
    );

  const backend: ControlBackend = {
    async read() {
      return wrap('reading the migration control', async () => {
        const tx = await client
          .multi()
          .hgetall(keys[0] as string)
          .hgetall(keys[1] as string)
          .get(keys[3] as string)
          .exec();
        if (!tx || tx.some(([err]) => err)) throw tx?.find(([err]) => err)?.[0] ?? new Error('aborted');
        const meta = tx[0]?.[1] as Record<string, string>;
        const values = tx[1]?.[1] as Record<string, string>;
        const entries: Array<readonly [string, ControlEntry]> = [];
        for (const [key, json] of Object.entries(meta)) {
          const value = values[key];
          if (value === undefined) continue;
          const m = JSON.parse(json) as { version: number; actor: string; reason: string; at: string };
          entries.push([
            key,
            {
              value: JSON.parse(value) as ControlValue,
              version: Number(m.version),
              actor: m.actor,
              reason: m.reason === '' ? null : m.reason,
              at: new Date(Number(m.at)),
            },
          ]);
        }
        return { version: Number(tx[2]?.[1] ?? 0), entries };
      });
    },
    version,
    async apply(write) {
      const out = await wrap('changing the migration control', () =>
        client.eval(
          APPLY,
          keys.length,
          ...keys,
          write.key,
          write.value === null ? '' : JSON.stringify(write.value),
          write.expectedVersion === undefined ? '' : String(write.expectedVersion),
          write.actor,
          write.reason ?? '',
          String(write.at.getTime()),
          write.rollbackOf === null ? '' : String(write.rollbackOf),
          channel ?? '',
        ),
      );
      if (typeof out !== 'string') throw versionConflict();
      return changeFromJson(out);
    },
    async history(key, limit) {
      return wrap('reading the migration control history', async () => {
        const out: ControlChange[] = [];
        for (const text of await client.lrange(keys[2] as string, 0, MAX_LOG - 1)) {
          if (key !== null && (JSON.parse(text) as LogJson).key !== key) continue;
          out.push(changeFromJson(text));
          if (out.length >= limit) break;
        }
        return out;
      });
    },
    async addShadow(buckets, pruneBefore) {
      const retention = Date.now() - pruneBefore;
      await wrap('recording shadow counters', async () => {
        const tx = client.multi();
        const touched = new Set<number>();
        for (const b of buckets) {
          const key = `${shadowIndex}:${b.start}`;
          for (const c of SHADOW_COUNTERS)
            if (b.counts[c] > 0) tx.hincrby(key, `${b.tenant}|${c}`, b.counts[c]);
          if (!touched.has(b.start)) {
            touched.add(b.start);
            tx.hsetnx(key, '|', '1'); // an all-zero bucket still exists, like in the other stores
            tx.pexpireat(key, b.start + retention);
            tx.zadd(shadowIndex, b.start, String(b.start));
          }
        }
        tx.zremrangebyscore(shadowIndex, '-inf', `(${pruneBefore}`);
        const results = await tx.exec();
        const failed = results?.find(([err]) => err);
        if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
      });
    },
    async readShadow(since, until) {
      return wrap('reading shadow counters', async () => {
        const starts = await client.zrangebyscore(shadowIndex, since, `(${until}`);
        const out: ShadowBucket[] = [];
        for (const start of starts) {
          const fields = await client.hgetall(`${shadowIndex}:${start}`);
          const byTenant = new Map<string, Record<string, number>>();
          for (const [field, n] of Object.entries(fields)) {
            const cut = field.lastIndexOf('|');
            if (cut <= 0) continue;
            const tenant = field.slice(0, cut);
            let counts = byTenant.get(tenant);
            if (!counts) {
              counts = Object.fromEntries(SHADOW_COUNTERS.map((c) => [c, 0]));
              byTenant.set(tenant, counts);
            }
            counts[field.slice(cut + 1)] = Number(n);
          }
          for (const tenant of [...byTenant.keys()].sort())
            out.push({
              start: Number(start),
              tenant,
              counts: byTenant.get(tenant) as unknown as ShadowCounts,
            });
        }
        return out;
      });
    },
    async close() {},
  };
  return createControlStore(backend, options);
}
