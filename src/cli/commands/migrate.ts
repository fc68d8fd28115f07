import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { migrationModesFromEnv } from '../../migration/env';
import { importLinks, type LinkFileFormat, LinkImportError, parseLinkFile } from '../../migration/import';
import {
  createModeResolver,
  DEFAULT_MODE_FLAG_KEY,
  isMigrationMode,
  type MigrationMode,
  type ModeFlagClient,
  type TenantModes,
} from '../../migration/modes';
import { DIVERGENCE_CLASSES, type MigrationReport, summarizeShadowEvents } from '../../migration/shadow';
import type { IdentityLinkStore } from '../../stores/contracts';
import { type CliIO, type Command, EXIT_CODES, type ParsedArgs, UsageError } from '../types';
import {
  dashboardCommand,
  historyCommand,
  rollbackCommand,
  rolloutCommand,
  setCommand,
  storeReportCommand,
  storeStatusCommand,
} from './migrate-control';
import { describeStore, parseStoreSpec, type StoreSpec } from './store';

const USAGE = `Usage: authplane migrate <status|report|import-links|set|rollout|rollback|history|dashboard> [options]

Watch and drive a migration from a legacy identity provider to a new one.

  authplane migrate status [--config FILE] [--org ID]... [--flags MODULE] [--json]
      The mode of each tenant now: static config (--config JSON with { mode, tenants }, else
      AUTHPLANE_MIGRATION_MODE / _TENANTS / _ROLLOUT), overridden by an OpenFeature client when --flags
      names a module exporting one (export const client = OpenFeature.getClient()).
  authplane migrate report (--events FILE | --url URL) [--json]
      Shadow divergences: from a JSON-lines file of shadow events (shadow.onEvent), or from the JSON of
      plane.migration.report() that your service exposes at URL.
  authplane migrate import-links FILE [--format csv|json|jsonl] [--store SPEC] [--dry-run] [--json]
      Bulk-import identity and org links, all or nothing, idempotently. CSV: a header line, then one
      link per line. Columns, in any order: type (optional: user, the default, or org), provider,
      external_id (alias provider_subject or external_org_id), internal_id (alias subject or org_id).
        type,provider,external_id,internal_id
        user,auth0,auth0|abc123,usr_42
        org,auth0,org_9xYz,org_acme

Fleet control (--store sqlite:<path> | postgres://… | redis://…; default AUTHPLANE_MIGRATION_STORE,
then AUTHPLANE_STORE): every instance with the plane option control: { store } follows these.
  authplane migrate set [--org ID] --mode MODE|none [--reason TEXT] --store SPEC
      Set a tenant's mode (without --org: the default mode); none removes the override.
  authplane migrate rollout --mode MODE|none --percent N [--seed S] --store SPEC
  authplane migrate rollback [--org ID | --rollout] [--reason TEXT] --store SPEC
      Back to the value before the latest change (recorded as a new version).
  authplane migrate history [--org ID] [--limit N] --store SPEC
  authplane migrate status --store SPEC [--since 24h]     modes, last change and readiness per tenant
  authplane migrate report --store SPEC [--since 7d]      divergence of every instance, per tenant and class
  authplane migrate dashboard --store SPEC [--port 4100] [--host 127.0.0.1]
      A web page with modes, readiness, charts and mode changes; prints its URL and access token.
  Changes are audited (JSON lines to --audit-log FILE, else stderr); --actor NAME (default cli:$USER).

Options:
  --config FILE      JSON file with { "mode": "legacy", "tenants": { "orgs": {…}, "rollout": {…} } }
  --org ID           a tenant to show (repeatable); configured orgs are always shown
  --flags MODULE     module exporting an OpenFeature client as \`client\` (or default)
  --flag-key KEY     flag key (default ${DEFAULT_MODE_FLAG_KEY})
  --events FILE      JSON-lines shadow events
  --url URL          a service endpoint returning plane.migration.report() as JSON
  --format FORMAT    csv, json or jsonl (default: from the file extension)
  --store SPEC       sqlite:<path> or postgres://… (default AUTHPLANE_STORE or sqlite:./.authplane/authplane.db)
  --schema NAME      PostgreSQL schema (default public)
  --dry-run          validate the file, write nothing
  --json             machine-readable output`;

