import { randomUUID } from 'node:crypto';
import type { ReadModelChange, ReadModelStore } from '@flagline/contracts';

export interface ReadModelStoreHarness {
  readonly store: ReadModelStore;
  dispose(): Promise<void>;
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Behaviour every read-model store adapter must show: in-memory and Redis run it. */
export function describeReadModelStoreContract(adapterName: string, factory: () => Promise<ReadModelStoreHarness>): void {
  describe(`ReadModelStore contract: ${adapterName}`, () => {
    let harness: ReadModelStoreHarness;
    let store: ReadModelStore;
    let ns: string;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      ns = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('reads nothing for unknown keys and 0 for an unknown checkpoint', async () => {
      expect(await store.get(`${ns}:missing`)).toBeNull();
      expect(await store.getMany([`${ns}:a`, `${ns}:b`])).toEqual([null, null]);
      expect(await store.checkpoint(`${ns}:cp`)).toBe(0);
    });

    it('writes documents and the checkpoint together when the checkpoint matches', async () => {
      const doc = { name: 'zoë', nested: { list: [1, true, null, 'x'] } };
      const applied = await store.commit({
        checkpoint: { key: `${ns}:cp`, expected: 0, next: 7 },
        writes: [{ key: `${ns}:doc:1`, value: doc }, { key: `${ns}:doc:2`, value: 2 }],
        changedEnvironments: [],
      });
      expect(applied).toBe(true);
      expect(await store.get(`${ns}:doc:1`)).toEqual(doc);
      expect(await store.getMany([`${ns}:doc:2`, `${ns}:doc:1`])).toEqual([2, doc]);
      expect(await store.checkpoint(`${ns}:cp`)).toBe(7);
    });

    it('writes nothing when the checkpoint moved on (a replayed or stale commit)', async () => {
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 0, next: 5 }, writes: [{ key: `${ns}:doc`, value: 'first' }], changedEnvironments: [] });
      const stale = await store.commit({
        checkpoint: { key: `${ns}:cp`, expected: 0, next: 6 },
        writes: [{ key: `${ns}:doc`, value: 'stale' }, { key: `${ns}:other`, value: 'stale' }],
        changedEnvironments: [],
      });
      expect(stale).toBe(false);
      expect(await store.get(`${ns}:doc`)).toBe('first');
      expect(await store.get(`${ns}:other`)).toBeNull();
      expect(await store.checkpoint(`${ns}:cp`)).toBe(5);
    });

    it('deletes documents in a commit', async () => {
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 0, next: 1 }, writes: [{ key: `${ns}:doc`, value: 1 }], changedEnvironments: [] });
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 1, next: 2 }, writes: [{ key: `${ns}:doc`, delete: true }], changedEnvironments: [] });
      expect(await store.get(`${ns}:doc`)).toBeNull();
    });

    it('lists keys by literal prefix, pattern characters included', async () => {
      const prefix = `${ns}:identity:7:`;
      await store.commit({
        checkpoint: { key: `${ns}:cp`, expected: 0, next: 1 },
        writes: [
          { key: `${prefix}alice`, value: 1 },
          { key: `${prefix}b*[o]?b`, value: 2 },
          { key: `${ns}:identity:70:carol`, value: 3 },
        ],
        changedEnvironments: [],
      });
      expect(await store.keysWithPrefix(prefix)).toEqual([`${prefix}alice`, `${prefix}b*[o]?b`].sort());
      expect(await store.keysWithPrefix(`${ns}:identity:7*`)).toEqual([]);
    });

    it('keeps documents isolated from later mutation by the caller', async () => {
      // A store may copy documents (Redis) or freeze them in place (in-memory): either way a
      // mutation by the writer or a reader never reaches the stored document.
      const attempt = (mutate: () => void): void => {
        try {
          mutate();
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      };
      const doc = { list: [1] };
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 0, next: 1 }, writes: [{ key: `${ns}:doc`, value: doc }], changedEnvironments: [] });
      attempt(() => doc.list.push(2));
      const read = await store.get<{ list: number[] }>(`${ns}:doc`);
      attempt(() => read?.list.push(3));
      expect(await store.get(`${ns}:doc`)).toEqual({ list: [1] });
    });

    it('announces the changed environments of each applied commit to subscribers', async () => {
      const seen: ReadModelChange[] = [];
      const unsubscribe = store.subscribe((change) => seen.push(change));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 0, next: 1 }, writes: [], changedEnvironments: [101, 102] });
      await store.commit({ checkpoint: { key: `${ns}:cp`, expected: 0, next: 2 }, writes: [], changedEnvironments: [103] });
      await store.commit({
        checkpoint: { key: `${ns}:cp`, expected: 1, next: 3 },
        writes: [],
        changedEnvironments: [],
        changedIdentities: [{ environmentId: 101, identifier: 'ada:*' }],
      });
      await eventually(() => seen.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      unsubscribe();
      expect(seen).toEqual([
        { environmentIds: [101, 102], identities: [] },
        { environmentIds: [], identities: [{ environmentId: 101, identifier: 'ada:*' }] },
      ]);
    });
  });
}
