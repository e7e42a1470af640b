import type { SubtreeNode, SubtreeReader } from './merkle-tree';
import type { SignedTreeHead } from './signed-tree-head';

/** A leaf of the log's tree: its index is its place in log order, `position` the event's global position there. */
export interface TreeLeaf {
  readonly index: number;
  readonly position: number;
  readonly eventId: string;
  readonly hash: Buffer;
}

/** A signed tree head as kept, with the key that signed it (SHA-256 of its raw public key, hex). */
export interface StoredTreeHead extends SignedTreeHead {
  readonly keyId: string;
}

/**
 * Where the log's Merkle tree is kept: its leaves (index <-> position <-> event id) and the hash of
 * every complete subtree, so any root or proof costs O(log n) reads, plus the tree heads signed so
 * far. Adapters: in memory (tests) and SQLite (`@flagline/transparency-store`), both passing
 * `describeTreeStoreContract`.
 */
export interface TransparencyTreeStore extends SubtreeReader {
  /** Leaves held. */
  readonly size: number;
  leaf(index: number): TreeLeaf | undefined;
  /** Up to `count` leaves from `index` on, in order. */
  leaves(index: number, count: number): TreeLeaf[];
  /** The index of the leaf of the event at a position, among the `size` leaves held (a leaf another connection wrote past them is not one yet). */
  leafIndexAtPosition(position: number): number | undefined;
  /** The index of an event's leaf, among the `size` leaves held. */
  leafIndexOfEvent(eventId: string): number | undefined;
  /** Appends leaves (indexes `size`, `size + 1`, ...) with the subtree nodes they complete, atomically. */
  append(leaves: readonly TreeLeaf[], nodes: readonly SubtreeNode[]): void;
  signedHead(treeSize: number, keyId: string): StoredTreeHead | undefined;
  saveSignedHead(head: StoredTreeHead): void;
  /** Reads again what another connection appended (a store whose leaves a `LeafWriter` writes elsewhere). */
  refresh?(): void;
  close(): void;
}

/** An append that does not continue the tree where it ends. */
export class TreeAppendError extends Error {
  override readonly name = 'TreeAppendError';
}

/** Checks that an append continues a store of `size` leaves; shared by the adapters. */
export function checkAppend(size: number, leaves: readonly TreeLeaf[], lastPosition: number | undefined): void {
  let expected = size;
  let previous = lastPosition ?? 0;
  for (const leaf of leaves) {
    if (leaf.index !== expected) throw new TreeAppendError(`Leaf ${leaf.index} appended to a tree of ${expected} leaves`);
    if (!(leaf.position > previous)) throw new TreeAppendError(`Leaf ${leaf.index} at position ${leaf.position} does not follow position ${previous}`);
    expected += 1;
    previous = leaf.position;
  }
}
