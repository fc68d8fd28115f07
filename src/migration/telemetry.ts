import { type Counter, type MeterProvider, metrics, ValueType } from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE } from '../telemetry/metrics';

interface MigrationInstruments {
  readonly comparisons: Counter;
  readonly divergences: Counter;
  readonly dropped: Counter;
  readonly flagErrors: Counter;
  readonly refusals: Counter;
}

const byProvider = new WeakMap<MeterProvider, MigrationInstruments>();

/**
 * The migration plane's OpenTelemetry counters (no-ops until an SDK is installed). Attributes are
 * closed sets (class, outcome, side, mode, kind): never a tenant id, a subject or a credential.
 *
 * - `authplane.migration.shadow.comparisons` {outcome: agreed | diverged}
 * - `authplane.migration.divergences` {class: decision | subject | org | scopes | roles}
 * - `authplane.migration.shadow.dropped` {reason: queue_full | closed}
 * - `authplane.migration.flag_errors` {kind}
 * - `authplane.migration.refusals` {side, mode}: credentials refused with `provider_disabled`
 *
 * @example
 * ```ts
 * migrationInstruments(meterProvider).divergences.add(1, { 'authplane.migration.class': 'scopes' });
 * ```
 */
export function migrationInstruments(explicit?: MeterProvider): MigrationInstruments {
  const provider = explicit ?? metrics.getMeterProvider();
  let found = byProvider.get(provider);
  if (!found) {
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    const counter = (name: string, description: string) =>
      meter.createCounter(name, { description, valueType: ValueType.INT });
    found = {
      comparisons: counter('authplane.migration.shadow.comparisons', 'Shadow comparisons, by outcome'),
      divergences: counter('authplane.migration.divergences', 'Shadow divergences, by class'),
      dropped: counter('authplane.migration.shadow.dropped', 'Shadow evaluations dropped, by reason'),
      flagErrors: counter('authplane.migration.flag_errors', 'Failed mode-flag evaluations, by kind'),
      refusals: counter(
        'authplane.migration.refusals',
        'Credentials refused by the tenant mode, by side and mode',
      ),
    };
    byProvider.set(provider, found);
  }
  return found;
}

/**
 * Runs a telemetry call, swallowing every error: a counter never changes a decision.
 *
 * @example
 * ```ts
 * safely(() => migrationInstruments().dropped.add(1, { 'authplane.migration.reason': 'queue_full' }));
 * ```
 */
export function safely(run: () => void): void {
  try {
    run();
  } catch {
    // Swallowed by contract.
  }
}
