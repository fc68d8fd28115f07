// `authplane/stores`: the store contracts, the memory stores and the caches. No database driver is
// loaded from here: SQLite, PostgreSQL and Redis live in their own subpaths and import their driver lazily.

export type { MigrationControlStore } from '../migration/control/types';
export { type CacheOptions, createCachedApiKeyStore, createCachedRevocationStore } from './cache';
export {
  CHANNELS_ENV,
  type ChannelSpec,
  describeChannel,
  type OpenChannelsOptions,
  openInvalidationChannels,
  parseChannelSpecs,
} from './channels';
export type {
  ApiKeyFilter,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyUpdate,
  ApiKeyUsage,
  CompareAndSetResult,
  ConnectionInput,
  ConnectionKey,
  ConnectionRecord,
  ConnectionStatus,
  ConnectionStore,
  IdentityLink,
  IdentityLinkStore,
  InvalidationChannel,
  InvalidationEvent,
  LinkImportBatch,
  LinkImportResult,
  NewIdentityLink,
  NewOrgLink,
  OrgLink,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from './contracts';
export { StoreError, type StoreErrorCode, toStoreError, unavailable } from './errors';
export { parseEvent } from './events';
export { createFanoutChannel } from './fanout';
export type { LivenessOptions } from './liveness';
export {
  createMemoryApiKeyStore,
  createMemoryConnectionStore,
  createMemoryIdentityLinkStore,
  createMemoryInvalidationChannel,
  createMemoryRevocationStore,
  type MemoryRevocationStoreOptions,
  type MemoryStoreOptions,
} from './memory';
export { createMemoryMigrationControlStore } from './migration-control/memory';
export { loadPeer } from './peer';
