/** A data key: 256 bits for AES-256-GCM, and an id the sealed events name it by. */
export interface SealingKey {
  /** Random, not derived from the key: a sealed event says which key sealed it without revealing anything about it. */
  readonly id: string;
  readonly key: Buffer;
}

/** What every call on a key store answers once the store is closed: the store, not the caller, is the cause. */
export class SealingKeyStoreClosed extends Error {
  constructor() {
    super('The sealing key store is closed');
    this.name = 'SealingKeyStoreClosed';
  }
}

/**
 * Where the keys that seal personal data in the log live: outside the log, so destroying a key
 * (crypto-shredding) makes what it sealed unreadable while the log itself, and every proof over
 * its bytes, stays as it was. An owner is the stream whose events the key seals. Adapters: in
 * memory (tests), SQLite (standalone), Redis (distributed); all pass `describeSealingKeyStoreContract`.
 */
export interface SealingKeyStore {
  /** The owner's key, or undefined when it never had one or it was destroyed. */
  get(owner: string): Promise<SealingKey | undefined>;
  /**
   * Keeps `candidate` as the owner's key unless it already has one, and resolves with the key
   * kept (the candidate, or the one stored before it), once that key is durable: an event sealed
   * with it may then be acknowledged.
   */
  ensure(owner: string, candidate: SealingKey): Promise<SealingKey>;
  /**
   * `ensure` in two steps, where the store can: answers once the key is committed, with the
   * promise of its durability, so the caller's own write can proceed meanwhile. The caller must
   * wait for both before acknowledging anything sealed with the key.
   */
  commit?(owner: string, candidate: SealingKey): Promise<{ readonly key: SealingKey; readonly durable: Promise<void> }>;
  /** Destroys the owner's key, durably (its bytes gone from the store's files); false when it had none. */
  destroy(owner: string): Promise<boolean>;
  /** Lets go of the store's resources once what is under way is done; every later call rejects with `SealingKeyStoreClosed`. Closing twice is allowed. */
  close(): Promise<void>;
}

/** The in-memory twin: keys in a map, for tests and as the model of the adapters. */
export class InMemorySealingKeyStore implements SealingKeyStore {
  private readonly keys = new Map<string, SealingKey>();
  private closed = false;

  get(owner: string): Promise<SealingKey | undefined> {
    if (this.closed) return Promise.reject(new SealingKeyStoreClosed());
    return Promise.resolve(this.keys.get(owner));
  }

  ensure(owner: string, candidate: SealingKey): Promise<SealingKey> {
    if (this.closed) return Promise.reject(new SealingKeyStoreClosed());
    const kept = this.keys.get(owner) ?? candidate;
    this.keys.set(owner, kept);
    return Promise.resolve(kept);
  }

  destroy(owner: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new SealingKeyStoreClosed());
    return Promise.resolve(this.keys.delete(owner));
  }

  /** How many keys are held (for tests). */
  get size(): number {
    return this.keys.size;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
