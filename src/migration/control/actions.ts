// One audited path for every operator change (CLI and dashboard): validate, write to the store, emit a
// `privileged` audit event for the attempt's outcome. The store's history is the durable record; the
// audit event feeds whatever sink the operator already watches.
import type { Auditor } from '../../telemetry/audit';
import type { ControlChange, ControlTarget, ControlValue, MigrationControlStore } from './types';

/**
 * An operator action on the control store.
 *
 * @example
 * ```ts
 * const action: ControlAction = { kind: 'set', target: { scope: 'org', orgId: 'org_acme' }, value: { mode: 'dual' } };
 * ```
 */
export type ControlAction =
  | { readonly kind: 'set'; readonly target: ControlTarget; readonly value: ControlValue | null }
  | { readonly kind: 'rollback'; readonly target: ControlTarget };

/**
 * The audit action names: `migration.mode.set`, `migration.rollout.set`, `migration.default.set`,
 * and `.rollback` in place of `.set`.
 *
 * @example
 * ```ts
 * auditActionOf({ kind: 'rollback', target: { scope: 'org', orgId: 'o' } }); // 'migration.mode.rollback'
 * ```
 */
export function auditActionOf(action: ControlAction): string {
  const noun = action.target.scope === 'org' ? 'mode' : action.target.scope;
  return `migration.${noun}.${action.kind}`;
}

/**
 * Applies one operator action and audits it (`succeeded` with the new version, or `failed`). Rethrows
 * the store's error after auditing it.
 *
 * @example
 * ```ts
 * const change = await applyControlAction(store, { kind: 'set', target, value: { mode: 'dual' } },
 *   { actor: 'alice', reason: 'ticket 42', auditor, via: 'cli' });
 * ```
 */
export async function applyControlAction(
  store: MigrationControlStore,
  action: ControlAction,
  context: {
    actor: string;
    reason?: string | null;
    auditor: Auditor;
    via: 'cli' | 'dashboard';
    expectedVersion?: number;
  },
): Promise<ControlChange> {
  const orgId = action.target.scope === 'org' ? action.target.orgId : null;
  const base = {
    action: auditActionOf(action),
    principal: null,
    orgId,
    target: orgId ?? action.target.scope,
  };
  try {
    const change =
      action.kind === 'set'
        ? await store.change({
            target: action.target,
            value: action.value,
            actor: context.actor,
            reason: context.reason,
            expectedVersion: context.expectedVersion,
          })
        : await store.rollback({ target: action.target, actor: context.actor, reason: context.reason });
    context.auditor.privileged({
      ...base,
      outcome: 'succeeded',
      details: {
        actor: context.actor,
        via: context.via,
        version: change.version,
        mode: change.value?.mode ?? null,
        previous: change.previous?.mode ?? null,
        percent: change.value?.percent ?? null,
        reason: change.reason,
      },
    });
    return change;
  } catch (err) {
    context.auditor.privileged({
      ...base,
      outcome: 'failed',
      details: {
        actor: context.actor,
        via: context.via,
        error: (err as { code?: string })?.code ?? (err instanceof TypeError ? 'invalid' : 'error'),
      },
    });
    throw err;
  }
}
