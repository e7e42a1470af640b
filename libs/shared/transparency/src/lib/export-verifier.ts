import type { CanonicalEventFields } from '@flagline/event-sourcing';
import type { KeyObject } from 'node:crypto';
import { InMemoryTreeStore } from './in-memory-tree.store';
import { verifyConsistency, verifyInclusion } from './merkle';
import { nodesForAppend, treeRoot } from './merkle-tree';
import { verifyTreeHead, type SignedTreeHead } from './signed-tree-head';
import { eventLeafHash } from './transparency-log';

/** An export line: the stored event's canonical fields and its position (the export's NDJSON shape). */
export interface ExportLine extends CanonicalEventFields {
  readonly position: number;
}

/** What the verifier keeps of an export line: its place, its id and its leaf hash (not the event, so a large export fits in memory). */
export interface ExportLeaf {
  readonly position: number;
  readonly id: string;
  readonly hash: Buffer;
}

/** The leaf of an export line. */
export function exportLeaf(line: ExportLine): ExportLeaf {
  return { position: line.position, id: line.id, hash: eventLeafHash(line) };
}

/** An inclusion proof as the API answers it. */
export interface LineProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly position: number;
  readonly auditPath: readonly string[];
}

/** Where the verifier gets consistency proofs from the tree head's size down to prefixes of the export (the server, or a file of them). */
export type ConsistencyProofSource = (first: number, second: number) => Promise<readonly string[]>;

export interface FirstBadEvent {
  /** The leaf (0-based place in log order) that does not verify. */
  readonly leafIndex: number;
  /** The export line there (absent when the export ends before it). */
  readonly position?: number;
  readonly id?: string;
  /** The export's last line before it, when it is missing. */
  readonly afterPosition?: number;
}

export type ExportVerdict =
  | { readonly verified: true; readonly treeSize: number; readonly lines: number; readonly message: string }
  | { readonly verified: false; readonly message: string; readonly firstBad?: FirstBadEvent };

const unhex = (hashes: readonly string[]): Buffer[] => hashes.map((hash) => Buffer.from(hash, 'hex'));

function describe(bad: FirstBadEvent): string {
  return bad.position !== undefined
    ? `the first event that does not verify is at position ${bad.position} (event ${bad.id ?? '?'}, leaf ${bad.leafIndex})`
    : `the export ends before leaf ${bad.leafIndex}${bad.afterPosition !== undefined ? ` (after position ${bad.afterPosition})` : ''}: that event and what follows are missing`;
}

/**
 * Checks a full export (every event from the start of the log, in log order, as the instance
 * administrator exports it) against a signed tree head: the signature with the public key, then
 * the root over the first `treeSize` lines. When they differ, it locates the first leaf that does
 * not verify by binary search over prefixes of the export: a prefix of k lines is the log's first k
 * leaves exactly when the consistency proof from k to `treeSize` leads from its root to the signed
 * root; the first bad leaf is the one after the longest such prefix.
 */
export async function verifyFullExport(lines: readonly ExportLeaf[], head: SignedTreeHead, publicKey: KeyObject, consistency?: ConsistencyProofSource): Promise<ExportVerdict> {
  if (!verifyTreeHead(publicKey, head)) return { verified: false, message: 'The tree head’s signature does not verify with the public key' };
  const covered = lines.slice(0, head.treeSize);
  const tree = new InMemoryTreeStore();
  const leafHashes = covered.map((line) => line.hash);
  tree.append(
    covered.map((line, index) => ({ index, position: index + 1, eventId: line.id, hash: line.hash })),
    nodesForAppend(tree, 0, leafHashes),
  );
  const signedRoot = Buffer.from(head.rootHash, 'hex');
  if (covered.length === head.treeSize && treeRoot(tree, head.treeSize).equals(signedRoot)) {
    return { verified: true, treeSize: head.treeSize, lines: lines.length, message: `The export's first ${head.treeSize} events are the tree head's (root ${head.rootHash})` };
  }
  const short = covered.length < head.treeSize ? `the export holds ${covered.length} events of the tree head's ${head.treeSize}` : `the root over its first ${head.treeSize} events differs from the tree head's`;
  if (!consistency) return { verified: false, message: `Not verified: ${short}; give a source of consistency proofs (--server) to locate the first event that does not verify` };
  // good(k): the export's first k lines are the log's first k leaves. good(0) holds; good is monotone.
  const good = async (k: number): Promise<boolean> => {
    if (k === 0) return true;
    return verifyConsistency(k, head.treeSize, treeRoot(tree, k), signedRoot, unhex(await consistency(k, head.treeSize)));
  };
  let low = 0;
  let high = covered.length;
  if (await good(high)) low = high;
  else {
    // Invariant: good(low) and not good(high).
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await good(middle)) low = middle;
      else high = middle;
    }
  }
  const line = covered[low];
  const firstBad: FirstBadEvent = line ? { leafIndex: low, position: line.position, id: line.id } : { leafIndex: low, ...(covered[low - 1] ? { afterPosition: (covered[low - 1] as ExportLeaf).position } : {}) };
  return { verified: false, message: `Not verified: ${short}; ${describe(firstBad)}`, firstBad };
}

