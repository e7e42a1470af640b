/** A document write or delete inside one atomic read-model commit. */
export type ReadModelWrite = { readonly key: string; readonly value: unknown } | { readonly key: string; readonly delete: true };

/**
 * One atomic step of a projection: the writes apply only if the guard checkpoint still holds
 * `expected`, and the checkpoint becomes `next` in the same step. So a replayed or duplicated
 * event (whose checkpoint already moved on) and a concurrent stale writer both write nothing.
 */
export interface ReadModelCommit {
  readonly checkpoint: { readonly key: string; readonly expected: number; readonly next: number };
  readonly writes: readonly ReadModelWrite[];
  /** Environments whose documents changed, announced to subscribers after the commit. */
  readonly changedEnvironments: readonly number[];
  /** Identities whose documents changed, announced likewise (evaluation caches them). */
  readonly changedIdentities?: readonly IdentityRef[];
}

export interface IdentityRef {
  readonly environmentId: number;
  readonly identifier: string;
}

export interface ReadModelChange {
  readonly environmentIds: readonly number[];
  readonly identities: readonly IdentityRef[];
}

/**
 * The read-model store port: documents by key, atomic guarded commits, change notifications.
 * Adapters: in-memory (standalone) and Redis (distributed); both pass one contract suite.
 */
export interface ReadModelStore {
  get<T>(key: string): Promise<T | null>;
  getMany<T>(keys: readonly string[]): Promise<(T | null)[]>;
  /** Keys starting with `prefix`, taken literally (no pattern characters). */
  keysWithPrefix(prefix: string): Promise<string[]>;
  /** The checkpoint's value, 0 when absent. */
  checkpoint(key: string): Promise<number>;
  /** Applies the commit atomically; false (and nothing written) when the checkpoint was not `expected`. */
  commit(commit: ReadModelCommit): Promise<boolean>;
  /** Calls `listener` after commits that changed environments or identities; returns an unsubscribe function. */
  subscribe(listener: (change: ReadModelChange) => void): () => void;
  close(): Promise<void>;
}

/** A checkpoint guard of a batch commit: applies only if the checkpoint holds `expected`, then becomes `next`. */
export interface ReadModelCheckpointMove {
  readonly key: string;
  readonly expected: number;
  readonly next: number;
}

/**
 * Several commits folded into one atomic step (a projector applying a batch of events): every
 * checkpoint must hold its `expected` value, or nothing is written; then every write applies,
 * every checkpoint moves to its `next` and one change notification announces the union.
 */
export interface ReadModelBatchCommit {
  readonly checkpoints: readonly ReadModelCheckpointMove[];
  readonly writes: readonly ReadModelWrite[];
  readonly changedEnvironments: readonly number[];
  readonly changedIdentities: readonly IdentityRef[];
}

/**
 * A read-model store that also commits batches atomically and reads checkpoints in bulk (the
 * batching projector's needs). Adapters: in-memory and Redis; both pass the batch contract suite.
 */
export interface BatchReadModelStore extends ReadModelStore {
  /** The checkpoints' values in order, 0 for an absent one, in one round trip. */
  checkpointMany(keys: readonly string[]): Promise<number[]>;
  /** Applies the batch atomically; false (and nothing written) when any checkpoint was not its `expected`. */
  commitBatch(batch: ReadModelBatchCommit): Promise<boolean>;
}
