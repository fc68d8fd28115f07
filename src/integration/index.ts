// authplane/integration: connector tokens behind one interface. The first-party adapter is built in;
// Nango is reached by a dynamic import only when selected (and flagged). No vendor SDK is loaded here.
export {
  BUILTIN_INTEGRATIONS,
  type IntegrationDefinition,
  type IntegrationSettings,
  type ResolvedIntegration,
  resolveIntegration,
  type TokenResponseStyle,
} from './catalog';
export type { FirstPartyPlaneConfig, NangoPlaneConfig } from './config';
export {
  createIntegrationPlane,
  type FirstPartyIntegrationPlane,
  type IntegrationPlaneConfig,
} from './create';
export { createKeyring, type Keyring, type KeyringConfig, type SealFormat } from './crypto';
export { DecryptionError, INTEGRATION_REASONS, IntegrationError, type IntegrationReason } from './errors';
export type {
  ConnectApi,
  ConnectFinishOptions,
  ConnectStart,
  ConnectStartOptions,
  SaveCredentialsOptions,
} from './first-party/types';
export {
  createMemoryRefreshLock,
  createPostgresRefreshLock,
  createRedisRefreshLock,
  type PgLockClient,
  type PgLockPool,
  type RedisLockClient,
  type RefreshLock,
  type ReleaseLock,
} from './locks';
export { createOriginPolicy, type OriginPolicy } from './origins';
export type {
  ConnectionAuthType,
  ConnectionFilter,
  ConnectionInfo,
  ConnectionRef,
  GetTokenOptions,
  IntegrationAdapter,
  IntegrationPlane,
  IntegrationToken,
} from './types';
