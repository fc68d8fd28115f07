// `authplane migrate set | rollout | rollback | history | dashboard`, and `status` / `report` over a
// control store (`--store sqlite:… | postgres://… | redis://…`). Every change goes through
// applyControlAction: written with who/why, audited.
import { appendFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { applyControlAction, type ControlAction } from '../../migration/control/actions';
import { type OpenedControlStore, openControlStore } from '../../migration/control/open';
import { readFleetReport } from '../../migration/control/summary';
import type { ControlChange, ControlTarget } from '../../migration/control/types';
import { isMigrationMode, MIGRATION_MODES, type MigrationMode } from '../../migration/modes';
import { DIVERGENCE_CLASSES } from '../../migration/shadow';
import { type AuditEvent, createAuditor } from '../../telemetry/audit';
import { type CliIO, EXIT_CODES, type ParsedArgs, UsageError } from '../types';
import { DEFAULT_STORE } from './store';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The `--store` of the control commands: the flag, else `AUTHPLANE_MIGRATION_STORE`, `AUTHPLANE_STORE`, the default file. */
function storeSpec(args: ParsedArgs): string {
  const spec =
    str(args.values.store) ??
    process.env.AUTHPLANE_MIGRATION_STORE ??
    process.env.AUTHPLANE_STORE ??
    DEFAULT_STORE;
  if (!/^(sqlite:|postgres(ql)?:\/\/|rediss?:\/\/)/.test(spec))
    throw new UsageError('--store must be sqlite:<path>, postgres://… or redis://…');
  return spec;
}

async function withStore<T>(args: ParsedArgs, run: (opened: OpenedControlStore) => Promise<T>): Promise<T> {
  const opened = await openControlStore(storeSpec(args), { schema: str(args.values.schema) });
  try {
    return await run(opened);
  } finally {
    await opened.close();
  }
}

function actorOf(args: ParsedArgs): string {
  const given = str(args.values.actor);
  if (given !== undefined) return given;
  let name = 'unknown';
  try {
    name = userInfo().username || name;
  } catch {
    // no user database (containers): keep "unknown"
  }
  return `cli:${name.replace(/[^\w.@+-]/g, '_')}`;
}

/**
 * The CLI's auditor: audit events as JSON lines to `--audit-log FILE` (appended), else to stderr.
 *
 * @example
 * ```ts
 * const auditor = cliAuditor(args, io);
 * ```
 */
export function cliAuditor(args: ParsedArgs, io: CliIO) {
  const file = str(args.values['audit-log']);
  return createAuditor((event: AuditEvent) => {
    const line = JSON.stringify(event);
    if (file) appendFileSync(file, `${line}\n`, { mode: 0o600 });
    else io.err(`audit ${line}`);
  });
}

function modeOf(args: ParsedArgs): MigrationMode | null {
  const mode = str(args.values.mode);
  if (mode === 'none') return null;
  if (!isMigrationMode(mode))
    throw new UsageError(`--mode must be one of ${MIGRATION_MODES.join(', ')} (or none)`);
  return mode;
}

function oneOrg(args: ParsedArgs): string | undefined {
  const orgs = Array.isArray(args.values.org)
    ? args.values.org.filter((o): o is string => typeof o === 'string')
    : [];
  if (orgs.length > 1) throw new UsageError('give one --org');
  return orgs[0];
}

function describeChange(c: ControlChange): string {
  const what = c.target.scope === 'org' ? c.target.orgId : `(${c.target.scope})`;
  const value = (v: ControlChange['value']) =>
    v === null ? 'none' : v.percent !== undefined ? `${v.mode}@${v.percent}%` : v.mode;
  return `v${c.version}  ${c.at.toISOString()}  ${what}: ${value(c.previous)} -> ${value(c.value)}  by ${c.actor}${c.rollbackOf !== null ? ` (rollback of v${c.rollbackOf})` : ''}${c.reason ? `  "${c.reason}"` : ''}`;
}

async function change(args: ParsedArgs, io: CliIO, action: ControlAction): Promise<number> {
  return withStore(args, async ({ store, description }) => {
    const result = await applyControlAction(store, action, {
      actor: actorOf(args),
      reason: str(args.values.reason),
      auditor: cliAuditor(args, io),
      via: 'cli',
    });
    if (args.values.json === true) io.out(JSON.stringify({ store: description, change: result }));
    else io.out(`${description}: ${describeChange(result)}`);
    return EXIT_CODES.ok;
  });
}

/** `migrate set --org ID --mode MODE` (or without --org: the default mode). */
export function setCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const org = oneOrg(args);
  const target: ControlTarget = org === undefined ? { scope: 'default' } : { scope: 'org', orgId: org };
  const mode = modeOf(args);
  return change(args, io, { kind: 'set', target, value: mode === null ? null : { mode } });
}

/** `migrate rollout --mode MODE --percent N [--seed S]`. */
export function rolloutCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const mode = modeOf(args);
  const raw = str(args.values.percent);
  if (mode !== null && (raw === undefined || !/^\d+(\.\d+)?$/.test(raw) || Number(raw) > 100))
    throw new UsageError('--percent must be a number between 0 and 100');
  const seed = str(args.values.seed);
  return change(args, io, {
    kind: 'set',
    target: { scope: 'rollout' },
    value: mode === null ? null : { mode, percent: Number(raw), ...(seed ? { seed } : {}) },
  });
}