/**
 * `authplane migrate`: `status` (mode per tenant), `report` (divergence summary) and `import-links`.
 * Exit 0 on success, 1 when the command ran and failed (invalid link file, unreachable store or URL),
 * 2 for usage mistakes.
 *
 * @example
 * ```sh
 * authplane migrate status --config migration.json --org org_acme --json
 * authplane migrate report --events shadow.jsonl
 * authplane migrate import-links links.csv --store sqlite:./.authplane/authplane.db
 * ```
 */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Migration status per tenant, shadow divergence report, identity link import',
  usage: USAGE,
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    org: { type: 'string', multiple: true },
    flags: { type: 'string' },
    'flag-key': { type: 'string' },
    events: { type: 'string' },
    url: { type: 'string' },
    format: { type: 'string' },
    store: { type: 'string' },
    schema: { type: 'string' },
    mode: { type: 'string' },
    percent: { type: 'string' },
    seed: { type: 'string' },
    reason: { type: 'string' },
    actor: { type: 'string' },
    rollout: { type: 'boolean' },
    limit: { type: 'string' },
    since: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'audit-log': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const [sub, ...rest] = args.positionals;
    const control = {
      set: setCommand,
      rollout: rolloutCommand,
      rollback: rollbackCommand,
      history: historyCommand,
      dashboard: dashboardCommand,
    }[sub as string];
    if (
      control &&
      Object.hasOwn({ set: 1, rollout: 1, rollback: 1, history: 1, dashboard: 1 }, sub as string)
    ) {
      noExtra(rest);
      return control(args, io);
    }
    // status and report read the fleet from a control store when --store is given.
    if ((sub === 'status' || sub === 'report') && typeof args.values.store === 'string') {
      noExtra(rest);
      return sub === 'status' ? storeStatusCommand(args, io) : storeReportCommand(args, io);
    }
    if (sub === 'status') return status(args, rest, io);
    if (sub === 'report') return report(args, rest, io);
    if (sub === 'import-links') return importLinksCommand(args, rest, io);
    throw new UsageError(
      sub === undefined ? 'a sub-command is required' : `unknown sub-command "${sub.slice(0, 40)}"`,
    );
  },
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function noExtra(rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError('unexpected argument');
}

