import { deepFreeze, type BatchReadModelStore, type ReadModelBatchCommit, type ReadModelChange, type ReadModelCommit } from '@flagline/contracts';

// Shared with the projections (which freeze what they build from frozen documents); still read from here by the stores.
export { deepFreeze };

/**
 * The in-memory read-model store of the standalone app. Documents are kept as the objects
 * written, deep-frozen: nothing is parsed or stringified per event or per read, readers share
 * them, and nothing a caller does to a document can change the store (a write freezes its value
 * in place, so the writer cannot change it afterwards either). Writers build a new revision
 * from the previous one by copying what changes and sharing what does not.
 */
export class InMemoryReadModelStore implements BatchReadModelStore {
  private readonly documents = new Map<string, unknown>();
  private readonly checkpoints = new Map<string, number>();
  private readonly listeners = new Set<(change: ReadModelChange) => void>();

  get<T>(key: string): Promise<T | null> {
    return Promise.resolve((this.documents.get(key) as T | undefined) ?? null);
  }

  getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    return Promise.resolve(keys.map((key) => (this.documents.get(key) as T | undefined) ?? null));
  }

  keysWithPrefix(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.documents.keys()].filter((key) => key.startsWith(prefix)).sort());
  }

  checkpoint(key: string): Promise<number> {
    return Promise.resolve(this.checkpoints.get(key) ?? 0);
  }

  commit(commit: ReadModelCommit): Promise<boolean> {
    const { key, expected, next } = commit.checkpoint;
    if ((this.checkpoints.get(key) ?? 0) !== expected) return Promise.resolve(false);
    for (const write of commit.writes) {
      if ('delete' in write) this.documents.delete(write.key);
      else this.documents.set(write.key, deepFreeze(write.value));
    }
    this.checkpoints.set(key, next);
    const identities = commit.changedIdentities ?? [];
    if (commit.changedEnvironments.length > 0 || identities.length > 0) {
      const change = { environmentIds: [...commit.changedEnvironments], identities: identities.map((ref) => ({ ...ref })) };
      for (const listener of this.listeners) listener(change);
    }
    return Promise.resolve(true);
  }

  checkpointMany(keys: readonly string[]): Promise<number[]> {
    return Promise.resolve(keys.map((key) => this.checkpoints.get(key) ?? 0));
  }

  /** Every guard checked first, then everything applied: all or nothing, like the Redis script. */
  commitBatch(batch: ReadModelBatchCommit): Promise<boolean> {
    if (batch.checkpoints.some(({ key, expected }) => (this.checkpoints.get(key) ?? 0) !== expected)) return Promise.resolve(false);
    const [first, ...rest] = batch.checkpoints;
    if (!first) return Promise.reject(new RangeError('A batch commit needs at least one checkpoint'));
    for (const { key, next } of rest) this.checkpoints.set(key, next);
    return this.commit({ ...batch, checkpoint: first });
  }

  subscribe(listener: (change: ReadModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every document and checkpoint, for comparing a rebuild with the live store. */
  dump(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, document] of [...this.documents].sort(([a], [b]) => a.localeCompare(b))) out[key] = document;
    return out;
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
