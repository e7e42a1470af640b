import { describeBatchReadModelStoreContract } from '../testing';
import { InMemoryReadModelStore } from './in-memory-read-model.store';

describeBatchReadModelStoreContract('in-memory', () => {
  const store = new InMemoryReadModelStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});
