// Checks of what runs beside the plane: stores (reachable, migrations applied), invalidation channels
// (a round trip), vendor adapters (flag on, SDK installed) and the CLI session files' permissions.
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeChannel, openInvalidationChannels, parseChannelSpecs } from '../../stores/channels';
import { type DoctorCheck, type DoctorContext, fail, ok, warn, why } from './types';

/**
 * Checks the store named by `AUTHPLANE_STORE` without writing to it: reachable, migrations applied.
 *
 * @example
 * ```ts
 * const check = await checkStore({ ...context, env: { AUTHPLANE_STORE: 'postgres://db/app' } });
 * ```
 */
export async function checkStore(ctx: DoctorContext): Promise<DoctorCheck | null> {
  const spec = ctx.env.AUTHPLANE_STORE?.trim();
  if (!spec) return null;
  if (spec.startsWith('sqlite:')) {
    const file = spec.slice('sqlite:'.length);
    if (!existsSync(file))
      return warn(
        'store',
        `${file} does not exist yet`,
        'run `authplane db migrate` (or it is created on first use)',
      );
    try {
      const { default: Driver } = (await import('better-sqlite3')) as unknown as {
        default: new (f: string, o: object) => { pragma(s: string, o: object): unknown; close(): void };
      };
      const db = new Driver(file, { readonly: true, fileMustExist: true });
      try {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version < 1)
          return fail(
            'store',
            `${file} has no authplane schema`,
            'run `authplane db migrate --store sqlite:…`',
          );
        return ok('store', `sqlite ${file}, schema version ${version}`);
      } finally {
        db.close();
      }
    } catch (err) {
      return fail(
        'store',
        `sqlite ${file} cannot be read (${why(err)})`,
        'check the path and its permissions',
      );
    }
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const where = new URL(spec);
    const label = `postgres://${where.host}${where.pathname}`;
    try {
      const pg = await import('pg');
      const { POSTGRES_MIGRATIONS, quoteSchema } = await import('../../stores/postgres/migrations');
      const Client = (pg as unknown as { default?: typeof pg }).default?.Client ?? pg.Client;
      const client = new Client({
        connectionString: spec,
        connectionTimeoutMillis: 3_000,
        query_timeout: 3_000,
      });
      await client.connect();
      try {
        const schema = ctx.env.AUTHPLANE_STORE_SCHEMA?.trim() || 'public';
        const exists = await client.query('SELECT to_regclass($1) AS t', [
          `${quoteSchema(schema)}.authplane_migrations`,
        ]);
        const latest = Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version));
        if (!exists.rows[0]?.t)
          return fail(
            'store',
            `${label}: no authplane migrations applied in schema ${schema}`,
            'run `authplane db migrate`',
          );
        const { rows } = await client.query(
          `SELECT max(version) AS v FROM ${quoteSchema(schema)}.authplane_migrations`,
        );
        const applied = Number(rows[0]?.v ?? 0);
        if (applied < latest)
          return fail(
            'store',
            `${label}: migrations applied up to ${applied} of ${latest}`,
            'run `authplane db migrate`',
          );
        return ok('store', `${label}, migrations up to date (${applied})`);
      } finally {
        await client.end().catch(() => {});
      }
    } catch (err) {
      return fail(
        'store',
        `${label} is not reachable (${why(err)})`,
        'check AUTHPLANE_STORE and that the database accepts connections from here',
      );
    }
  }
  return fail('store', 'AUTHPLANE_STORE is neither sqlite:<path> nor postgres://…', 'fix AUTHPLANE_STORE');
}

/**
 * One round trip per configured invalidation channel: publish a harmless event, hear it back.
 *
 * @example
 * ```ts
 * const checks = await checkChannels(context);
 * ```
 */
