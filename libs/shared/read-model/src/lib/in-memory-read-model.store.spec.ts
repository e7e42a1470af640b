import { describeReadModelStoreContract } from '../testing';
import { deepFreeze, InMemoryReadModelStore } from './in-memory-read-model.store';

describeReadModelStoreContract('in-memory', () => {
  const store = new InMemoryReadModelStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});

describe('InMemoryReadModelStore keeps documents as frozen objects', () => {
  it('serves the object written, frozen all the way down, without copying it', async () => {
    const store = new InMemoryReadModelStore();
    const document = { features: [{ feature: { id: 1, name: 'a' }, state: { enabled: true, allocations: [{ optionId: 2 }] } }] };
    await store.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [{ key: 'environment:1', value: document }], changedEnvironments: [1] });
    const read = await store.get<typeof document>('environment:1');
    expect(read).toBe(document);
    expect(Object.isFrozen(read?.features[0]?.state.allocations[0])).toBe(true);
    expect(() => (read?.features as unknown[]).push(1)).toThrow(TypeError);
  });

  it('stops the freeze walk at parts already frozen (structural sharing costs what changed)', () => {
    const shared = Object.freeze({ nested: { list: [1] } });
    const next = deepFreeze({ changed: { value: 1 }, shared });
    expect(Object.isFrozen(next.changed)).toBe(true);
    // `shared` was frozen shallowly before: the walk does not enter it, so its inside stays as it was.
    expect(Object.isFrozen(shared.nested)).toBe(false);
  });
});
