import { createCachedApiKeyStore, createCachedRevocationStore } from '../../src/stores/cache';
import {
  createMemoryApiKeyStore,
  createMemoryConnectionStore,
  createMemoryIdentityLinkStore,
  createMemoryInvalidationChannel,
  createMemoryRevocationStore,
} from '../../src/stores/memory';
import { apiKeyStoreContract } from './api-key-store.contract';
import { connectionStoreContract } from './connection-store.contract';
import { identityLinkStoreContract } from './identity-link-store.contract';
import { revocationStoreContract } from './revocation-store.contract';

apiKeyStoreContract('memory', async () => ({ store: createMemoryApiKeyStore() }));
revocationStoreContract('memory', async () => ({ store: createMemoryRevocationStore() }));
revocationStoreContract('memory (bounded at 50 entries)', async () => ({
  store: createMemoryRevocationStore({ maxEntries: 50 }),
  capacity: 50,
}));
identityLinkStoreContract('memory', async () => ({ store: createMemoryIdentityLinkStore() }));
connectionStoreContract('memory', async () => ({ store: createMemoryConnectionStore() }));

// The caches are stores too: in front of any store they must keep its contract.
apiKeyStoreContract('cached(memory) with an in-process channel', async () => {
  const channel = createMemoryInvalidationChannel();
  const store = createCachedApiKeyStore({ store: createMemoryApiKeyStore(), channel });
  return { store, cleanup: () => store.close() };
});
revocationStoreContract('cached(memory) with an in-process channel', async () => {
  const channel = createMemoryInvalidationChannel();
  const store = createCachedRevocationStore({ store: createMemoryRevocationStore(), channel });
  return { store, cleanup: () => store.close() };
});
revocationStoreContract('cached(memory bounded at 50) with an in-process channel', async () => {
  const channel = createMemoryInvalidationChannel();
  const store = createCachedRevocationStore({
    store: createMemoryRevocationStore({ maxEntries: 50 }),
    channel,
  });
  return { store, capacity: 50, cleanup: () => store.close() };
});
