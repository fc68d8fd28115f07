import type { MigrationPlaneConfigInput } from '../config/schema';
import { createIdentityPlane } from '../identity/create';
import type { MigrationPlane } from './plane';

/**
 * `createIdentityPlane` for `provider: 'migration'`, typed: the same validation, the same plane, with
 * `plane.migration` (report, modes, flush).
 *
 * @throws ConfigError naming the field (`target.issuer`, `tenants.rollout.percent`, …).
 * @example
 * ```ts
 * const plane = await createMigrationPlane({ provider: 'migration',
 *   legacy: { provider: 'legacy', secret: process.env.DJANGO_SIGNING_KEY },
 *   target: { provider: 'oidc', issuer: 'https://id.example', audience: 'https://api.example' },
 *   mode: 'legacy', tenants: { orgs: { org_acme: 'dual' } },
 *   modeFlag: { client: OpenFeature.getClient() } });
 * ```
 */
export function createMigrationPlane(config: MigrationPlaneConfigInput): Promise<MigrationPlane> {
  return createIdentityPlane(config);
}
