import { describeEventStoreContract } from '../testing';
import { InMemoryEventStore } from './in-memory-event-store';

describeEventStoreContract('in-memory', () => {
  const store = new InMemoryEventStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});
