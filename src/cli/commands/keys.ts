import { ApiKeyError, type ApiKeyInfo, type ApiKeys, createApiKeys } from '../../apikeys/keys';
import { createCachedApiKeyStore } from '../../stores/cache';
import type { ApiKeyFilter } from '../../stores/contracts';
import { type CliIO, type Command, EXIT_CODES, type ParsedArgs, UsageError } from '../types';
import { type CliChannels, openCliChannels } from './channels';
import { describeStore, openKeyStore, parseStoreSpec } from './store';

/** Printed (to stderr) beside every key shown: the only copy is on the screen. */
export const KEY_SHOWN_ONCE_WARNING =
  'Store this key now (e.g. in your CI secret store): it is shown only once and cannot be recovered.';

const USAGE = `Usage: authplane keys <create|list|revoke|rotate> [options]
  authplane keys create --org ID --owner ID --scopes a,b [--expires 30d] [--name TEXT]
  authplane keys list (--org ID | --owner ID)
  authplane keys revoke <key-id> [--channel URL]...
  authplane keys rotate <key-id> [--overlap 1h] [--expires 30d] [--channel URL]...

Scoped API keys for CI and services, in the configured store. The full key is printed once, by
create and rotate; list never shows it (only ids, scopes, status and times).
revoke and rotate tell every running instance at once: a PostgreSQL store NOTIFYs on its own, and the
change is published on every channel named by --channel or AUTHPLANE_INVALIDATION_CHANNELS (the
variable the application's openInvalidationChannels() reads). If a channel cannot be told, the key is
still revoked, the command says which and exits 1.

Options:
  --org ID           organization the key acts for (create; filter for list)
  --owner ID         user the key belongs to; removing them from the org disables it (create; list filter)
  --scopes a,b       comma-separated scopes the key carries, exactly (create)
  --expires DUR      lifetime: 90m, 12h, 30d, 2w (create, rotate; default: no expiry / unchanged)
  --name TEXT        label, e.g. "GitHub Actions deploy" (create)
  --overlap DUR      how long the old key keeps working after rotate (default 1h; 0 ends it now)
  --prefix P         key prefix (default AUTHPLANE_API_KEY_PREFIX or ap_live)
  --store SPEC       sqlite:<path> or postgres://… (default AUTHPLANE_STORE or sqlite:./.authplane/authplane.db)
  --schema NAME      PostgreSQL schema (default public)
  --channel URL      an invalidation channel to publish on (redis://…, postgres://…; ?channel=NAME;
                     repeatable; default AUTHPLANE_INVALIDATION_CHANNELS)
  --json             machine-readable output on stdout`;

const DURATION = /^(\d+)(s|m|h|d|w)$/;
const UNIT_SEC: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a CLI duration (`90m`, `12h`, `30d`, `2w`, `0s`) into seconds.
 *
 * @throws UsageError naming the option.
 * @example
 * ```ts
 * parseDuration('30d', '--expires'); // 2592000
 * ```
 */
export function parseDuration(value: string, option: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new UsageError(`${option} must be a duration such as 90m, 12h, 30d or 2w`);
  return Number(match[1]) * (UNIT_SEC[match[2] as string] as number);
}

/**
 * `authplane keys`: create, list, revoke and rotate scoped API keys in the configured store (the
 * embedded SQLite file by default). Exit 0 on success, 1 when the store refuses (unknown id, key not
 * active, store unreachable), 2 for usage mistakes.
 *
 * @example
 * ```ts
 * await run(['keys', 'create', '--org', 'org_1', '--owner', 'usr_1', '--scopes', 'ci:deploy', '--json'], io);
 * ```
 */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'Create, list, revoke and rotate scoped API keys (CI, services)',
  usage: USAGE,
  allowPositionals: true,
  options: {
    org: { type: 'string' },
    owner: { type: 'string' },
    scopes: { type: 'string' },
    expires: { type: 'string' },
    name: { type: 'string' },
    overlap: { type: 'string' },
    prefix: { type: 'string' },
    store: { type: 'string' },
    schema: { type: 'string' },
    channel: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    const handler = action === undefined ? undefined : ACTIONS[action];
    if (!handler) {
      throw new UsageError(action === undefined ? 'missing action' : `unknown action "${action}"`);
    }
    const input = checkArgs(action as string, args, rest);
    const spec = parseStoreSpec(str(args.values.store));
    const store = await openKeyStore(spec, { schema: str(args.values.schema) });
    // A write other instances cache (revoke, rotate) goes through the same cached store as the
    // library's, so it publishes on every configured channel: the one path every revocation takes.
    const notify = WRITES.has(action as string) ? await openCliChannels(args.values.channel) : null;
    const keys = createApiKeys({
      store: notify?.channel
        ? createCachedApiKeyStore({
            store: store.apiKeys,
            channel: notify.channel,
            onError: (err) => notify.failures.push(err),
          })
        : store.apiKeys,
      prefix: str(args.values.prefix) ?? process.env.AUTHPLANE_API_KEY_PREFIX ?? 'ap_live',
    });
    try {
      const code = await handler(keys, input, io, describeStore(spec));
      return notify && code === EXIT_CODES.ok ? reportChannels(notify, io) : code;
    } catch (err) {
      if (err instanceof ApiKeyError && err.code === 'api_key_input_invalid')
        throw new UsageError(err.message);
      throw err;
    } finally {
      await keys.close();
      await store.close();
      await notify?.close();
    }
  },
};

const WRITES = new Set(['revoke', 'rotate']);

function reportChannels(notify: CliChannels, io: CliIO): number {
  if (notify.failures.length === 0) return EXIT_CODES.ok;
  io.err(
    `The change is stored, but not every invalidation channel (${notify.described.join(', ')}) could be told: ` +
      'instances listening there keep their cached answer until it lapses (at most their cache TTL, 30 s by default).',
  );
  return EXIT_CODES.failure;
}

