import { describeReadModelStoreContract } from '../testing';
import { InMemoryReadModelStore } from './in-memory-read-model.store';

describeReadModelStoreContract('in-memory', () => {
  const store = new InMemoryReadModelStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});
