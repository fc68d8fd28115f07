import { ConfigError } from '../core/errors';
import { isMigrationMode, MIGRATION_MODES, type MigrationMode, type TenantModes } from './modes';

/**
 * The environment variables `migrationModesFromEnv` reads.
 *
 * @example
 * ```ts
 * MIGRATION_ENV.mode; // 'AUTHPLANE_MIGRATION_MODE'
 * ```
 */
export const MIGRATION_ENV = Object.freeze({
  mode: 'AUTHPLANE_MIGRATION_MODE',
  tenants: 'AUTHPLANE_MIGRATION_TENANTS',
  rollout: 'AUTHPLANE_MIGRATION_ROLLOUT',
} as const);

/**
 * Static migration modes from the environment (read once, at start-up: a running process cannot see
 * its environment change, so runtime rollback needs a flag service):
 *
 * | variable | example | field |
 * |---|---|---|
 * | `AUTHPLANE_MIGRATION_MODE` | `legacy` | `mode` |
 * | `AUTHPLANE_MIGRATION_TENANTS` | `org_acme=dual,org_globex=target` | `tenants.orgs` |
 * | `AUTHPLANE_MIGRATION_ROLLOUT` | `shadow:25` or `dual:10:seed2` | `tenants.rollout` |
 *
 * @throws ConfigError naming the variable; messages never repeat a value.
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ provider: 'migration', legacy, target, ...migrationModesFromEnv(process.env) });
 * ```
 */
export function migrationModesFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): {
  mode?: MigrationMode;
  tenants?: TenantModes;
} {
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const out: {
    mode?: MigrationMode;
    tenants?: { orgs?: Record<string, MigrationMode>; rollout?: TenantModes['rollout'] };
  } = {};
  const mode = read(MIGRATION_ENV.mode);
  if (mode !== undefined) {
    if (!isMigrationMode(mode))
      throw new ConfigError(MIGRATION_ENV.mode, `must be one of ${MIGRATION_MODES.join(', ')}`);
    out.mode = mode;
  }
  const tenants = read(MIGRATION_ENV.tenants);
  if (tenants !== undefined) {
    const orgs: Record<string, MigrationMode> = {};
    for (const item of tenants
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = item.indexOf('=');
      const org = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      if (eq <= 0 || !isMigrationMode(value)) {
        throw new ConfigError(
          MIGRATION_ENV.tenants,
          `expected org=mode pairs with a mode among ${MIGRATION_MODES.join(', ')}`,
        );
      }
      orgs[org] = value;
    }
    out.tenants = { orgs };
  }
  const rollout = read(MIGRATION_ENV.rollout);
  if (rollout !== undefined) {
    const [rolloutMode, percent, seed] = rollout.split(':').map((s) => s.trim());
    const pct = Number(percent);
    if (!isMigrationMode(rolloutMode) || !/^\d+(\.\d+)?$/.test(percent ?? '') || pct > 100) {
      throw new ConfigError(MIGRATION_ENV.rollout, 'expected mode:percent[:seed], e.g. shadow:25');
    }
    out.tenants = {
      ...out.tenants,
      rollout: seed ? { mode: rolloutMode, percent: pct, seed } : { mode: rolloutMode, percent: pct },
    };
  }
  return out;
}
