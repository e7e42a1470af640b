import { createHash } from 'node:crypto';

// An implementation written from RFC 6962 §2.1 and nothing else, for tests only, so that the tree's
// proofs are checked by code that shares none of the server's: plain SHA-256 with the 0x00/0x01 prefixes, MTH,
// PATH and PROOF by the RFC's recursion over the whole list of leaves, and verifiers that rebuild
// the roots by following the same recursion.
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
export const rfcLeaf = (entry: Uint8Array): Buffer => sha256(Buffer.from([0]), entry);
const rfcNode = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.from([1]), left, right);
/** The largest power of two smaller than n. */
const rfcK = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);

export function rfcMth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  const k = rfcK(leaves.length);
  return rfcNode(rfcMth(leaves.slice(0, k)), rfcMth(leaves.slice(k)));
}

export function rfcPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = rfcK(leaves.length);
  return m < k ? [...rfcPath(m, leaves.slice(0, k)), rfcMth(leaves.slice(k))] : [...rfcPath(m - k, leaves.slice(k)), rfcMth(leaves.slice(0, k))];
}

export function rfcSubproof(m: number, leaves: readonly Buffer[], complete: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [rfcMth(leaves)];
  const k = rfcK(n);
  return m <= k ? [...rfcSubproof(m, leaves.slice(0, k), complete), rfcMth(leaves.slice(k))] : [...rfcSubproof(m - k, leaves.slice(k), false), rfcMth(leaves.slice(0, k))];
}

/** The root a PATH leads to, by walking PATH's recursion back up (the path lists siblings leaf first). */
export function rfcRootFromPath(m: number, n: number, leaf: Buffer, path: readonly Buffer[]): Buffer | null {
  if (n === 1) return path.length === 0 ? leaf : null;
  const sibling = path[path.length - 1];
  if (!sibling) return null;
  const k = rfcK(n);
  const rest = path.slice(0, -1);
  if (m < k) {
    const left = rfcRootFromPath(m, k, leaf, rest);
    return left && rfcNode(left, sibling);
  }
  const right = rfcRootFromPath(m - k, n - k, leaf, rest);
  return right && rfcNode(sibling, right);
}

/** Both roots a PROOF(m, D[n]) implies, given the old root for the subtree it leaves out. */
function rfcRootsFromProof(m: number, n: number, complete: boolean, oldRoot: Buffer, proof: readonly Buffer[]): { old: Buffer; new: Buffer } | null {
  if (m === n) {
    if (complete) return proof.length === 0 ? { old: oldRoot, new: oldRoot } : null;
    return proof.length === 1 ? { old: proof[0] as Buffer, new: proof[0] as Buffer } : null;
  }
  const last = proof[proof.length - 1];
  if (!last) return null;
  const k = rfcK(n);
  if (m <= k) {
    const inner = rfcRootsFromProof(m, k, complete, oldRoot, proof.slice(0, -1));
    return inner && { old: inner.old, new: rfcNode(inner.new, last) };
  }
  const inner = rfcRootsFromProof(m - k, n - k, false, oldRoot, proof.slice(0, -1));
  return inner && { old: rfcNode(last, inner.old), new: rfcNode(last, inner.new) };
}

export function rfcVerifyConsistency(m: number, n: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (m === 0 || m === n) return proof.length === 0 && (m === 0 || oldRoot.equals(newRoot));
  const roots = rfcRootsFromProof(m, n, true, oldRoot, proof);
  return roots !== null && roots.old.equals(oldRoot) && roots.new.equals(newRoot);
}