interface Input {
  readonly id?: string;
  readonly values: ParsedArgs['values'];
  readonly json: boolean;
}

type Action = (keys: ApiKeys, input: Input, io: CliIO, where: string) => Promise<number>;

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  create: ['org', 'owner', 'scopes', 'expires', 'name'],
  list: ['org', 'owner'],
  revoke: ['channel'],
  rotate: ['overlap', 'expires', 'channel'],
};
const COMMON = ['prefix', 'store', 'schema', 'json'];

function checkArgs(action: string, args: ParsedArgs, rest: readonly string[]): Input {
  const takesId = action === 'revoke' || action === 'rotate';
  if (takesId && rest.length !== 1) throw new UsageError(`keys ${action} takes exactly one key id`);
  if (!takesId && rest.length > 0) throw new UsageError(`keys ${action} takes no positional argument`);
  const allowed = new Set([...(ALLOWED[action] ?? []), ...COMMON]);
  for (const [name, value] of Object.entries(args.values)) {
    if (value !== undefined && name !== 'help' && !allowed.has(name)) {
      throw new UsageError(`--${name} does not apply to keys ${action}`);
    }
  }
  return { id: takesId ? rest[0] : undefined, values: args.values, json: args.values.json === true };
}

const ACTIONS: Readonly<Record<string, Action>> = {
  async create(keys, { values, json }, io, where) {
    const orgId = required(values, 'org');
    const ownerId = required(values, 'owner');
    const scopes = (required(values, 'scopes') as string)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (scopes.length === 0) throw new UsageError('--scopes needs at least one scope');
    const expires = str(values.expires);
    const expiresAt =
      expires === undefined ? null : new Date(Date.now() + parseDuration(expires, '--expires') * 1000);
    const { key, record } = await keys.issue({
      orgId,
      ownerId,
      scopes,
      expiresAt,
      name: str(values.name) ?? null,
    });
    if (json) {
      io.out(JSON.stringify({ key, record: toJson(record), warning: KEY_SHOWN_ONCE_WARNING }));
    } else {
      io.out(`Created API key ${record.id} in ${where}`);
      io.out(describe(record));
      io.out('');
      io.out(`  ${key}`);
      io.out('');
    }
    io.err(KEY_SHOWN_ONCE_WARNING);
    return EXIT_CODES.ok;
  },

  async list(keys, { values, json }, io) {
    const org = str(values.org);
    const owner = str(values.owner);
    if ((org === undefined) === (owner === undefined))
      throw new UsageError('keys list needs --org or --owner');
    const filter: ApiKeyFilter = org !== undefined ? { orgId: org } : { ownerId: owner as string };
    const infos = await keys.list(filter);
    if (json) {
      io.out(JSON.stringify(infos.map(toJson)));
      return EXIT_CODES.ok;
    }
    if (infos.length === 0) {
      io.out('No API keys.');
      return EXIT_CODES.ok;
    }
    const rows = infos.map((k) => [
      k.id,
      k.name ?? '-',
      k.status,
      k.scopes.join(','),
      k.orgId,
      k.ownerId,
      iso(k.createdAt),
      iso(k.expiresAt),
      iso(k.lastUsedAt),
    ]);
    io.out(
      table(['ID', 'NAME', 'STATUS', 'SCOPES', 'ORG', 'OWNER', 'CREATED', 'EXPIRES', 'LAST USED'], rows),
    );
    return EXIT_CODES.ok;
  },

  async revoke(keys, { id, json }, io) {
    const record = await keys.revoke(id as string);
    if (json) io.out(JSON.stringify(toJson(record)));
    else io.out(`Revoked API key ${record.id}: it is refused from now on.`);
    return EXIT_CODES.ok;
  },

  async rotate(keys, { id, values, json }, io) {
    const overlapSec = parseDuration(str(values.overlap) ?? '1h', '--overlap');
    const expires = str(values.expires);
    const rotated = await keys.rotate(id as string, {
      overlapSec,
      ...(expires !== undefined
        ? { expiresAt: new Date(Date.now() + parseDuration(expires, '--expires') * 1000) }
        : {}),
    });
    if (json) {
      io.out(
        JSON.stringify({
          key: rotated.key,
          record: toJson(rotated.record),
          previous: toJson(rotated.previous),
          warning: KEY_SHOWN_ONCE_WARNING,
        }),
      );
    } else {
      io.out(`Rotated API key ${rotated.previous.id} -> ${rotated.record.id}`);
      io.out(`The old key keeps working until ${iso(rotated.previous.expiresAt)}.`);
      io.out(describe(rotated.record));
      io.out('');
      io.out(`  ${rotated.key}`);
      io.out('');
    }
    io.err(KEY_SHOWN_ONCE_WARNING);
    return EXIT_CODES.ok;
  },
};

function str(value: ParsedArgs['values'][string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function required(values: ParsedArgs['values'], name: string): string {
  const value = str(values[name])?.trim();
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function iso(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

function describe(k: ApiKeyInfo): string {
  return `  org ${k.orgId}, owner ${k.ownerId}, scopes ${k.scopes.join(',')}, expires ${iso(k.expiresAt)}${k.name ? `, name "${k.name}"` : ''}`;
}

/** An `ApiKeyInfo` as JSON: dates as ISO strings. Never a key or a hash (ApiKeyInfo has neither). */
function toJson(k: ApiKeyInfo): Record<string, unknown> {
  return {
    id: k.id,
    prefix: k.prefix,
    ownerId: k.ownerId,
    orgId: k.orgId,
    scopes: k.scopes,
    name: k.name,
    status: k.status,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    replacedBy: k.replacedBy,
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
