import { describeTreeStoreContract } from '../testing/tree-store.contract';
import { InMemoryTreeStore } from './in-memory-tree.store';

describeTreeStoreContract('in memory', () => ({ store: new InMemoryTreeStore(), dispose: () => undefined }), { durable: false });
