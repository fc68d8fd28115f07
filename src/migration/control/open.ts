// Opens a MigrationControlStore from a spec string (`sqlite:<path>`, `postgres://…`, `redis://…`), for
// the CLI, the dashboard and `control: { store: 'postgres://…' }` in configuration. Drivers load lazily.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../core/errors';
import type { InvalidationChannel } from '../../stores/contracts';
import type { MigrationControlStore } from './types';

/**
 * An opened control store, its change channel (when the store has one and `listen` was asked) and how
 * to release both.
 *
 * @example
 * ```ts
 * const opened = await openControlStore('redis://127.0.0.1:6379', { listen: true });
 * try { await opened.store.read(); } finally { await opened.close(); }
 * ```
 */
export interface OpenedControlStore {
  readonly store: MigrationControlStore;
  readonly channel?: InvalidationChannel;
  /** The spec without credentials, for people. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * A spec without its password: `postgres://db:5432/app`, `redis://cache:6379`, `sqlite:/abs/path`.
 *
 * @example
 * ```ts
 * describeControlStore('postgres://u:pw@db/app'); // 'postgres://db/app'
 * ```
 */
export function describeControlStore(spec: string): string {
  if (spec.startsWith('sqlite:')) return `sqlite:${resolve(spec.slice(7))}`;
  try {
    const url = new URL(spec);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}${url.searchParams.has('prefix') ? `?prefix=${url.searchParams.get('prefix')}` : ''}`;
  } catch {
    return 'store';
  }
}

/**
 * Opens the control store a spec names (`redis://…?prefix=app:` sets the Redis key prefix). PostgreSQL
 * applies pending migrations; `listen` also opens the
 * LISTEN connection (PostgreSQL) or subscriber (Redis) that announces changes.
 *
 * @throws ConfigError for a spec of another kind; StoreError when the store cannot be reached.
 * @example
 * ```ts
 * const { store, channel, close } = await openControlStore(process.env.AUTHPLANE_MIGRATION_STORE ?? '', { listen: true });
 * ```
 */
export async function openControlStore(
  spec: string,
  options: { listen?: boolean; schema?: string } = {},
): Promise<OpenedControlStore> {
  const description = describeControlStore(spec);
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path === '') throw new ConfigError('control.store', 'sqlite: needs a file path');
    const filename = path === ':memory:' ? path : resolve(path);
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
    const { openSqliteStores } = await import('../../stores/sqlite');
    const stores = await openSqliteStores({ filename });
    return { store: stores.migrationControl, description, close: () => stores.close() };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { createPostgresStores, createPostgresInvalidationChannel } = await import(
      '../../stores/postgres/index'
    );
    const stores = await createPostgresStores({ connectionString: spec, schema: options.schema ?? 'public' });
    let channel: InvalidationChannel | undefined;
    if (options.listen) {
      try {
        channel = await createPostgresInvalidationChannel({ pool: stores.pool });
      } catch (err) {
        await stores.close();
        throw err;
      }
    }
    return {
      store: stores.migrationControl,
      channel,
      description,
      async close() {
        await channel?.close();
        await stores.close();
      },
    };
  }
  if (/^rediss?:\/\//.test(spec)) {
    const { openRedisStores } = await import('../../stores/redis');
    // `?prefix=app:` picks the key prefix (default `authplane:`); ioredis gets the URL without it.
    const url = new URL(spec);
    const keyPrefix = url.searchParams.get('prefix') ?? undefined;
    url.searchParams.delete('prefix');
    const stores = await openRedisStores({ url: url.href, keyPrefix });
    return {
      store: stores.migrationControl,
      channel: stores.channel,
      description,
      close: () => stores.close(),
    };
  }
  throw new ConfigError('control.store', 'must be sqlite:<path>, postgres://… or redis://…');
}
