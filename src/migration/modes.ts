import { ConfigError } from '../core/errors';
import type { ControlState } from './control/types';
import { isMigrationMode, MIGRATION_MODES, type MigrationMode } from './mode-names';

export { isMigrationMode, MIGRATION_MODES, type MigrationMode, modeAccepts } from './mode-names';

/**
 * A percentage rollout: tenants whose stable bucket falls under `percent` get `mode`.
 *
 * @example
 * ```ts
 * const rollout: Rollout = { mode: 'dual', percent: 25 };
 * ```
 */
export interface Rollout {
  readonly mode: MigrationMode;
  /** 0..100; fractions allowed (0.5 = one tenant in 200). */
  readonly percent: number;
  /** Changes which tenants fall in the rollout without changing how many. Default `''`. */
  readonly seed?: string;
}

/**
 * Static per-tenant modes: explicit org overrides win, then the percentage rollout, then the default.
 *
 * @example
 * ```ts
 * const tenants: TenantModes = { orgs: { org_acme: 'dual' }, rollout: { mode: 'shadow', percent: 10 } };
 * ```
 */
export interface TenantModes {
  readonly orgs?: Readonly<Record<string, MigrationMode>>;
  readonly rollout?: Rollout;
}

/**
 * The part of an OpenFeature `Client` (`@openfeature/server-sdk`) the mode resolver uses. Any flag
 * service with an OpenFeature provider can drive the modes; so can a hand-written object of this shape.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * const client: ModeFlagClient = OpenFeature.getClient();
 * ```
 */
export interface ModeFlagClient {
  getStringDetails(
    flagKey: string,
    defaultValue: string,
    context?: Record<string, unknown>,
  ): Promise<{ readonly value: string; readonly errorCode?: string; readonly reason?: string }>;
  /** When present, `cacheUntilChanged` drops its cache on `PROVIDER_CONFIGURATION_CHANGED`. */
  addHandler?(event: string, handler: () => void): void;
  removeHandler?(event: string, handler: () => void): void;
}

/**
 * Modes driven by a flag service. The flag is evaluated per tenant with the evaluation context
 * `{ targetingKey: orgId, orgId }` (no `targetingKey` for a credential without an org), and with the
 * tenant's static mode as the default value, so a disabled or untargeted flag falls back to the config.
 *
 * @example
 * ```ts
 * const modeFlag: ModeFlagOptions = { client: OpenFeature.getClient(), key: 'authplane-migration-mode', errorMode: 'dual' };
 * ```
 */
export interface ModeFlagOptions {
  readonly client: ModeFlagClient;
  /** Flag key. Default `authplane-migration-mode`. */
  readonly key?: string;
  /**
   * The mode used when the evaluation fails (provider error, flag not found, type mismatch, a value
   * that is not a mode, a rejection or a timeout). Each such evaluation is counted
   * (`report().flagErrors`, `authplane.migration.flag_errors`). Default `'static'`: the tenant's mode from
   * the static configuration (`mode`, `tenants`), i.e. what the deployed config declares.
   */
  readonly errorMode?: MigrationMode | 'static';
  /** An evaluation that has not settled after this many ms counts as an error. Default 250. */
  readonly timeoutMs?: number;
  /**
   * Keep each tenant's answer until the provider emits `PROVIDER_CONFIGURATION_CHANGED` (flagd,
   * InMemoryProvider and most providers do). Saves the evaluation (~15 µs) on every request; only
   * safe with a provider that emits the event. Default false: every request evaluates the flag.
   */
  readonly cacheUntilChanged?: boolean;
}

/**
 * Where a tenant's mode came from, for `authplane migrate status` and the report.
 *
 * @example
 * ```ts
 * const source: ModeSource = 'rollout';
 * ```
 */
export type ModeSource = 'flag' | 'flag_error' | 'org' | 'rollout' | 'default' | 'control';

/**
 * Modes from a `MigrationControlStore`, as the plane's watcher keeps them: the latest state read (the
 * last known one while the store is unreachable), or null before the first read.
 *
 * @example
 * ```ts
 * const control: ModeControlSource = { current: () => lastState, ready: () => firstLoad };
 * ```
 */
export interface ModeControlSource {
  current(): ControlState | null;
  /** Settles once the first read succeeded or gave up; resolution waits for it before the first read. */
  ready(): Promise<void>;
}

