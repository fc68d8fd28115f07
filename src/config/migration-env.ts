// A whole migration plane from the environment: the service's existing single-provider variables become
// the legacy side, `AUTHPLANE_TARGET_*` the target side, `AUTHPLANE_MIGRATION_*` the modes and the store.
import { ConfigError } from '../core/errors';
import { migrationModesFromEnv } from '../migration/env';
import { type MigrationPlaneConfigInput, migrationPlaneConfigSchema } from './schema';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variables of the migration plane besides each side's own.
 *
 * @example
 * ```ts
 * MIGRATION_PLANE_ENV.store; // 'AUTHPLANE_MIGRATION_STORE'
 * ```
 */
export const MIGRATION_PLANE_ENV = Object.freeze({
  legacyProvider: 'AUTHPLANE_LEGACY_PROVIDER',
  targetPrefix: 'AUTHPLANE_TARGET_',
  store: 'AUTHPLANE_MIGRATION_STORE',
  pollSec: 'AUTHPLANE_MIGRATION_POLL_SEC',
} as const);

/**
 * Reads a migration plane (`AUTHPLANE_PROVIDER=migration`) from the environment:
 *
 * | variables | what |
 * |---|---|
 * | the single-provider ones (`AUTHPLANE_LEGACY_SECRET`, `AUTHPLANE_ISSUER`, …) | the legacy side, provider `AUTHPLANE_LEGACY_PROVIDER` (default `legacy`) |
 * | the same names with `AUTHPLANE_TARGET_` (`AUTHPLANE_TARGET_PROVIDER`, `AUTHPLANE_TARGET_ISSUER`, …) | the target side |
 * | `AUTHPLANE_MIGRATION_MODE`, `_TENANTS`, `_ROLLOUT` | static modes |
 * | `AUTHPLANE_MIGRATION_STORE` (`sqlite:…`, `postgres://…`, `redis://…`), `AUTHPLANE_MIGRATION_POLL_SEC` | the control store |
 *
 * @throws ConfigError naming the variable.
 * @example
 * ```ts
 * const config = readMigrationConfig(process.env, loadConfig);
 * ```
 */
export function readMigrationConfig(
  env: Env,
  loadSide: (env: Env) => Record<string, unknown>,
): MigrationPlaneConfigInput {
  const legacyEnv: Record<string, string | undefined> = {};
  const targetEnv: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('AUTHPLANE_')) continue;
    if (name.startsWith(MIGRATION_PLANE_ENV.targetPrefix))
      targetEnv[`AUTHPLANE_${name.slice(MIGRATION_PLANE_ENV.targetPrefix.length)}`] = value;
    else legacyEnv[name] = value;
  }
  legacyEnv.AUTHPLANE_PROVIDER = env[MIGRATION_PLANE_ENV.legacyProvider]?.trim() || 'legacy';
  const legacy = loadSide(legacyEnv);
  let target: Record<string, unknown>;
  try {
    target = loadSide(targetEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const variable = err.path.replace(/^AUTHPLANE_/, MIGRATION_PLANE_ENV.targetPrefix);
    throw new ConfigError(variable, err.message.replace(/^[^:]*: /, ''), { cause: err });
  }
  // Plane-wide fields live on the migration plane, not on a side.
  const { flags: legacyFlags, ...legacySide } = legacy;
  const { flags: targetFlags, ...targetSide } = target;
  const config: Record<string, unknown> = {
    provider: 'migration',
    legacy: legacySide,
    target: targetSide,
    ...migrationModesFromEnv(env),
  };
  const flags = { ...(legacyFlags as object), ...(targetFlags as object) };
  if (Object.keys(flags).length > 0) config.flags = flags;
  const store = env[MIGRATION_PLANE_ENV.store]?.trim();
  if (store) {
    const control: Record<string, unknown> = { store };
    const poll = env[MIGRATION_PLANE_ENV.pollSec]?.trim();
    if (poll) {
      if (!/^\d+(\.\d+)?$/.test(poll) || Number(poll) <= 0)
        throw new ConfigError(MIGRATION_PLANE_ENV.pollSec, 'must be a positive number of seconds');
      control.pollSec = Number(poll);
    }
    config.control = control;
  }
  const parsed = migrationPlaneConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String) : [];
    const variable =
      path[0] === 'control'
        ? MIGRATION_PLANE_ENV.store
        : path[0] === 'target'
          ? 'AUTHPLANE_TARGET_PROVIDER'
          : 'AUTHPLANE_PROVIDER';
    throw new ConfigError(variable, `${issue?.message ?? 'is invalid'} (${path.join('.')})`, {
      cause: parsed.error,
    });
  }
  return config as MigrationPlaneConfigInput;
}
