import type { ReadModelBatchCommit, ReadModelChange } from '@flagline/contracts';
import { BatchingReadModelStore } from './batching-read-model.store';
import { InMemoryReadModelStore } from './in-memory-read-model.store';

/** An in-memory store counting the reads and batch commits that reach it. */
function countingStore(): { store: InMemoryReadModelStore; reads: string[]; batches: ReadModelBatchCommit[] } {
  const store = new InMemoryReadModelStore();
  const reads: string[] = [];
  const batches: ReadModelBatchCommit[] = [];
  const getMany = store.getMany.bind(store);
  const checkpointMany = store.checkpointMany.bind(store);
  const commitBatch = store.commitBatch.bind(store);
  store.getMany = <T>(keys: readonly string[]) => {
    reads.push(...keys);
    return getMany<T>(keys);
  };
  store.checkpointMany = (keys) => {
    reads.push(...keys);
    return checkpointMany(keys);
  };
  store.commitBatch = (batch) => {
    batches.push(batch);
    return commitBatch(batch);
  };
  return { store, reads, batches };
}

describe('BatchingReadModelStore', () => {
  it('reads each key from the real store once per batch, checkpoints before documents, in one round trip each when prefetched', async () => {
    const { store, reads } = countingStore();
    await store.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 1 }, writes: [{ key: 'doc:1', value: { n: 1 } }], changedEnvironments: [] });
    const overlay = new BatchingReadModelStore(store);
    await overlay.prefetch({ documents: ['doc:1', 'doc:2'], checkpoints: ['cp:a'] });
    expect(reads).toEqual(['cp:a', 'doc:1', 'doc:2']);
    expect(await overlay.get('doc:1')).toEqual({ n: 1 });
    expect(await overlay.getMany(['doc:2', 'doc:1'])).toEqual([null, { n: 1 }]);
    expect(await overlay.checkpoint('cp:a')).toBe(1);
    expect(await overlay.get('doc:3')).toBeNull();
    expect(await overlay.get('doc:3')).toBeNull();
    expect(reads).toEqual(['cp:a', 'doc:1', 'doc:2', 'doc:3']);
  });

  it('buffers commits and writes only the last value of each document, with every checkpoint, in one batch commit', async () => {
    const { store, batches } = countingStore();
    await store.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 4 }, writes: [{ key: 'doc:gone', value: 'old' }], changedEnvironments: [] });
    const seen: ReadModelChange[] = [];
    store.subscribe((change) => seen.push(change));
    const overlay = new BatchingReadModelStore(store);
    expect(await overlay.commit({ checkpoint: { key: 'cp:a', expected: 4, next: 5 }, writes: [{ key: 'doc:1', value: 'first' }], changedEnvironments: [7] })).toBe(true);
    expect(await overlay.commit({ checkpoint: { key: 'cp:b', expected: 0, next: 6 }, writes: [{ key: 'doc:gone', delete: true }], changedEnvironments: [8], changedIdentities: [{ environmentId: 7, identifier: 'ada' }] })).toBe(true);
    expect(await overlay.commit({ checkpoint: { key: 'cp:a', expected: 5, next: 9 }, writes: [{ key: 'doc:1', value: 'last' }], changedEnvironments: [7], changedIdentities: [{ environmentId: 7, identifier: 'ada' }] })).toBe(true);
    // A replay of an applied commit finds its checkpoint moved on, as in the real store.
    expect(await overlay.commit({ checkpoint: { key: 'cp:a', expected: 4, next: 5 }, writes: [{ key: 'doc:1', value: 'stale' }], changedEnvironments: [] })).toBe(false);
    expect(overlay.pendingCommits).toBe(3);
    expect(await overlay.get('doc:1')).toBe('last');
    expect(await store.get('doc:1')).toBeNull();
    expect(await store.checkpoint('cp:a')).toBe(4);
    expect(seen).toEqual([]);

    expect(await overlay.flush()).toBe(true);
    expect(batches).toEqual([
      {
        checkpoints: [{ key: 'cp:a', expected: 4, next: 9 }, { key: 'cp:b', expected: 0, next: 6 }],
        writes: [{ key: 'doc:1', value: 'last' }, { key: 'doc:gone', delete: true }],
        changedEnvironments: [7, 8],
        changedIdentities: [{ environmentId: 7, identifier: 'ada' }],
      },
    ]);
    expect(await store.getMany(['doc:1', 'doc:gone'])).toEqual(['last', null]);
    expect(seen).toEqual([{ environmentIds: [7, 8], identities: [{ environmentId: 7, identifier: 'ada' }] }]);
    expect(overlay.pendingCommits).toBe(0);
  });

  it('writes nothing when a checkpoint moved in the real store before the flush, and forgets the batch', async () => {
    const { store } = countingStore();
    const overlay = new BatchingReadModelStore(store);
    await overlay.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 3 }, writes: [{ key: 'doc', value: 'batch' }], changedEnvironments: [] });
    await store.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 2 }, writes: [{ key: 'doc', value: 'rival' }], changedEnvironments: [] });
    expect(await overlay.flush()).toBe(false);
    expect(await store.get('doc')).toBe('rival');
    expect(await store.checkpoint('cp:a')).toBe(2);
    expect(await overlay.get('doc')).toBe('rival');
    expect(await overlay.checkpoint('cp:a')).toBe(2);
  });

  it('runs the work again on fresh reads when its flush lost a race, and gives up after the attempts allowed', async () => {
    const { store } = countingStore();
    let runs = 0;
    const result = await BatchingReadModelStore.run(store, async (overlay) => {
      runs++;
      const position = await overlay.checkpoint('cp:a');
      await overlay.commit({ checkpoint: { key: 'cp:a', expected: position, next: position + 1 }, writes: [{ key: 'doc', value: `run ${runs}` }], changedEnvironments: [] });
      if (runs === 1) await store.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 10 }, writes: [], changedEnvironments: [] });
      return runs;
    });
    expect(result).toBe(2);
    expect(await store.get('doc')).toBe('run 2');
    expect(await store.checkpoint('cp:a')).toBe(11);

    const always = BatchingReadModelStore.run(
      store,
      async (overlay) => {
        const position = await overlay.checkpoint('cp:a');
        await overlay.commit({ checkpoint: { key: 'cp:a', expected: position, next: position + 1 }, writes: [], changedEnvironments: [] });
        await store.commit({ checkpoint: { key: 'cp:a', expected: position, next: position + 1 }, writes: [], changedEnvironments: [] });
      },
      3,
    );
    await expect(always).rejects.toThrow(/kept losing races.*3 attempts/);
  });

  it('requires guarded checkpoints unchanged at the flush, though the batch does not move them', async () => {
    const { store, batches } = countingStore();
    await store.commit({ checkpoint: { key: 'cp:other', expected: 0, next: 4 }, writes: [], changedEnvironments: [] });
    const overlay = new BatchingReadModelStore(store);
    await overlay.guard(['cp:other']);
    await overlay.commit({ checkpoint: { key: 'cp:a', expected: 0, next: 1 }, writes: [{ key: 'doc', value: 'batch' }], changedEnvironments: [] });
    expect(await overlay.flush()).toBe(true);
    expect(batches[0]?.checkpoints).toEqual([{ key: 'cp:other', expected: 4, next: 4 }, { key: 'cp:a', expected: 0, next: 1 }]);

    const raced = new BatchingReadModelStore(store);
    await raced.guard(['cp:other']);
    await raced.commit({ checkpoint: { key: 'cp:a', expected: 1, next: 2 }, writes: [{ key: 'doc', value: 'stale' }], changedEnvironments: [] });
    await store.commit({ checkpoint: { key: 'cp:other', expected: 4, next: 5 }, writes: [], changedEnvironments: [] });
    expect(await raced.flush()).toBe(false);
    expect(await store.get('doc')).toBe('batch');
    expect(await store.checkpoint('cp:a')).toBe(1);

    const idle = new BatchingReadModelStore(store);
    await idle.guard(['cp:other']);
    expect(await idle.flush()).toBe(true);
    expect(batches).toHaveLength(2);
  });

  it('lists keys with the batch’s creations and deletions applied', async () => {
    const { store } = countingStore();
    await store.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [{ key: 'identity:1:a', value: 1 }, { key: 'identity:1:b', value: 2 }], changedEnvironments: [] });
    const overlay = new BatchingReadModelStore(store);
    await overlay.commit({ checkpoint: { key: 'cp', expected: 1, next: 2 }, writes: [{ key: 'identity:1:c', value: 3 }, { key: 'identity:1:a', delete: true }, { key: 'identity:10:z', value: 4 }], changedEnvironments: [] });
    expect(await overlay.keysWithPrefix('identity:1:')).toEqual(['identity:1:b', 'identity:1:c']);
  });

  it('refuses to flush documents written without moving a checkpoint', async () => {
    const { store } = countingStore();
    const overlay = new BatchingReadModelStore(store);
    await overlay.commit({ checkpoint: { key: 'cp', expected: 0, next: 0 }, writes: [{ key: 'doc', value: 1 }], changedEnvironments: [] });
    await expect(overlay.flush()).rejects.toThrow(/without moving a checkpoint/);
    expect(await store.get('doc')).toBeNull();
  });
});
