import { EMPTY_ROOT, hashChildren, splitPoint } from './merkle';

/**
 * The hashes of complete subtrees: node (level, index) covers leaves
 * [index * 2^level, (index + 1) * 2^level), level 0 being the leaf hashes. Every root and proof of
 * RFC 6962 is made of such nodes and of hashes computed from O(log n) of them, so a store that
 * keeps them answers any root or proof with O(log n) reads.
 */
export interface SubtreeReader {
  /** The hash of a complete subtree the tree holds; throws when it does not hold it. */
  node(level: number, index: number): Buffer;
}

/** A complete subtree's hash to store. */
export interface SubtreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/** MTH(D[start:end]) (RFC 6962 §2.1) for a range the RFC's recursion reaches (its left parts are complete and aligned). */
function rangeHash(reader: SubtreeReader, start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return reader.node(0, start);
  const level = Math.log2(n);
  if (Number.isInteger(level) && start % n === 0) return reader.node(level, start / n);
  const k = splitPoint(n);
  return hashChildren(rangeHash(reader, start, start + k), rangeHash(reader, start + k, end));
}

/** The Merkle tree hash of the first `size` leaves. */
export function treeRoot(reader: SubtreeReader, size: number): Buffer {
  return size === 0 ? Buffer.from(EMPTY_ROOT) : rangeHash(reader, 0, size);
}

/** PATH(m, D[start:end]) of RFC 6962 §2.1.1, leaf to root. */
function path(reader: SubtreeReader, m: number, start: number, end: number, into: Buffer[]): void {
  const n = end - start;
  if (n === 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(reader, m, start, start + k, into);
    into.push(rangeHash(reader, start + k, end));
  } else {
    path(reader, m - k, start + k, end, into);
    into.push(rangeHash(reader, start, start + k));
  }
}

/** The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1). */
export function inclusionProof(reader: SubtreeReader, index: number, size: number): Buffer[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`Leaf ${index} is not in a tree of ${size} leaves`);
  const proof: Buffer[] = [];
  path(reader, index, 0, size, proof);
  return proof;
}

/** SUBPROOF(m, D[start:end], b) of RFC 6962 §2.1.2. */
function subproof(reader: SubtreeReader, m: number, start: number, end: number, complete: boolean, into: Buffer[]): void {
  const n = end - start;
  if (m === n) {
    if (!complete) into.push(rangeHash(reader, start, end));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(reader, m, start, start + k, complete, into);
    into.push(rangeHash(reader, start + k, end));
  } else {
    subproof(reader, m - k, start + k, end, false, into);
    into.push(rangeHash(reader, start, start + k));
  }
}

/** The consistency proof from the tree of `first` leaves to the tree of `second` leaves (RFC 9162 §2.1.4.1); empty when first is 0 or equals second. */
export function consistencyProof(reader: SubtreeReader, first: number, second: number): Buffer[] {
  if (!(first >= 0 && first <= second)) throw new RangeError(`No consistency proof from ${first} to ${second} leaves`);
  const proof: Buffer[] = [];
  if (first === 0 || first === second) return proof;
  subproof(reader, first, 0, second, true, proof);
  return proof;
}

/**
 * The complete subtree hashes the tree gains when leaves are appended after `size` leaves:
 * each leaf, then every node it completes. `frontier` gives the hash of an existing complete node
 * (only those on the tree's right edge are asked for).
 */
export function nodesForAppend(frontier: SubtreeReader, size: number, leafHashes: readonly Buffer[]): SubtreeNode[] {
  const added: SubtreeNode[] = [];
  const fresh = new Map<string, Buffer>();
  const read = (level: number, index: number): Buffer => fresh.get(`${level}:${index}`) ?? frontier.node(level, index);
  leafHashes.forEach((hash, offset) => {
    let index = size + offset;
    let level = 0;
    let current = hash;
    added.push({ level, index, hash: current });
    fresh.set(`${level}:${index}`, current);
    while (index % 2 === 1) {
      current = hashChildren(read(level, index - 1), current);
      level += 1;
      index = (index - 1) / 2;
      added.push({ level, index, hash: current });
      fresh.set(`${level}:${index}`, current);
    }
  });
  return added;
}
