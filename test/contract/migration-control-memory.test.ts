import { createMemoryMigrationControlStore } from '../../src/stores/migration-control/memory';
import { migrationControlStoreContract } from './migration-control-store.contract';

migrationControlStoreContract('memory', async (options) => ({
  store: createMemoryMigrationControlStore(options),
}));
