import type { SubtreeNode } from './merkle-tree';
import { checkAppend, type StoredTreeHead, type TransparencyTreeStore, type TreeLeaf } from './tree-store.port';

/** The tree in memory: for tests, and for a log whose tree is rebuilt at every start. */
export class InMemoryTreeStore implements TransparencyTreeStore {
  private readonly leafList: TreeLeaf[] = [];
  private readonly byPosition = new Map<number, number>();
  private readonly byEvent = new Map<string, number>();
  private readonly nodes = new Map<string, Buffer>();
  private readonly heads = new Map<string, StoredTreeHead>();

  get size(): number {
    return this.leafList.length;
  }

  node(level: number, index: number): Buffer {
    const hash = this.nodes.get(`${level}:${index}`);
    if (!hash) throw new RangeError(`The tree holds no complete subtree at level ${level}, index ${index}`);
    return hash;
  }

  leaf(index: number): TreeLeaf | undefined {
    return this.leafList[index];
  }

  leaves(index: number, count: number): TreeLeaf[] {
    return this.leafList.slice(index, index + count);
  }

  leafIndexAtPosition(position: number): number | undefined {
    return this.byPosition.get(position);
  }

  leafIndexOfEvent(eventId: string): number | undefined {
    return this.byEvent.get(eventId);
  }

  append(leaves: readonly TreeLeaf[], nodes: readonly SubtreeNode[]): void {
    checkAppend(this.size, leaves, this.leafList[this.size - 1]?.position);
    for (const leaf of leaves) {
      this.leafList.push(leaf);
      this.byPosition.set(leaf.position, leaf.index);
      this.byEvent.set(leaf.eventId, leaf.index);
    }
    for (const node of nodes) this.nodes.set(`${node.level}:${node.index}`, node.hash);
  }

  signedHead(treeSize: number, keyId: string): StoredTreeHead | undefined {
    return this.heads.get(`${treeSize}:${keyId}`);
  }

  saveSignedHead(head: StoredTreeHead): void {
    const key = `${head.treeSize}:${head.keyId}`;
    if (!this.heads.has(key)) this.heads.set(key, head);
  }

  close(): void {
    // Nothing to release.
  }
}
