import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Command, EXIT_CODES, UsageError } from '../types';
import { describeStore, parseStoreSpec } from './store';

const USAGE = `Usage: authplane db migrate [--store SPEC] [--schema NAME] [--json]

Applies authplane's database migrations to the configured store and prints what was applied.
PostgreSQL: every pending migration of POSTGRES_MIGRATIONS, in one transaction under an advisory
lock (safe to run from several deploy jobs at once; idempotent). SQLite: the schema is created or
upgraded in the file (the same happens whenever the file is opened).

Options:
  --store SPEC     postgres://… or sqlite:<path> (default AUTHPLANE_STORE or sqlite:./.authplane/authplane.db)
  --schema NAME    PostgreSQL schema (default public; created when missing)
  --json           machine-readable output on stdout`;

/**
 * `authplane db migrate`: applies the store migrations, for deploy pipelines that run schema changes
 * before the application starts (then open the stores with `migrate: false`).
 *
 * @example
 * ```ts
 * await run(['db', 'migrate', '--store', process.env.DATABASE_URL!, '--schema', 'authplane'], io);
 * ```
 */
export const dbCommand: Command = {
  name: 'db',
  summary: 'Apply the database migrations of the stores (db migrate)',
  usage: USAGE,
  allowPositionals: true,
  options: {
    store: { type: 'string' },
    schema: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1 || positionals[0] !== 'migrate') {
      throw new UsageError(
        positionals[0] ? `unknown action "${positionals[0]}"` : 'missing action (migrate)',
      );
    }
    const spec = parseStoreSpec(typeof values.store === 'string' ? values.store : undefined);
    const schema = typeof values.schema === 'string' ? values.schema : 'public';
    const json = values.json === true;
    const where = describeStore(spec);

    if (spec.kind === 'sqlite') {
      if (values.schema !== undefined) throw new UsageError('--schema applies to PostgreSQL only');
      if (spec.filename !== ':memory:') mkdirSync(dirname(spec.filename), { recursive: true, mode: 0o700 });
      const { openSqliteStores } = await import('../../stores/sqlite');
      const stores = await openSqliteStores({ filename: spec.filename }); // creates or upgrades the schema
      const version = stores.db.pragma('user_version', { simple: true }) as number;
      await stores.close();
      if (json) io.out(JSON.stringify({ store: where, version }));
      else io.out(`SQLite store ${where} is at schema version ${version}.`);
      return EXIT_CODES.ok;
    }

    const { createPostgresStores, migratePostgres, POSTGRES_MIGRATIONS } = await import(
      '../../stores/postgres/index'
    );
    const stores = await createPostgresStores({
      connectionString: spec.connectionString,
      schema,
      migrate: false,
      notifyChannel: false,
    });
    try {
      const { applied } = await migratePostgres(stores.pool, { schema });
      const version = Math.max(0, ...POSTGRES_MIGRATIONS.map((m) => m.version));
      if (json) io.out(JSON.stringify({ store: where, schema, applied, version }));
      else if (applied.length === 0)
        io.out(`PostgreSQL ${where} schema "${schema}" is up to date (version ${version}).`);
      else
        io.out(
          `Applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')} to ${where} schema "${schema}" (now version ${version}).`,
        );
    } finally {
      await stores.close();
    }
    return EXIT_CODES.ok;
  },
};
