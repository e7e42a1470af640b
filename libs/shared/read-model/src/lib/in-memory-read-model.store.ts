import type { BatchReadModelStore, ReadModelBatchCommit, ReadModelChange, ReadModelCommit } from '@flagline/contracts';

/**
 * The in-memory read-model store of the standalone app. Documents are stored as JSON text, so
 * readers get fresh copies and nothing a caller mutates leaks into the store, as with Redis.
 */
export class InMemoryReadModelStore implements BatchReadModelStore {
  private readonly documents = new Map<string, string>();
  private readonly checkpoints = new Map<string, number>();
  private readonly listeners = new Set<(change: ReadModelChange) => void>();

  get<T>(key: string): Promise<T | null> {
    const text = this.documents.get(key);
    return Promise.resolve(text === undefined ? null : (JSON.parse(text) as T));
  }

  getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    return Promise.resolve(keys.map((key) => {
      const text = this.documents.get(key);
      return text === undefined ? null : (JSON.parse(text) as T);
    }));
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
      else this.documents.set(write.key, JSON.stringify(write.value));
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
    for (const [key, text] of [...this.documents].sort(([a], [b]) => a.localeCompare(b))) out[key] = JSON.parse(text);
    return out;
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