async function staticModes(
  configFile: string | undefined,
): Promise<{ mode: MigrationMode; tenants?: TenantModes }> {
  if (configFile === undefined) {
    const env = migrationModesFromEnv(process.env);
    return { mode: env.mode ?? 'legacy', tenants: env.tenants };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (err) {
    throw new UsageError(
      `--config: cannot read a JSON file (${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'})`,
    );
  }
  const { mode = 'legacy', tenants } = (parsed ?? {}) as { mode?: unknown; tenants?: TenantModes };
  if (!isMigrationMode(mode))
    throw new UsageError('--config: mode is not one of legacy, shadow, dual, target');
  return { mode, tenants };
}

async function loadFlagClient(module: string | undefined): Promise<ModeFlagClient | undefined> {
  if (module === undefined) return undefined;
  const loaded = (await import(pathToFileURL(resolve(module)).href)) as {
    client?: unknown;
    default?: unknown;
  };
  const client = (loaded.client ?? loaded.default) as ModeFlagClient | undefined;
  if (!client || typeof client.getStringDetails !== 'function') {
    throw new UsageError('--flags: the module must export an OpenFeature client as `client` or default');
  }
  return client;
}

async function status(args: ParsedArgs, rest: readonly string[], io: CliIO): Promise<number> {
  noExtra(rest);
  const { mode, tenants } = await staticModes(str(args.values.config));
  const client = await loadFlagClient(str(args.values.flags));
  const resolver = createModeResolver({
    mode,
    tenants,
    modeFlag: client ? { client, key: str(args.values['flag-key']) } : undefined,
  });
  const asked = Array.isArray(args.values.org)
    ? args.values.org.filter((o): o is string => typeof o === 'string')
    : [];
  const orgs = [...new Set([...Object.keys(tenants?.orgs ?? {}), ...asked])];
  const rows: Array<{ org: string | null; mode: MigrationMode; source: string }> = [];
  rows.push({ org: null, ...(await resolver.explain(null)) });
  for (const org of orgs) rows.push({ org, ...(await resolver.explain(org)) });
  resolver.close();
  if (args.values.json === true) {
    io.out(
      JSON.stringify({
        default: mode,
        rollout: tenants?.rollout ?? null,
        flag: client !== undefined,
        tenants: rows,
      }),
    );
    return EXIT_CODES.ok;
  }
  io.out(`default mode  ${mode}${client ? ' (overridden per tenant by the flag service)' : ''}`);
  if (tenants?.rollout)
    io.out(`rollout       ${tenants.rollout.mode} for ${tenants.rollout.percent}% of tenants`);
  io.out('');
  io.out(`${'tenant'.padEnd(32)}${'mode'.padEnd(10)}source`);
  for (const row of rows) io.out(`${(row.org ?? '(no org)').padEnd(32)}${row.mode.padEnd(10)}${row.source}`);
  return EXIT_CODES.ok;
}

async function report(args: ParsedArgs, rest: readonly string[], io: CliIO): Promise<number> {
  noExtra(rest);
  const events = str(args.values.events);
  const url = str(args.values.url);
  if ((events === undefined) === (url === undefined))
    throw new UsageError('give exactly one of --events and --url');
  let summary: MigrationReport;
  if (events !== undefined) {
    const text = await readFile(events, 'utf8');
    let bad = 0;
    const parsed: unknown[] = [];
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      try {
        parsed.push(JSON.parse(line));
      } catch {
        bad++;
      }
    }
    const base = summarizeShadowEvents(parsed);
    summary = { ...base, errors: base.errors + bad };
  } else {
    const res = await fetch(url as string, {
      signal: AbortSignal.timeout(5000),
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`the report endpoint answered HTTP ${res.status}`);
    summary = (await res.json()) as MigrationReport;
  }
  if (args.values.json === true) {
    io.out(JSON.stringify(summary));
    return EXIT_CODES.ok;
  }
  const pct = (n: number) =>
    summary.comparisons > 0 ? `${((100 * n) / summary.comparisons).toFixed(1)}%` : '-';
  io.out(
    `shadow comparisons since ${summary.since}: ${summary.comparisons} (agreed ${summary.agreed}, diverged ${summary.diverged} = ${pct(summary.diverged)})`,
  );
  if (typeof summary.why === 'string') io.out(summary.why);
  io.out('');
  io.out(`${'class'.padEnd(12)}${'count'.padStart(8)}${'share'.padStart(9)}`);
  for (const cls of DIVERGENCE_CLASSES) {
    const n = summary.byClass?.[cls] ?? 0;
    io.out(`${cls.padEnd(12)}${String(n).padStart(8)}${pct(n).padStart(9)}`);
  }
  const tenants = Object.entries(summary.byTenant ?? {}).sort((a, b) => b[1].diverged - a[1].diverged);
  if (tenants.length > 0) {
    io.out('');
    io.out(`${'tenant'.padEnd(32)}${'compared'.padStart(10)}${'diverged'.padStart(10)}  classes`);
    for (const [tenant, t] of tenants.slice(0, 50)) {
      const classes = DIVERGENCE_CLASSES.filter((c) => (t.byClass?.[c] ?? 0) > 0)
        .map((c) => `${c}:${t.byClass[c]}`)
        .join(' ');
      io.out(
        `${tenant.padEnd(32)}${String(t.comparisons).padStart(10)}${String(t.diverged).padStart(10)}  ${classes || '-'}`,
      );
    }
  }
  const d = summary.dropped;
  const s = summary.skipped;
  if (d && s) {
    io.out('');
    io.out(
      `dropped: queue full ${d.queueFull}, closed ${d.closed}; skipped: no target credential ${s.noTargetCredential}, sampled out ${s.sampledOut}, unattributed ${s.unattributed}; errors ${summary.errors}; flag errors ${summary.flagErrors}`,
    );
  }
  return EXIT_CODES.ok;
}

function countsOf(parsed: { links: readonly unknown[]; orgs: readonly unknown[] }) {
  return { links: parsed.links.length, orgs: parsed.orgs.length };
}

function formatOf(file: string, value: string | undefined): LinkFileFormat {
  const format =
    value ??
    ({ '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl', '.ndjson': 'jsonl' } as Record<string, string>)[
      extname(file).toLowerCase()
    ];
  if (format !== 'csv' && format !== 'json' && format !== 'jsonl') {
    throw new UsageError('--format must be csv, json or jsonl (or use a .csv/.json/.jsonl file name)');
  }
  return format;
}

async function openLinkStore(
  spec: StoreSpec,
  schema: string | undefined,
): Promise<{ links: IdentityLinkStore; close(): Promise<void> }> {
  if (spec.kind === 'sqlite') {
    if (spec.filename !== ':memory:') mkdirSync(dirname(spec.filename), { recursive: true, mode: 0o700 });
    const { openSqliteStores } = await import('../../stores/sqlite');
    const stores = await openSqliteStores({ filename: spec.filename });
    return { links: stores.links, close: () => stores.close() };
  }
  const { createPostgresStores } = await import('../../stores/postgres/index');
  const stores = await createPostgresStores({
    connectionString: spec.connectionString,
    schema: schema ?? 'public',
    migrate: true,
  });
  return { links: stores.links, close: () => stores.close() };
}

async function importLinksCommand(args: ParsedArgs, rest: readonly string[], io: CliIO): Promise<number> {
  const [file, ...extra] = rest;
  if (file === undefined) throw new UsageError('import-links needs a FILE');
  noExtra(extra);
  const format = formatOf(file, str(args.values.format));
  const spec = parseStoreSpec(str(args.values.store));
  const contents = await readFile(file, 'utf8');
  const json = args.values.json === true;
  const dryRun = args.values['dry-run'] === true;
  const store = dryRun ? null : await openLinkStore(spec, str(args.values.schema));
  try {
    const result = store
      ? await importLinks(store.links, contents, { format })
      : { ...countsOf(parseLinkFile(contents, format)), inserted: 0, unchanged: 0 };
    if (json) io.out(JSON.stringify({ ...result, dryRun, store: describeStore(spec) }));
    else {
      io.out(
        dryRun
          ? `${file}: valid (${result.links} identity links, ${result.orgs} org links); nothing written (--dry-run)`
          : `${describeStore(spec)}: ${result.inserted} inserted, ${result.unchanged} already present (${result.links} identity links, ${result.orgs} org links)`,
      );
    }
    return EXIT_CODES.ok;
  } catch (err) {
    if (!(err instanceof LinkImportError)) throw err;
    if (json) io.out(JSON.stringify({ error: err.code, issues: err.issues }));
    else {
      io.err(`authplane migrate import-links: ${file} was not imported (nothing written):`);
      for (const issue of err.issues.slice(0, 100)) io.err(`  line ${issue.line}: ${issue.message}`);
      if (err.issues.length > 100) io.err(`  … and ${err.issues.length - 100} more`);
    }
    return EXIT_CODES.failure;
  } finally {
    await store?.close();
  }
}