/**
 * A resolved mode and its source.
 *
 * @example
 * ```ts
 * const { mode, source } = await resolver.explain('org_acme'); // { mode: 'dual', source: 'org' }
 * ```
 */
export interface ModeDecision {
  readonly mode: MigrationMode;
  readonly source: ModeSource;
}

/**
 * Options of {@link createModeResolver}.
 *
 * @example
 * ```ts
 * createModeResolver({ mode: 'legacy', tenants: { orgs: { org_acme: 'dual' } } });
 * ```
 */
export interface ModeResolverOptions {
  /** The default mode of every tenant without an override or rollout. Default `legacy`. */
  readonly mode?: MigrationMode;
  readonly tenants?: TenantModes;
  readonly modeFlag?: ModeFlagOptions;
  /**
   * Modes set at runtime in a control store (`authplane migrate set`). Per tenant: the store's org
   * override, the static org override, the store's rollout, the static rollout, the store's default,
   * the static default. A flag service, when configured, still takes precedence (this is its default).
   */
  readonly control?: ModeControlSource;
  /** Called once per failed flag evaluation (counters). Never receives a credential. */
  readonly onFlagError?: (orgId: string | null, kind: string) => void;
}

/**
 * Resolves the mode of a tenant, per request. Synchronous for a static configuration; a promise when
 * a flag service must answer. Never throws and never rejects.
 *
 * @example
 * ```ts
 * const resolver = createModeResolver({ mode: 'legacy', tenants: { orgs: { org_acme: 'target' } } });
 * resolver.resolve('org_acme'); // 'target'
 * ```
 */
export interface ModeResolver {
  resolve(orgId: string | null): MigrationMode | Promise<MigrationMode>;
  explain(orgId: string | null): Promise<ModeDecision>;
  /** The static part alone (no flag service). */
  staticMode(orgId: string | null): ModeDecision;
  /** Stops listening to flag-provider events. */
  close(): void;
}

/** The default OpenFeature flag key. */
export const DEFAULT_MODE_FLAG_KEY = 'authplane-migration-mode';
const CHANGED = 'PROVIDER_CONFIGURATION_CHANGED';
const MAX_CACHED_TENANTS = 10_000;

/**
 * The rollout bucket of an org: FNV-1a (32 bit) of `seed:orgId`, modulo 10 000. Stable across processes,
 * restarts and versions, so a tenant never flaps in and out of a rollout.
 *
 * @example
 * ```ts
 * rolloutBucket('org_acme') < 25 * 100; // whether org_acme is in a 25 % rollout
 * ```
 */
