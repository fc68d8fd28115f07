// PostgreSQL schema, shipped in the package as numbered migrations. `migratePostgres` applies the missing
// ones in one transaction under an advisory lock, so several instances (or `authplane db migrate` and a
// server) starting at once apply each migration exactly once. Never edit a published migration: add one.
import type { Pool, PoolClient } from 'pg';
import type { PgPool } from '../driver-types';
import { toStoreError } from '../errors';
import { CONNECTIONS_BY_ORG_SQL } from './connections';

/**
 * One schema step. `sql` may contain several statements; `{schema}` is replaced by the quoted schema name.
 *
 * @example
 * ```ts
 * const last = POSTGRES_MIGRATIONS.at(-1)?.version;
 * ```
 */
export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The migrations, in order. Versions are dense and start at 1.
 *
 * @example
 * ```ts
 * for (const m of POSTGRES_MIGRATIONS) console.log(m.version, m.name);
 * ```
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  {
    version: 1,
    name: 'stores',
    sql: `
      CREATE TABLE {schema}.api_keys (
        id text PRIMARY KEY,
        hash text NOT NULL,
        prefix text NOT NULL,
        owner_id text NOT NULL,
        org_id text NOT NULL,
        scopes text[] NOT NULL,
        name text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        replaced_by text
      );
      CREATE INDEX api_keys_org ON {schema}.api_keys (org_id, created_at);
      CREATE INDEX api_keys_owner ON {schema}.api_keys (owner_id, created_at);
      CREATE TABLE {schema}.revocations (
        kind char(1) NOT NULL,
        value text NOT NULL,
        until timestamptz NOT NULL,
        PRIMARY KEY (kind, value)
      );
      CREATE INDEX revocations_until ON {schema}.revocations (until);
      CREATE TABLE {schema}.identity_links (
        provider text NOT NULL,
        provider_subject text NOT NULL,
        subject text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (provider, provider_subject)
      );
      CREATE INDEX identity_links_subject ON {schema}.identity_links (subject);
      CREATE TABLE {schema}.org_links (
        provider text NOT NULL,
        external_org_id text NOT NULL,
        org_id text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (provider, external_org_id)
      );
      CREATE TABLE {schema}.connections (
        integration text NOT NULL,
        id text NOT NULL,
        org_id text,
        status text NOT NULL,
        metadata jsonb NOT NULL,
        credentials text,
        expires_at timestamptz,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (integration, id)
      );
      CREATE INDEX connections_org ON {schema}.connections (org_id);
    `,
  },
  // A connection's identity is (org, integration, id): existing deployments are re-keyed in place.
  { version: 2, name: 'connections_by_org', sql: CONNECTIONS_BY_ORG_SQL },
  {
    version: 3,
    name: 'migration_control',
    sql: `
      CREATE TABLE {schema}.migration_control (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        version bigint NOT NULL,
        actor text NOT NULL,
        reason text,
        at timestamptz NOT NULL
      );
      CREATE TABLE {schema}.migration_control_log (
        version bigint PRIMARY KEY,
        key text NOT NULL,
        value jsonb,
        previous jsonb,
        actor text NOT NULL,
        reason text,
        at timestamptz NOT NULL,
        rollback_of bigint
      );
      CREATE INDEX migration_control_log_key ON {schema}.migration_control_log (key, version);
      CREATE TABLE {schema}.migration_shadow (
        bucket bigint NOT NULL,
        tenant text NOT NULL,
        comparisons bigint NOT NULL DEFAULT 0,
        agreed bigint NOT NULL DEFAULT 0,
        decision bigint NOT NULL DEFAULT 0,
        subject bigint NOT NULL DEFAULT 0,
        org bigint NOT NULL DEFAULT 0,
        scopes bigint NOT NULL DEFAULT 0,
        roles bigint NOT NULL DEFAULT 0,
        legacy bigint NOT NULL DEFAULT 0,
        target bigint NOT NULL DEFAULT 0,
        refused_legacy bigint NOT NULL DEFAULT 0,
        refused_target bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (bucket, tenant)
      );
    `,
  },
]);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks and double-quotes a schema name (lowercase letters, digits, underscores; at most 63 characters).
 *
 * @example
 * ```ts
 * quoteSchema('authplane'); // '"authplane"'
 * ```
 */
export function quoteSchema(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new TypeError('schema must match /^[a-z_][a-z0-9_]{0,62}$/');
  }
  return `"${schema}"`;
}

/**
 * Creates the schema when needed and applies every migration not yet recorded in
 * `<schema>.authplane_migrations`. Idempotent; safe to run from several processes at once.
 * The `authplane db migrate` command calls this.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const { applied } = await migratePostgres(pool, { schema: 'authplane' }); // [1] the first time, [] after
 * ```
 */
export async function migratePostgres(
  pool: PgPool,
  options: { readonly schema?: string } = {},
): Promise<{ readonly applied: number[] }> {
  const schema = options.schema ?? 'public';
  const q = quoteSchema(schema);
  let client: PoolClient;
  try {
    client = await (pool as Pool).connect();
  } catch (err) {
    throw toStoreError(err, 'connecting for migrations');
  }
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    // Transaction-scoped: released by COMMIT/ROLLBACK even if this process dies.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`authplane.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.authplane_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${q}.authplane_migrations`);
    const have = new Set(done.rows.map((r) => Number(r.version)));
    for (const m of POSTGRES_MIGRATIONS) {
      if (have.has(m.version)) continue;
      await client.query(m.sql.replaceAll('{schema}', q));
      await client.query(`INSERT INTO ${q}.authplane_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw toStoreError(err, 'PostgreSQL migration');
  } finally {
    client.release();
  }
}
