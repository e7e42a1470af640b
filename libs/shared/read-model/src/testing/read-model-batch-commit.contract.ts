import { randomUUID } from 'node:crypto';
import type { BatchReadModelStore, ReadModelChange } from '@flagline/contracts';

export interface BatchReadModelStoreHarness {
  readonly store: BatchReadModelStore;
  dispose(): Promise<void>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Batch commits and bulk checkpoint reads: in-memory and Redis run it, beside the store contract. */
export function describeBatchReadModelStoreContract(adapterName: string, factory: () => Promise<BatchReadModelStoreHarness>): void {
  describe(`BatchReadModelStore contract: ${adapterName}`, () => {
    let harness: BatchReadModelStoreHarness;
    let store: BatchReadModelStore;
    let ns: string;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      ns = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('reads several checkpoints at once, 0 for absent ones', async () => {
      await store.commit({ checkpoint: { key: `${ns}:cp:a`, expected: 0, next: 12 }, writes: [], changedEnvironments: [] });
      expect(await store.checkpointMany([`${ns}:cp:missing`, `${ns}:cp:a`])).toEqual([0, 12]);
      expect(await store.checkpointMany([])).toEqual([]);
    });

    it('applies every write and moves every checkpoint of a batch, announcing the union once', async () => {
      await store.commit({ checkpoint: { key: `${ns}:cp:a`, expected: 0, next: 3 }, writes: [{ key: `${ns}:gone`, value: 1 }], changedEnvironments: [] });
      const seen: ReadModelChange[] = [];
      const unsubscribe = store.subscribe((change) => seen.push(change));
      await pause(50);
      const applied = await store.commitBatch({
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
      expect(applied).toBe(true);
      expect(await store.getMany([`${ns}:doc:1`, `${ns}:doc:2`, `${ns}:gone`])).toEqual([{ name: 'one' }, [2], null]);
      expect(await store.checkpointMany([`${ns}:cp:a`, `${ns}:cp:b`])).toEqual([9, 8]);
      const deadline = Date.now() + 3000;
      while (seen.length === 0 && Date.now() < deadline) await pause(10);
      await pause(50);
      unsubscribe();
      expect(seen).toEqual([{ environmentIds: [4, 5], identities: [{ environmentId: 4, identifier: 'ada' }] }]);
    });

    it('writes nothing of a batch when any one checkpoint moved on', async () => {
      await store.commit({ checkpoint: { key: `${ns}:cp:b`, expected: 0, next: 5 }, writes: [{ key: `${ns}:doc`, value: 'before' }], changedEnvironments: [] });
      const seen: ReadModelChange[] = [];
      const unsubscribe = store.subscribe((change) => seen.push(change));
      await pause(50);
      const applied = await store.commitBatch({
        checkpoints: [
          { key: `${ns}:cp:a`, expected: 0, next: 7 },
          { key: `${ns}:cp:b`, expected: 0, next: 6 },
        ],
        writes: [{ key: `${ns}:doc`, value: 'batch' }, { key: `${ns}:new`, value: 'batch' }],
        changedEnvironments: [1],
        changedIdentities: [],
      });
      await pause(50);
      unsubscribe();
      expect(applied).toBe(false);
      expect(await store.getMany([`${ns}:doc`, `${ns}:new`])).toEqual(['before', null]);
      expect(await store.checkpointMany([`${ns}:cp:a`, `${ns}:cp:b`])).toEqual([0, 5]);
      expect(seen).toEqual([]);
    });

    it('refuses a batch without a checkpoint to guard it', async () => {
      await expect(store.commitBatch({ checkpoints: [], writes: [{ key: `${ns}:doc`, value: 1 }], changedEnvironments: [], changedIdentities: [] })).rejects.toThrow(
        /at least one checkpoint/,
      );
      expect(await store.get(`${ns}:doc`)).toBeNull();
    });
  });
}
