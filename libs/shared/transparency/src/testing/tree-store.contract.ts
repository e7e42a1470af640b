import { hashLeaf } from '../lib/merkle';
import { consistencyProof, inclusionProof, nodesForAppend, treeRoot } from '../lib/merkle-tree';
import { rfcMth } from './rfc6962-reference';
import { TreeAppendError, type StoredTreeHead, type TransparencyTreeStore, type TreeLeaf } from '../lib/tree-store.port';

export interface TreeStoreHarness {
  readonly store: TransparencyTreeStore;
  /** The same storage opened again, as a restarted process would (durable stores only). */
  reopen?(): TransparencyTreeStore;
  dispose(): void;
}

/** Leaves at positions 10, 20, 30, ... (not dense, as in EventStoreDB's `$all`). */
export function sampleLeaves(from: number, count: number): TreeLeaf[] {
  return Array.from({ length: count }, (_, offset) => {
    const index = from + offset;
    return { index, position: (index + 1) * 10, eventId: `event-${index}`, hash: hashLeaf(Buffer.from(`entry ${index}`)) };
  });
}

/** Appends leaves the way the log's follower does: with the subtree nodes they complete. */
export function appendSample(store: TransparencyTreeStore, count: number): void {
  const leaves = sampleLeaves(store.size, count);
  store.append(
    leaves,
    nodesForAppend(
      store,
      store.size,
      leaves.map((leaf) => leaf.hash),
    ),
  );
}

/** Counts the node reads a store answers, to show roots and proofs cost O(log n) of them. */
function counting(store: TransparencyTreeStore): { reads: () => number; reader: TransparencyTreeStore } {
  let reads = 0;
  const reader = Object.create(store) as TransparencyTreeStore;
  reader.node = (level: number, index: number) => {
    reads += 1;
    return store.node(level, index);
  };
  return { reads: () => reads, reader };
}

const head = (treeSize: number, keyId: string): StoredTreeHead => ({ treeSize, rootHash: '00'.repeat(32), timestamp: 1_700_000_000_000 + treeSize, signature: 'c2ln', keyId });

/** Behaviour every tree store must show: the in-memory twin and the SQLite adapter run it. */
export function describeTreeStoreContract(adapterName: string, factory: () => TreeStoreHarness, options: { durable: boolean }): void {
  describe(`TransparencyTreeStore contract: ${adapterName}`, () => {
    let harness: TreeStoreHarness;
    let store: TransparencyTreeStore;

    beforeEach(() => {
      harness = factory();
      store = harness.store;
    });
    afterEach(() => harness.dispose());

    it('starts empty', () => {
      expect(store.size).toBe(0);
      expect(store.leaf(0)).toBeUndefined();
      expect(store.leaves(0, 10)).toEqual([]);
      expect(() => store.node(0, 0)).toThrow(RangeError);
    });

    it('keeps leaves in order, found by index, position and event id', () => {
      appendSample(store, 5);
      appendSample(store, 3);
      expect(store.size).toBe(8);
      expect(store.leaf(6)).toEqual(sampleLeaves(6, 1)[0]);
      expect(store.leaves(3, 3).map((leaf) => leaf.index)).toEqual([3, 4, 5]);
      expect(store.leaves(6, 10).map((leaf) => leaf.position)).toEqual([70, 80]);
      expect(store.leafIndexAtPosition(40)).toBe(3);
      expect(store.leafIndexAtPosition(45)).toBeUndefined();
      expect(store.leafIndexOfEvent('event-7')).toBe(7);
      expect(store.leafIndexOfEvent('event-8')).toBeUndefined();
    });

    it('keeps every complete subtree, so roots and proofs read O(log n) nodes', () => {
      appendSample(store, 1000);
      const { reads, reader } = counting(store);
      const leafHashes = sampleLeaves(0, 1000).map((leaf) => leaf.hash);
      expect(reader.node(3, 2)).toEqual(rfcMth(leafHashes.slice(16, 24)));
      expect(reader.node(0, 999)).toEqual(leafHashes[999]);
      const before = reads();
      treeRoot(reader, 1000);
      inclusionProof(reader, 617, 999);
      consistencyProof(reader, 333, 1000);
      // log2(1000) is about 10: each of the three needs a few dozen reads at most, never hundreds.
      expect(reads() - before).toBeLessThan(3 * 2 * 11);
    });

    it('refuses an append that does not continue the tree, and writes none of it', () => {
      appendSample(store, 2);
      const gap = sampleLeaves(3, 1);
      expect(() => store.append(gap, [])).toThrow(TreeAppendError);
      const backwards = [{ ...(sampleLeaves(2, 1)[0] as TreeLeaf), position: 5 }];
      expect(() => store.append(backwards, [])).toThrow(TreeAppendError);
      expect(store.size).toBe(2);
      expect(store.leaf(2)).toBeUndefined();
    });

    it('keeps signed tree heads per size and key, the first one signed', () => {
      store.saveSignedHead(head(3, 'key-a'));
      store.saveSignedHead({ ...head(3, 'key-a'), timestamp: 1 });
      store.saveSignedHead(head(3, 'key-b'));
      expect(store.signedHead(3, 'key-a')).toEqual(head(3, 'key-a'));
      expect(store.signedHead(3, 'key-b')).toEqual(head(3, 'key-b'));
      expect(store.signedHead(4, 'key-a')).toBeUndefined();
    });

    if (options.durable) {
      it('holds the same tree after a reopen', () => {
        appendSample(store, 13);
        store.saveSignedHead(head(13, 'key-a'));
        const root = treeRoot(store, 13);
        store.close();
        const reopened = harness.reopen?.();
        if (!reopened) throw new Error('A durable store harness must reopen');
        store = reopened;
        expect(store.size).toBe(13);
        expect(treeRoot(store, 13)).toEqual(root);
        expect(store.leafIndexOfEvent('event-12')).toBe(12);
        expect(store.signedHead(13, 'key-a')).toEqual(head(13, 'key-a'));
        appendSample(store, 3);
        expect(store.size).toBe(16);
        expect(treeRoot(store, 16)).toEqual(rfcMth(sampleLeaves(0, 16).map((leaf) => leaf.hash)));
      });
    }
  });
}