/** `migrate rollback --org ID` (or `--rollout`, or neither: the default mode). */
export function rollbackCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const org = oneOrg(args);
  const target: ControlTarget =
    org !== undefined
      ? { scope: 'org', orgId: org }
      : args.values.rollout === true
        ? { scope: 'rollout' }
        : { scope: 'default' };
  return change(args, io, { kind: 'rollback', target });
}

/** `migrate history [--org ID] [--limit N]`. */
export async function historyCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const org = oneOrg(args);
  const limit = Number(str(args.values.limit) ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1..1000');
  return withStore(args, async ({ store, description }) => {
    const changes = await store.history({ target: org ? { scope: 'org', orgId: org } : undefined, limit });
    if (args.values.json === true) io.out(JSON.stringify({ store: description, changes }));
    else if (changes.length === 0) io.out(`${description}: no change yet`);
    else for (const c of changes) io.out(describeChange(c));
    return EXIT_CODES.ok;
  });
}

function sinceOf(args: ParsedArgs): number {
  const raw = str(args.values.since) ?? '7d';
  const m = /^(\d+)([mhd])$/.exec(raw);
  if (!m) throw new UsageError('--since must look like 30m, 24h or 7d');
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** `migrate status --store …`: stored modes, last change and readiness per tenant. */
export async function storeStatusCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  return withStore(args, async ({ store, description }) => {
    const report = await readFleetReport(store, { sinceMs: sinceOf(args) });
    const state = await store.read();
    if (args.values.json === true) {
      io.out(
        JSON.stringify({
          store: description,
          state,
          readiness: Object.fromEntries(Object.entries(report.tenants).map(([t, r]) => [t, r.readiness])),
        }),
      );
      return EXIT_CODES.ok;
    }
    io.out(`${description}  version ${state.version}`);
    io.out(`default mode  ${state.defaultMode?.value.mode ?? '(static config)'}`);
    if (state.rollout)
      io.out(`rollout       ${state.rollout.value.mode} for ${state.rollout.value.percent}% of tenants`);
    io.out('');
    io.out(
      `${'tenant'.padEnd(28)}${'mode'.padEnd(9)}${'dual?'.padEnd(7)}${'target?'.padEnd(9)}last change / why`,
    );
    for (const [tenant, t] of Object.entries(report.tenants)) {
      const entry = state.orgs[tenant];
      const last = entry ? `v${entry.version} ${entry.at.toISOString()} by ${entry.actor}` : '-';
      io.out(
        `${tenant.padEnd(28)}${(entry?.value.mode ?? '-').padEnd(9)}${(t.readiness.dual.ready ? 'ready' : 'no').padEnd(7)}${(t.readiness.target.ready ? 'ready' : 'no').padEnd(9)}${last}`,
      );
      io.out(`${''.padEnd(28)}dual: ${t.readiness.dual.why}; target: ${t.readiness.target.why}`);
    }
    return EXIT_CODES.ok;
  });
}

/** `migrate report --store …`: fleet-wide divergence per tenant and class over time windows. */
export async function storeReportCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  return withStore(args, async ({ store, description }) => {
    const report = await readFleetReport(store, { sinceMs: sinceOf(args) });
    if (args.values.json === true) {
      io.out(JSON.stringify({ store: description, ...report }));
      return EXIT_CODES.ok;
    }
    io.out(`${description}: every instance since ${report.since}`);
    io.out('');
    io.out(
      `${'window'.padEnd(8)}${'compared'.padStart(10)}${'diverged'.padStart(10)}  ${DIVERGENCE_CLASSES.map((c) => c.padStart(9)).join('')}${'refused'.padStart(9)}`,
    );
    for (const [name, w] of Object.entries(report.windows)) {
      io.out(
        `${name.padEnd(8)}${String(w.comparisons).padStart(10)}${String(w.comparisons - w.agreed).padStart(10)}  ${DIVERGENCE_CLASSES.map((c) => String(w[c]).padStart(9)).join('')}${String(w.refusedLegacy + w.refusedTarget).padStart(9)}`,
      );
    }
    io.out('');
    io.out(`${'tenant'.padEnd(28)}${'compared'.padStart(10)}${'diverged'.padStart(10)}  classes`);
    for (const [tenant, t] of Object.entries(report.tenants)) {
      const c = t.counts;
      const classes = DIVERGENCE_CLASSES.filter((k) => c[k] > 0)
        .map((k) => `${k}:${c[k]}`)
        .join(' ');
      io.out(
        `${tenant.padEnd(28)}${String(c.comparisons).padStart(10)}${String(c.comparisons - c.agreed).padStart(10)}  ${classes || '-'}`,
      );
    }
    return EXIT_CODES.ok;
  });
}

/** `migrate dashboard --store … [--port N] [--host H]`: serves until SIGINT/SIGTERM. */
export async function dashboardCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const rawPort = str(args.values.port) ?? '4100';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65_535)
    throw new UsageError('--port must be an integer between 0 and 65535');
  const host = str(args.values.host) ?? '127.0.0.1';
  const { startMigrationDashboard } = await import('../../migration/control/dashboard');
  return withStore(args, async ({ store, description }) => {
    const dashboard = await startMigrationDashboard({
      store,
      port,
      host,
      actor: actorOf(args),
      auditor: cliAuditor(args, io),
      storeDescription: description,
    });
    io.out(`migration dashboard for ${description}`);
    io.out(`  open:  ${dashboard.loginUrl}`);
    io.out(`  token: ${dashboard.token}  (mode changes need it; keep it to yourself)`);
    const signal = await io.shutdown();
    io.err(`stopping (${signal})`);
    await dashboard.close();
    return EXIT_CODES.ok;
  });
}