export async function checkChannels(ctx: DoctorContext): Promise<DoctorCheck[]> {
  let specs: ReturnType<typeof parseChannelSpecs>;
  try {
    specs = parseChannelSpecs(ctx.env.AUTHPLANE_INVALIDATION_CHANNELS ?? '');
  } catch (err) {
    return [fail('channels', (err as Error).message, 'fix AUTHPLANE_INVALIDATION_CHANNELS')];
  }
  const out: DoctorCheck[] = [];
  for (const spec of specs) {
    const label = describeChannel(spec);
    const raw = spec.kind === 'redis' ? spec.url : spec.connectionString;
    const url = new URL(raw);
    if (spec.channel) url.searchParams.set('channel', spec.channel);
    try {
      const channel = await openInvalidationChannels({ specs: [url.toString()] });
      if (!channel) continue;
      try {
        // An api_key event for an id no key has: listeners drop nothing that matters.
        const id = `doctor-${randomUUID()}`;
        const heard = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 3_000);
          channel.subscribe((e) => {
            if (e.type === 'api_key' && e.id === id) {
              clearTimeout(timer);
              resolve(true);
            }
          });
        });
        await channel.publish({ type: 'api_key', id });
        out.push(
          (await heard)
            ? ok('channels', `${label}: round trip ok`)
            : fail(
                'channels',
                `${label}: published but not heard back within 3 s`,
                'check the broker and the channel name',
              ),
        );
      } finally {
        await channel.close().catch(() => {});
      }
    } catch (err) {
      out.push(
        fail(
          'channels',
          `${label}: cannot be opened (${why(err)})`,
          'check AUTHPLANE_INVALIDATION_CHANNELS and the broker',
        ),
      );
    }
  }
  return out;
}

const VENDOR_SDK: Readonly<Record<string, string>> = {
  auth0: 'auth0',
  clerk: '@clerk/backend',
  nango: '@nangohq/node',
};

/**
 * Vendor adapters: the selected one's flag is on and its SDK is installed.
 *
 * @example
 * ```ts
 * const checks = await checkVendor(context);
 * ```
 */
export async function checkVendor(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const flags = (ctx.config.flags ?? {}) as Record<string, unknown>;
  const provider = typeof ctx.config.provider === 'string' ? ctx.config.provider : 'oidc';
  const wanted = new Set(Object.keys(VENDOR_SDK).filter((v) => v === provider || flags[v] === true));
  const out: DoctorCheck[] = [];
  for (const vendor of wanted) {
    if (flags[vendor] !== true) {
      out.push(
        fail(
          'vendor',
          `provider ${vendor} is selected but its flag is off`,
          `add ${vendor} to AUTHPLANE_FLAGS`,
        ),
      );
      continue;
    }
    const sdk = VENDOR_SDK[vendor] as string;
    try {
      await import(sdk);
      out.push(ok('vendor', `${vendor}: flag on, ${sdk} installed`));
    } catch {
      out.push(fail('vendor', `${vendor}: ${sdk} is not installed`, `npm install ${sdk}`));
    }
  }
  return out;
}

/**
 * The CLI session directory and files: owned by this user, not readable or writable by others, no symlinks.
 *
 * @example
 * ```ts
 * const check = checkSessionFiles(context);
 * ```
 */
export function checkSessionFiles(ctx: DoctorContext): DoctorCheck {
  const file = ctx.env.AUTHPLANE_SESSION_FILE?.trim();
  const dir = file ? dirname(file) : join(ctx.env.HOME ?? homedir(), '.config', 'authplane', 'sessions');
  if (!existsSync(dir)) return ok('session', 'no CLI session on this machine');
  const paths = [dir, ...readdirSync(dir).map((f) => join(dir, f))];
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const path of paths) {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink())
      return fail(
        'session',
        `${path} is a symbolic link`,
        `remove it: session files are never followed through links`,
      );
    if (uid !== undefined && stat.uid !== uid)
      return fail('session', `${path} belongs to another user`, `remove it and log in again`);
    if ((stat.mode & 0o077) !== 0) {
      return fail(
        'session',
        `${path} is open to group/others (mode ${(stat.mode & 0o777).toString(8)})`,
        `chmod ${stat.isDirectory() ? '700' : '600'} ${path}`,
      );
    }
  }
  return ok('session', `${dir}: private to this user`);
}
