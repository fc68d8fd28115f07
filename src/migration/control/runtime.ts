// What the plane's `control` option switches on: the watcher (modes from the store), the recorder
// (fleet-wide counters to the store) and the fleet report. Kept here so the plane only wires it in.
import { type MeterProvider, metrics, ValueType } from '@opentelemetry/api';
import { ConfigError } from '../../core/errors';
import type { InvalidationChannel } from '../../stores/contracts';
import { INSTRUMENTATION_SCOPE } from '../../telemetry/metrics';
import type { ShadowEvent } from '../shadow';
import { safely } from '../telemetry';
import { createShadowRecorder, type RecorderStats } from './recorder';
import { type FleetReport, type ReadinessOptions, readFleetReport } from './summary';
import type { MigrationControlStore } from './types';
import { type ControlStatus, createControlWatcher } from './watch';

/**
 * The migration plane's `control` option: modes and fleet counters in a shared store.
 *
 * @example
 * ```ts
 * const pg = await createPostgresStores({ connectionString: process.env.DATABASE_URL });
 * const channel = await createPostgresInvalidationChannel({ pool: pg.pool });
 * const control: MigrationControlOptions = { store: pg.migrationControl, channel, pollSec: 5 };
 * ```
 */
export interface MigrationControlOptions {
  readonly store: MigrationControlStore;
  /** Seconds between version polls (the fallback when no notification arrives). Default 1 without a channel, 10 with one. */
  readonly pollSec?: number;
  /** The invalidation channel the store announces changes on (PostgreSQL LISTEN/NOTIFY, Redis pub/sub). */
  readonly channel?: InvalidationChannel;
  /** Write shadow comparisons and per-tenant traffic to the store. Default true. */
  readonly record?: boolean;
  /** Seconds between counter writes. Default 5. */
  readonly flushSec?: number;
  /** Width of a counter bucket in seconds. Default 60. */
  readonly bucketSec?: number;
  /** When a tenant counts as ready for `dual` and `target` in `fleetReport()`. */
  readonly readiness?: ReadinessOptions;
}

/**
 * `plane.migration.control()`: the control state's health and the recorder's counters.
 *
 * @example
 * ```ts
 * if (plane.migration.control()?.stale) alert('modes are the last known ones');
 * ```
 */
export interface ControlHealth extends ControlStatus {
  readonly recorder: RecorderStats | null;
}

const counters = new WeakMap<MeterProvider, ReturnType<typeof createCounter>>();
const createCounter = (provider: MeterProvider) =>
  provider.getMeter(INSTRUMENTATION_SCOPE).createCounter('authplane.migration.control_errors', {
    description: 'Failed reads of the migration control store (the last known modes stay in use), by kind',
    valueType: ValueType.INT,
  });

/**
 * Checks the option and starts the watcher and recorder.
 *
 * @internal Called by `createMigrationAdapter`.
 * @throws ConfigError for a store that is not a MigrationControlStore or a bad interval.
 * @example
 * ```ts
 * const runtime = startControl(options.control, { meterProvider, clock });
 * ```
 */
export function startControl(
  options: MigrationControlOptions,
  deps: { meterProvider?: MeterProvider; clock?: () => number },
) {
  const store = options?.store as Partial<MigrationControlStore> | undefined;
  if (!store || typeof store.read !== 'function' || typeof store.version !== 'function')
    throw new ConfigError('control.store', 'must be a MigrationControlStore (read, version, change)');
  for (const name of ['pollSec', 'flushSec', 'bucketSec'] as const) {
    const v = options[name];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 86_400))
      throw new ConfigError(`control.${name}`, 'must be a number of seconds between 0 and 86400');
  }
  const channel = options.channel;
  if (channel !== undefined && typeof channel?.subscribe !== 'function')
    throw new ConfigError('control.channel', 'must be an InvalidationChannel');
  const provider = deps.meterProvider ?? metrics.getMeterProvider();
  const watcher = createControlWatcher(
    { store: options.store, channel, pollSec: options.pollSec },
    {
      clock: deps.clock,
      onError: (kind) =>
        safely(() => {
          let counter = counters.get(provider);
          if (!counter) {
            counter = createCounter(provider);
            counters.set(provider, counter);
          }
          counter.add(1, { 'authplane.migration.kind': kind });
        }),
    },
  );
  const recorder =
    options.record === false
      ? null
      : createShadowRecorder({
          store: options.store,
          flushSec: options.flushSec,
          bucketSec: options.bucketSec,
          clock: deps.clock,
        });
  return {
    watcher,
    recorder,
    /** Wraps the shadow `onEvent` so comparisons also reach the store. */
    onEvent(user?: (event: ShadowEvent) => void): (event: ShadowEvent) => void {
      return (event) => {
        recorder?.comparison(event);
        if (user) user(event);
      };
    },
    health: (): ControlHealth => ({ ...watcher.status(), recorder: recorder?.stats() ?? null }),
    async fleetReport(query: { sinceMs?: number } = {}): Promise<FleetReport> {
      await recorder?.flush();
      return readFleetReport(options.store, { ...query, readiness: options.readiness, now: deps.clock?.() });
    },
    async close(): Promise<void> {
      watcher.close();
      await recorder?.close().catch(() => {});
    },
  };
}

/**
 * A started control runtime (see {@link startControl}).
 *
 * @example
 * ```ts
 * const runtime: ControlRuntime = startControl({ store }, {});
 * ```
 */
export type ControlRuntime = ReturnType<typeof startControl>;
