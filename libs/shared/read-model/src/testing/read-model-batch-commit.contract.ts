import { randomUUID } from 'node:crypto';
import type { BatchReadModelStore, ReadModelChange } from '@flagline/contracts';

export interface BatchReadModelStoreHarness {
  readonly store: BatchReadModelStore;
  dispose(): Promise<void>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Batch commits and bulk checkpoint reads: in-memory and Redis run it, beside the store contract. */
export function describeBatchReadModelStoreContract(adapterName: string, factory: () => Promise<BatchReadModelStoreHarness>): void {
  /** Runs `test` on a fresh store with a fresh key namespace, disposing of the store afterwards. */
  const withStore = (test: (store: BatchReadModelStore, ns: string) => Promise<void>) => async (): Promise<void> => {
    const harness = await factory();
    try {
      await test(harness.store, randomUUID().slice(0, 8));
    } finally {
      await harness.dispose();
    }
  };

  /** The changes the store announces while `during` runs (waiting up to 3 s for `expected` of them). */
  const listening = async (store: BatchReadModelStore, expected: number, during: () => Promise<void>): Promise<ReadModelChange[]> => {
    const seen: ReadModelChange[] = [];
    const unsubscribe = store.subscribe((change) => seen.push(change));
    await pause(50);
    await during();
    const deadline = Date.now() + 3000;
    while (seen.length < expected && Date.now() < deadline) await pause(10);
    await pause(50);
    unsubscribe();
    return seen;
  };

  describe(`BatchReadModelStore contract: ${adapterName}`, () => {
    it('reads several checkpoints at once, 0 for absent ones', withStore(async (store, ns) => {
      await store.commit({ checkpoint: { key: `${ns}:cp:a`, expected: 0, next: 12 }, writes: [], changedEnvironments: [] });
      expect(await store.checkpointMany([`${ns}:cp:missing`, `${ns}:cp:a`])).toEqual([0, 12]);
      expect(await store.checkpointMany([])).toEqual([]);
    }));

    it('applies every write and moves every checkpoint of a batch, announcing the union once', withStore(async (store, ns) => {
      await store.commit({ checkpoint: { key: `${ns}:cp:a`, expected: 0, next: 3 }, writes: [{ key: `${ns}:gone`, value: 1 }], changedEnvironments: [] });
      let applied = false;
      const seen = await listening(store, 1, async () => {
        applied = await store.commitBatch({
          checkpoints: [
            { key: `${ns}:cp:a`, expected: 3, next: 9 },
            { key: `${ns}:cp:b`, expected: 0, next: 8 },
          ],
          writes: [
            { key: `${ns}:doc:1`, value: { name: 'one' } },
            { key: `${ns}:gone`, delete: true },
            { key: `${ns}:doc:2`, value: [2] },
          ],
          changedEnvironments: [4, 5],
          changedIdentities: [{ environmentId: 4, identifier: 'ada' }],
        });
      });
      expect(applied).toBe(true);
      expect(await store.getMany([`${ns}:doc:1`, `${ns}:doc:2`, `${ns}:gone`])).toEqual([{ name: 'one' }, [2], null]);
      expect(await store.checkpointMany([`${ns}:cp:a`, `${ns}:cp:b`])).toEqual([9, 8]);
      expect(seen).toEqual([{ environmentIds: [4, 5], identities: [{ environmentId: 4, identifier: 'ada' }] }]);
    }));

    it('writes nothing of a batch when any one checkpoint moved on', withStore(async (store, ns) => {
      await store.commit({ checkpoint: { key: `${ns}:cp:b`, expected: 0, next: 5 }, writes: [{ key: `${ns}:doc`, value: 'before' }], changedEnvironments: [] });
      let applied = true;
      const seen = await listening(store, 0, async () => {
        applied = await store.commitBatch({
          checkpoints: [
            { key: `${ns}:cp:a`, expected: 0, next: 7 },
            { key: `${ns}:cp:b`, expected: 0, next: 6 },
          ],
          writes: [{ key: `${ns}:doc`, value: 'batch' }, { key: `${ns}:new`, value: 'batch' }],
          changedEnvironments: [1],
          changedIdentities: [],
        });
      });
      expect(applied).toBe(false);
      expect(await store.getMany([`${ns}:doc`, `${ns}:new`])).toEqual(['before', null]);
      expect(await store.checkpointMany([`${ns}:cp:a`, `${ns}:cp:b`])).toEqual([0, 5]);
      expect(seen).toEqual([]);
    }));

    it('refuses a batch without a checkpoint to guard it', withStore(async (store, ns) => {
      await expect(store.commitBatch({ checkpoints: [], writes: [{ key: `${ns}:doc`, value: 1 }], changedEnvironments: [], changedIdentities: [] })).rejects.toThrow(
        /at least one checkpoint/,
      );
      expect(await store.get(`${ns}:doc`)).toBeNull();
    }));
  });
}
