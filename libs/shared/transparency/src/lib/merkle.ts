import { createHash, hash } from 'node:crypto';

/** Bytes of a SHA-256 hash: every leaf, node and root of the tree. */
export const HASH_BYTES = 32;


/** The root of the empty tree: SHA-256 of nothing (RFC 6962 §2.1). */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** A leaf's hash: SHA-256(0x00 || entry), RFC 6962 §2.1. */
export function hashLeaf(entry: Uint8Array): Buffer {
  // The one-shot digest over one buffer: no Hash object per leaf (the follower hashes every event).
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = 0x00;
  input.set(entry, 1);
  return hash('sha256', input, 'buffer');
}

/** An interior node's hash: SHA-256(0x01 || left || right), RFC 6962 §2.1. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

/** The largest power of two strictly below `n` (n > 1): where RFC 6962 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A tree size or leaf index: a non-negative safe integer. */
function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the proof has the wrong
 * length for the index and size. Leaf `index` (0-based) of a tree of `size` leaves.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer | null {
  if (!isCount(index) || !isCount(size) || index >= size || !isHash(leafHash) || !proof.every(isHash)) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** Whether `proof` shows the leaf with hash `leafHash` at `index` in the tree of `size` leaves with root `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  return computed !== null && isHash(root) && computed.equals(root);
}

/**
 * Whether `proof` shows that the tree of `second` leaves with root `secondRoot` extends the tree of
 * `first` leaves with root `firstRoot` (RFC 9162 §2.1.4.2; sizes 0 and equal sizes as RFC 9162 and
 * transparency-dev/merkle take them: an empty tree is extended by any tree with an empty proof).
 */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!isCount(first) || !isCount(second) || first > second || !isHash(firstRoot) || !isHash(secondRoot) || !proof.every(isHash)) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (first === 0) return proof.length === 0 && Buffer.from(firstRoot).equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  // When `first` is an exact power of two, the first tree's root is the first node of the path.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [head, ...rest] = path;
  if (!head) return false;
  let fr: Buffer = Buffer.from(head);
  let sr: Buffer = Buffer.from(head);
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
