import type {
  BatchReadModelStore,
  IdentityRef,
  ReadModelChange,
  ReadModelCheckpointMove,
  ReadModelCommit,
  ReadModelStore,
  ReadModelWrite,
} from '@flagline/contracts';

/** A document known not to exist (a stored document may itself be JSON null). */
const ABSENT: unique symbol = Symbol('absent');

/** What a batch needs from the store, read in one round trip per kind before it starts. */
export interface ReadModelPrefetch {
  readonly documents?: readonly string[];
  readonly checkpoints?: readonly string[];
}

/**
 * A read-model store over a real one that turns many commits into one: reads go through to the
 * real store once per key and are kept decoded for the rest of the batch; commits
 * are checked against the checkpoints as the batch left them and buffered; `flush()` writes the
 * last value of every touched document and moves every touched checkpoint in one atomic batch
 * commit, guarded by each checkpoint's value as first read. If any of them moved meanwhile
 * (another projector instance, a redelivered batch already applied), nothing is written and the
 * batch must be run again on fresh reads: `BatchingReadModelStore.run` does that.
 *
 * One overlay serves one batch: after `flush()` (applied or not) it starts empty again, so no
 * document is trusted across batches.
 *
 * Documents are shared, not copied: every read in the batch gets the object read or written
 * before, and a written value is kept as given. Callers treat them as immutable (the projection
 * makes new objects for what changes and shares the rest). Copying or deep-freezing each one
 * cost more than the projection itself with large environment documents; what a mutation would
 * break is caught by the specs that compare batches with event-by-event projection.
 */
export class BatchingReadModelStore implements ReadModelStore {
  /** Documents read or written in this batch, decoded; ABSENT for a known absent one. */
  private readonly documents = new Map<string, unknown>();
  /** Keys written in this batch. */
  private readonly dirty = new Set<string>();
  /** Checkpoints as the real store held them when first read: the guards of the flush. */
  private readonly guards = new Map<string, number>();
  /** Checkpoints as this batch left them. */
  private readonly positions = new Map<string, number>();
  /** Checkpoints the flush must find unchanged even if the batch does not move them (see guard). */
  private readonly guarded = new Set<string>();
  private readonly changedEnvironments = new Set<number>();
  private readonly changedIdentities = new Map<string, IdentityRef>();
  private commits = 0;

  constructor(private readonly base: BatchReadModelStore) {}