export function rolloutBucket(orgId: string, seed = ''): number {
  const input = `${seed}:${orgId}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 10_000;
}

/**
 * Builds the per-request mode resolver: the OpenFeature flag when configured (its default value is the
 * static answer), else org override, then rollout, then the default mode. A flag change is seen by the
 * next evaluation: that is the rollback.
 *
 * @throws ConfigError for a mode that does not exist or a percentage outside 0..100.
 * @example
 * ```ts
 * const resolver = createModeResolver({ mode: 'legacy', modeFlag: { client: OpenFeature.getClient() } });
 * const mode = await resolver.resolve('org_acme');
 * ```
 */
export function createModeResolver(options: ModeResolverOptions = {}): ModeResolver {
  const defaultMode = options.mode ?? 'legacy';
  if (!isMigrationMode(defaultMode))
    throw new ConfigError('mode', `must be one of ${MIGRATION_MODES.join(', ')}`);
  const orgs = new Map<string, MigrationMode>();
  for (const [org, mode] of Object.entries(options.tenants?.orgs ?? {})) {
    if (!isMigrationMode(mode)) {
      throw new ConfigError(`tenants.orgs.${org}`, `must be one of ${MIGRATION_MODES.join(', ')}`);
    }
    orgs.set(org, mode);
  }
  const rollout = options.tenants?.rollout;
  if (rollout) {
    if (!isMigrationMode(rollout.mode)) throw new ConfigError('tenants.rollout.mode', 'is not a mode');
    if (!(rollout.percent >= 0 && rollout.percent <= 100)) {
      throw new ConfigError('tenants.rollout.percent', 'must be between 0 and 100');
    }
  }
  const threshold = rollout ? Math.round(rollout.percent * 100) : 0;

  const control = options.control;

  const staticMode = (orgId: string | null): ModeDecision => {
    const ctl = control?.current() ?? null;
    if (orgId !== null) {
      const stored = ctl?.orgs[orgId];
      if (stored) return { mode: stored.value.mode, source: 'control' };
      const override = orgs.get(orgId);
      if (override) return { mode: override, source: 'org' };
      const ctlRollout = ctl?.rollout?.value;
      if (ctlRollout && rolloutBucket(orgId, ctlRollout.seed) < Math.round((ctlRollout.percent ?? 0) * 100))
        return { mode: ctlRollout.mode, source: 'control' };
      if (rollout && rolloutBucket(orgId, rollout.seed) < threshold)
        return { mode: rollout.mode, source: 'rollout' };
    }
    if (ctl?.defaultMode) return { mode: ctl.defaultMode.value.mode, source: 'control' };
    return { mode: defaultMode, source: 'default' };
  };
  // Before the control store's first answer, a decision waits for it (bounded by the watcher).
  const pending = (): boolean => control !== undefined && control.current() === null;

  const flag = options.modeFlag;
  if (!flag) {
    return Object.freeze({
      resolve: (orgId: string | null) =>
        pending()
          ? (control as ModeControlSource).ready().then(() => staticMode(orgId).mode)
          : staticMode(orgId).mode,
      explain: async (orgId: string | null) => {
        if (pending()) await (control as ModeControlSource).ready();
        return staticMode(orgId);
      },
      staticMode,
      close() {},
    });
  }

  const key = flag.key ?? DEFAULT_MODE_FLAG_KEY;
  const errorMode = flag.errorMode ?? 'static';
  if (errorMode !== 'static' && !isMigrationMode(errorMode)) {
    throw new ConfigError('modeFlag.errorMode', `must be "static" or one of ${MIGRATION_MODES.join(', ')}`);
  }
  const timeoutMs = flag.timeoutMs ?? 250;
  // A cached flag answer may be the static/store default: key it by the control version too, so a
  // store change is seen even under `cacheUntilChanged`.
  const keyOf = (orgId: string | null) =>
    control ? `${control.current()?.version ?? -1}\u0000${orgId ?? ''}` : (orgId ?? '');
  const client = flag.client;
  const cache = flag.cacheUntilChanged ? new Map<string, ModeDecision>() : null;
  const clear = () => cache?.clear();
  if (cache) client.addHandler?.(CHANGED, clear);

  const onError = (orgId: string | null, kind: string, fallback: ModeDecision): ModeDecision => {
    try {
      options.onFlagError?.(orgId, kind);
    } catch {
      // A counter must not change a decision.
    }
    return {
      mode: errorMode === 'static' ? fallback.mode : errorMode,
      source: 'flag_error',
    };
  };

  const evaluate = async (orgId: string | null): Promise<ModeDecision> => {
    if (pending()) await (control as ModeControlSource).ready();
    const fallback = staticMode(orgId);
    const cacheKey = keyOf(orgId);
    const cached = cache?.get(cacheKey);
    if (cached) return cached;
    const context: Record<string, unknown> =
      orgId === null ? { orgId: null } : { targetingKey: orgId, orgId };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const details = await Promise.race([
        client.getStringDetails(key, fallback.mode, context),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs);
          timer.unref?.();
        }),
      ]);
      if (details === null) return onError(orgId, 'timeout', fallback);
      if (details.errorCode || details.reason === 'ERROR')
        return onError(orgId, String(details.errorCode ?? 'error'), fallback);
      if (!isMigrationMode(details.value)) return onError(orgId, 'invalid_value', fallback);
      // DEFAULT / DISABLED: the provider handed back our default, i.e. the static answer.
      const decision: ModeDecision =
        details.reason === 'DEFAULT' || details.reason === 'DISABLED'
          ? { mode: details.value, source: fallback.source }
          : { mode: details.value, source: 'flag' };
      if (cache) {
        if (cache.size >= MAX_CACHED_TENANTS) cache.clear();
        cache.set(cacheKey, decision);
      }
      return decision;
    } catch {
      return onError(orgId, 'exception', fallback);
    } finally {
      if (timer) clearTimeout(timer);
    }
  };

  return Object.freeze({
    resolve: (orgId: string | null) => {
      const cached = cache?.get(keyOf(orgId));
      return cached ? cached.mode : evaluate(orgId).then((d) => d.mode);
    },
    explain: evaluate,
    staticMode,
    close() {
      if (cache) client.removeHandler?.(CHANGED, clear);
    },
  });
}
