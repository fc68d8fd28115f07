// authplane/migration: run a legacy and a target identity provider side by side, tenant by tenant, with
// shadow comparison, identity links and rollback by flag. `createIdentityPlane({ provider: 'migration' })`
// builds the same plane from configuration; this entry adds composition, links import and reports.
export { applyControlAction, auditActionOf, type ControlAction } from './control/actions';
export {
  type DashboardOptions,
  type MigrationDashboard,
  startMigrationDashboard,
} from './control/dashboard';
export { describeControlStore, type OpenedControlStore, openControlStore } from './control/open';
export type { ControlHealth, MigrationControlOptions } from './control/runtime';
export { EMPTY_SHADOW_COUNTS } from './control/store';
export {
  type FleetReport,
  type FleetTenant,
  REPORT_WINDOWS,
  type ReadinessOptions,
  readFleetReport,
  summarizeFleet,
  type Verdict,
} from './control/summary';
export {
  type ControlChange,
  type ControlChangeInput,
  type ControlEntry,
  type ControlState,
  type ControlTarget,
  type ControlValue,
  type MigrationControlStore,
  SHADOW_COUNTERS,
  type ShadowBucket,
  type ShadowCounts,
} from './control/types';
export type { ControlStatus } from './control/watch';
export { createMigrationPlane } from './create';
export { MIGRATION_ENV, migrationModesFromEnv } from './env';
export {
  type ImportLinksOptions,
  importLinks,
  type LinkFileFormat,
  type LinkFileImportResult,
  LinkImportError,
  type LinkImportIssue,
  type ParsedLinkFile,
  parseLinkFile,
} from './import';
export {
  byVerifiedEmail,
  type FirstSight,
  type FirstSightHook,
  type LinkIdentity,
  type LinkOptions,
  type OrgFirstSight,
  type OrgFirstSightHook,
  unlinkedSubject,
} from './links';
export {
  createModeResolver,
  DEFAULT_MODE_FLAG_KEY,
  isMigrationMode,
  MIGRATION_MODES,
  type MigrationMode,
  type ModeControlSource,
  type ModeDecision,
  type ModeFlagClient,
  type ModeFlagOptions,
  type ModeResolver,
  type ModeResolverOptions,
  type ModeSource,
  modeAccepts,
  type Rollout,
  rolloutBucket,
  type TenantModes,
} from './modes';
export {
  composeMigrationPlane,
  createMigrationAdapter,
  isMigrationPlane,
  MIGRATION_PROVIDER_NAME,
  type MigrationAdapter,
  type MigrationControls,
  type MigrationOptions,
  type MigrationPlane,
} from './plane';
export { createRouter, type Router, type RoutingOptions, type Side } from './routing';
export {
  DIVERGENCE_CLASSES,
  type DivergenceClass,
  type MigrationReport,
  type ShadowEvent,
  type ShadowOptions,
  type ShadowSide,
  summarizeShadowEvents,
  type TenantReport,
} from './shadow';