  /**
   * Runs `work` on an overlay and flushes it; when the flush lost a race, runs it again on fresh
   * reads, up to `maxAttempts` times. Errors of `work` or of the flush propagate with nothing
   * written.
   */
  static async run<T>(base: BatchReadModelStore, work: (overlay: BatchingReadModelStore) => Promise<T>, maxAttempts = 5): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const overlay = new BatchingReadModelStore(base);
      const result = await work(overlay);
      if (await overlay.flush()) return result;
      if (attempt >= maxAttempts) throw new Error(`A read-model batch kept losing races on its checkpoints (${maxAttempts} attempts)`);
    }
  }

  /** Commits buffered since the last flush. */
  get pendingCommits(): number {
    return this.commits;
  }

  /** Reads the documents and checkpoints not known yet, one round trip each. */
  async prefetch(needs: ReadModelPrefetch): Promise<void> {
    const documents = [...new Set(needs.documents ?? [])].filter((key) => !this.documents.has(key));
    const checkpoints = [...new Set(needs.checkpoints ?? [])].filter((key) => !this.positions.has(key));
    if (documents.length === 0 && checkpoints.length === 0) return;
    // Checkpoints are asked for first (one connection runs commands in order): a commit landing
    // between the two reads then shows in a checkpoint, and the flush it guards writes nothing.
    // The other way round, a document older than its checkpoint would pass the guard.
    const [positions, values] = await Promise.all([
      checkpoints.length > 0 ? this.base.checkpointMany(checkpoints) : [],
      documents.length > 0 ? this.base.getMany(documents) : [],
    ]);
    documents.forEach((key, index) => {
      const value = values[index];
      this.documents.set(key, value === null || value === undefined ? ABSENT : value);
    });
    checkpoints.forEach((key, index) => this.rememberCheckpoint(key, positions[index] ?? 0));
  }

  /**
   * Makes the flush also require these checkpoints unchanged since now, whether or not the batch
   * moves them: for documents the batch reads and rewrites that other commits guard by another
   * checkpoint (an organisation's name in its projects' environment documents). Call it before
   * reading those documents.
   */
  async guard(keys: readonly string[]): Promise<void> {
    await this.prefetch({ checkpoints: keys });
    for (const key of keys) this.guarded.add(key);
  }

  async get<T>(key: string): Promise<T | null> {
    const [value] = await this.getMany<T>([key]);
    return value ?? null;
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    if (!keys.every((key) => this.documents.has(key))) await this.prefetch({ documents: keys });
    return keys.map((key) => {
      const value = this.documents.get(key);
      return value === ABSENT || value === undefined ? null : (value as T);
    });
  }

  /** The real store's keys with this batch's creations added and its deletions removed. */
  async keysWithPrefix(prefix: string): Promise<string[]> {
    const keys = new Set(await this.base.keysWithPrefix(prefix));
    for (const key of this.dirty) {
      if (!key.startsWith(prefix)) continue;
      if (this.documents.get(key) === ABSENT) keys.delete(key);
      else keys.add(key);
    }
    return [...keys].sort();
  }

  async checkpoint(key: string): Promise<number> {
    if (!this.positions.has(key)) await this.prefetch({ checkpoints: [key] });
    return this.positions.get(key) ?? 0;
  }

  async commit(commit: ReadModelCommit): Promise<boolean> {
    const { key, expected, next } = commit.checkpoint;
    if ((await this.checkpoint(key)) !== expected) return false;
    for (const write of commit.writes) this.write(write);
    this.positions.set(key, next);
    for (const environmentId of commit.changedEnvironments) this.changedEnvironments.add(environmentId);
    for (const ref of commit.changedIdentities ?? []) this.changedIdentities.set(`${ref.environmentId}\u0000${ref.identifier}`, { environmentId: ref.environmentId, identifier: ref.identifier });
    this.commits++;
    return true;
  }

  /**
   * Writes what the batch committed as one atomic batch commit; true when it applied (or there
   * was nothing to write), false when a checkpoint had moved and nothing was written. The
   * overlay is empty afterwards either way, and also when the commit threw.
   */
  async flush(): Promise<boolean> {
    const checkpoints: ReadModelCheckpointMove[] = [];
    for (const [key, next] of this.positions) {
      const expected = this.guards.get(key) ?? 0;
      if (next !== expected || this.guarded.has(key)) checkpoints.push({ key, expected, next });
    }
    const writes: ReadModelWrite[] = [...this.dirty].map((key) => {
      const value = this.documents.get(key);
      return value === ABSENT ? { key, delete: true } : { key, value };
    });
    const changedEnvironments = [...this.changedEnvironments];
    const changedIdentities = [...this.changedIdentities.values()];
    this.clear();
    if (!checkpoints.some(({ expected, next }) => next !== expected)) {
      if (writes.length > 0) throw new Error('A read-model batch wrote documents without moving a checkpoint');
      return true;
    }
    return this.base.commitBatch({ checkpoints, writes, changedEnvironments, changedIdentities });
  }

  subscribe(listener: (change: ReadModelChange) => void): () => void {
    return this.base.subscribe(listener);
  }

  /** Forgets the batch; the real store stays open (its owner closes it). */
  close(): Promise<void> {
    this.clear();
    return Promise.resolve();
  }

  private write(write: ReadModelWrite): void {
    this.dirty.add(write.key);
    this.documents.set(write.key, 'delete' in write ? ABSENT : write.value);
  }

  private rememberCheckpoint(key: string, position: number): void {
    this.guards.set(key, position);
    this.positions.set(key, position);
  }

  private clear(): void {
    this.documents.clear();
    this.dirty.clear();
    this.guards.clear();
    this.positions.clear();
    this.guarded.clear();
    this.changedEnvironments.clear();
    this.changedIdentities.clear();
    this.commits = 0;
  }
}
