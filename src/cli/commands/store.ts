import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ApiKeyStore } from '../../stores/contracts';
import { StoreError } from '../../stores/errors';
import { UsageError } from '../types';

/** Where `authplane keys` and `authplane db migrate` work when neither `--store` nor `AUTHPLANE_STORE` is set. */
export const DEFAULT_STORE = 'sqlite:./.authplane/authplane.db';

/**
 * A parsed `--store` value: the embedded SQLite file, or a PostgreSQL connection string.
 *
 * @example
 * ```ts
 * parseStoreSpec('sqlite:./data/keys.db'); // { kind: 'sqlite', filename: '/abs/data/keys.db' }
 * ```
 */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly filename: string }
  | { readonly kind: 'postgres'; readonly connectionString: string };

/**
 * Reads `--store` (else `AUTHPLANE_STORE`, else {@link DEFAULT_STORE}): `sqlite:<path>` or
 * `postgres://…` / `postgresql://…`.
 *
 * @throws UsageError for anything else.
 * @example
 * ```ts
 * const spec = parseStoreSpec(values.store as string | undefined, process.env);
 * ```
 */
export function parseStoreSpec(
  value: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StoreSpec {
  const raw = (value ?? env.AUTHPLANE_STORE ?? '').trim() || DEFAULT_STORE;
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (path === '') throw new UsageError('--store sqlite: needs a file path (sqlite:./authplane.db)');
    return { kind: 'sqlite', filename: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) return { kind: 'postgres', connectionString: raw };
  throw new UsageError('--store must be sqlite:<path> or a postgres:// connection string');
}

/**
 * A store as shown to people: the SQLite path, or the PostgreSQL host and database without credentials.
 *
 * @example
 * ```ts
 * describeStore({ kind: 'postgres', connectionString: 'postgres://u:pw@db:5432/app' }); // 'postgres://db:5432/app'
 * ```
 */
export function describeStore(spec: StoreSpec): string {
  if (spec.kind === 'sqlite') return `sqlite:${spec.filename}`;
  try {
    const url = new URL(spec.connectionString);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}

/**
 * The API key store a CLI command works on, and how to release it.
 *
 * @example
 * ```ts
 * const opened = await openKeyStore(spec, { schema: 'public' });
 * try { … } finally { await opened.close(); }
 * ```
 */
export interface OpenedStore {
  readonly apiKeys: ApiKeyStore;
  close(): Promise<void>;
}

/**
 * Opens the configured store. SQLite: the file and its directory are created (schema on open).
 * PostgreSQL: `createPostgresStores` applies pending migrations first, so `keys create` works on a fresh
 * database too (`authplane db migrate` does the same on its own, for deploy pipelines).
 *
 * @example
 * ```ts
 * const { apiKeys, close } = await openKeyStore(parseStoreSpec(undefined));
 * ```
 */
export async function openKeyStore(spec: StoreSpec, options: { schema?: string } = {}): Promise<OpenedStore> {
  if (spec.kind === 'sqlite') {
    if (spec.filename !== ':memory:') mkdirSync(dirname(spec.filename), { recursive: true, mode: 0o700 });
    const { openSqliteStores } = await import('../../stores/sqlite');
    const stores = await openSqliteStores({ filename: spec.filename });
    return { apiKeys: stores.apiKeys, close: () => stores.close() };
  }
  const { createPostgresStores } = await import('../../stores/postgres/index');
  const stores = await createPostgresStores({
    connectionString: spec.connectionString,
    schema: options.schema ?? 'public',
    migrate: true,
  });
  return { apiKeys: stores.apiKeys, close: () => stores.close() };
}

/** The first `code` along an error's cause chain (ECONNREFUSED, ENOTFOUND, …): never a credential. */
function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, errors } = current as { code?: unknown; errors?: unknown };
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    // net.connect to a host with several addresses fails with an AggregateError.
    if (Array.isArray(errors)) return causeCode(errors[0]);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A store failure as people should read it: the message, then which store (host and database, or the
 * SQLite path; never the user or password of a connection string) and the network error code.
 * Undefined when `err` is not a store failure.
 *
 * @example
 * ```ts
 * storeFailureMessage(err, values.store) // 'The store failed during connecting (store postgres://db:5432/app, ECONNREFUSED)'
 * ```
 */
export function storeFailureMessage(
  err: unknown,
  storeFlag: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (!(err instanceof StoreError)) return undefined;
  let where: string;
  try {
    where = describeStore(parseStoreSpec(typeof storeFlag === 'string' ? storeFlag : undefined, env));
  } catch {
    return undefined;
  }
  const code = causeCode(err.cause);
  return `${err.message} (store ${where}${code ? `, ${code}` : ''})`;
}