/** How `verifyExportWithProofs` takes lines without a proof. */
export interface LineProofOptions {
  /**
   * Lines after the last one with a proof are events appended after the head's tree (the export
   * was taken later): said, not checked. Without it, a line without a proof is not verified.
   */
  readonly allowLinesAfterHead?: boolean;
}

/**
 * Checks an export of some of the log (what a caller may read) line by line: each line's leaf
 * against its inclusion proof and the signed root, and the lines' leaves in log order (each leaf
 * after the previous line's, so a line repeated or moved does not verify). The first line that
 * does not verify, or has no proof, is named; lines after the head's tree only with
 * `allowLinesAfterHead`.
 */
export function verifyExportWithProofs(lines: readonly ExportLeaf[], head: SignedTreeHead, publicKey: KeyObject, proofs: ReadonlyMap<number, LineProof>, options: LineProofOptions = {}): ExportVerdict {
  if (!verifyTreeHead(publicKey, head)) return { verified: false, message: 'The tree head’s signature does not verify with the public key' };
  const root = Buffer.from(head.rootHash, 'hex');
  let covered = lines.length;
  if (options.allowLinesAfterHead) while (covered > 0 && !proofs.has((lines[covered - 1] as ExportLeaf).position)) covered -= 1;
  let checked = 0;
  let previous: { readonly leafIndex: number; readonly position: number } | null = null;
  for (const line of lines.slice(0, covered)) {
    const proof = proofs.get(line.position);
    if (!proof) {
      return { verified: false, message: `Not verified: no inclusion proof for the event at position ${line.position} (event ${line.id})`, firstBad: { leafIndex: -1, position: line.position, id: line.id } };
    }
    if (previous && proof.leafIndex <= previous.leafIndex) {
      const firstBad = { leafIndex: proof.leafIndex, position: line.position, id: line.id };
      return { verified: false, message: `Not verified: the event at position ${line.position} (leaf ${proof.leafIndex}) follows the line at position ${previous.position} (leaf ${previous.leafIndex}): an export's lines are in log order, each once`, firstBad };
    }
    if (proof.position !== line.position || proof.treeSize !== head.treeSize || !verifyInclusion(proof.leafIndex, head.treeSize, line.hash, unhex(proof.auditPath), root)) {
      const firstBad = { leafIndex: proof.leafIndex, position: line.position, id: line.id };
      return { verified: false, message: `Not verified: ${describe(firstBad)}`, firstBad };
    }
    previous = { leafIndex: proof.leafIndex, position: line.position };
    checked += 1;
  }
  const after = lines.length - covered;
  const tail = after > 0 ? `; the last ${after} lines have no proof and are not covered by this tree head` : '';
  return { verified: true, treeSize: head.treeSize, lines: checked, message: `All ${checked} events with proofs are in the tree head's tree (root ${head.rootHash})${tail}` };
}

/** Checks that a later signed tree head extends an earlier one, given the consistency proof between their sizes. */
export function verifyHeadsConsistent(earlier: SignedTreeHead, later: SignedTreeHead, publicKey: KeyObject, proof: readonly string[]): ExportVerdict {
  if (!verifyTreeHead(publicKey, earlier)) return { verified: false, message: 'The earlier tree head’s signature does not verify with the public key' };
  if (!verifyTreeHead(publicKey, later)) return { verified: false, message: 'The later tree head’s signature does not verify with the public key' };
  if (earlier.treeSize > later.treeSize) return { verified: false, message: `The later tree head (${later.treeSize} events) is smaller than the earlier one (${earlier.treeSize})` };
  if (!verifyConsistency(earlier.treeSize, later.treeSize, Buffer.from(earlier.rootHash, 'hex'), Buffer.from(later.rootHash, 'hex'), unhex(proof))) {
    return { verified: false, message: `The tree of ${later.treeSize} events does not extend the tree of ${earlier.treeSize} events: the log was rewritten between them` };
  }
  return { verified: true, treeSize: later.treeSize, lines: 0, message: `The tree of ${later.treeSize} events extends the tree of ${earlier.treeSize} events` };
}
