import Database from 'better-sqlite3';
import type { SealingKey, SealingKeyStore } from '@flagline/event-sealing';
import { indexKeyOf } from '@flagline/event-sourcing';
import { LRUCache } from 'lru-cache';
import { open, type FileHandle } from 'node:fs/promises';

/** A key committed, and the flush that makes it durable. */
export interface CommittedKey {
  readonly key: SealingKey;
  readonly durable: Promise<void>;
}

interface PendingEnsure {
  readonly owner: string;
  readonly candidate: SealingKey;
  readonly resolve: (committed: CommittedKey) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Sealing keys in a SQLite file of their own (the standalone app's `DATA_DIR/keys.sqlite`).
 * Keys asked for while a write is under way are written together in the next transaction (the
 * identify path makes thousands a second), and each `ensure` resolves once its transaction is
 * durable. Durability without blocking the event loop: commits do not sync (`synchronous =
 * NORMAL`, which still syncs the database before a checkpoint resets the WAL), and the WAL is
 * then flushed with an `fdatasync` on the thread pool, as the event log flushes its appends.
 * `secure_delete` zeroes a destroyed key's bytes in the database pages, and a destroy
 * checkpoints the WAL and truncates it, so the key is gone from the files, not only from the table.
 */
/**
 * Keys are rows in insertion order, found through `owner_key`, a 53-bit hash of the owner
 * (`indexKeyOf`), with the owner itself checked: a new identity's key appends a row and puts one
 * small integer in a compact index, where a table keyed by the owners' text put a row of about 120
 * bytes at a random place of a large tree, a page to rewrite per key (about 7 us of CPU per new
 * identity). Files made before keep `sealing_key (owner TEXT PRIMARY KEY, id, key) WITHOUT
 * ROWID`: its rows are moved at open, in one transaction, and the table dropped (`secure_delete`
 * zeroes its pages).
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sealing_keys (owner_key INTEGER NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL, key BLOB NOT NULL);
  CREATE INDEX IF NOT EXISTS sealing_keys_by_owner ON sealing_keys (owner_key);
`;

export class SqliteSealingKeyStore implements SealingKeyStore {
  private readonly statements;
  /** The keys last read or made: every new identity's key is read by the append, the catalog and the projector. */
  private readonly recent = new LRUCache<string, SealingKey>({ max: 10_000 });
  private pending: PendingEnsure[] = [];
  /** Keys committed whose WAL flush is under way: `get` answers them once they are durable. */
  private readonly flushingKeys = new Map<string, Promise<void>>();
  private flushing: Promise<void> | null = null;
  /** The WAL file, opened at the first flush and kept: SQLite removes it only when its last connection closes. */
  private wal: FileHandle | null = null;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly walPath: string,
  ) {
    this.statements = {
      get: db.prepare<[number, string], { id: string; key: Buffer }>('SELECT id, key FROM sealing_keys WHERE owner_key = ? AND owner = ?'),
      // One statement: the row goes in unless the owner has one (an earlier attempt's), found through the index it is inserted into.
      insertIfAbsent: db.prepare<[number, string, string, Buffer, number, string]>(
        'INSERT INTO sealing_keys (owner_key, owner, id, key) SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sealing_keys WHERE owner_key = ? AND owner = ?)',
      ),
      delete: db.prepare<[number, string]>('DELETE FROM sealing_keys WHERE owner_key = ? AND owner = ?'),
    };
  }

  static open(path: string): SqliteSealingKeyStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('secure_delete = ON');
      db.exec(SCHEMA);
      moveKeysOfFirstSchema(db);
      return new SqliteSealingKeyStore(db, `${path}-wal`);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Synchronous read (the file is local): for callers that open events without a promise per event. */
  getNow(owner: string): SealingKey | undefined {
    const cached = this.recent.get(owner);
    if (cached) return cached;
    const row = this.statements.get.get(indexKeyOf(owner), owner);
    if (!row) return undefined;
    const key = { id: row.id, key: row.key };
    this.recent.set(owner, key);
    return key;
  }

  async get(owner: string): Promise<SealingKey | undefined> {
    const durable = this.flushingKeys.get(owner);
    if (durable) await durable;
    return this.getNow(owner);
  }

  async ensure(owner: string, candidate: SealingKey): Promise<SealingKey> {
    const { key, durable } = await this.commit(owner, candidate);
    await durable;
    return key;
  }

  /**
   * Keeps the candidate unless the owner has a key, and answers once that is committed, with the
   * promise of its durability: the caller may write what the key seals meanwhile, and must wait
   * for both before acknowledging it (the two flushes overlap instead of following each other).
   */
  commit(owner: string, candidate: SealingKey): Promise<CommittedKey> {
    if (this.closed) return Promise.reject(new Error('The key store is closed'));
    return new Promise<CommittedKey>((resolve, reject) => {
      this.pending.push({ owner, candidate, resolve, reject });
      this.flushing ??= this.flushAll();
    });
  }

  /** Writes batches until none is waiting: each one's transaction, its answers, then its WAL flush. */
  private async flushAll(): Promise<void> {
    // Let the requests of this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        let kept: SealingKey[];
        try {
          kept = this.write(batch);
        } catch (error) {
          for (const entry of batch) entry.reject(error);
          continue;
        }
        const durable = this.syncWal();
        for (const { owner } of batch) this.flushingKeys.set(owner, durable);
        batch.forEach((entry, index) => entry.resolve({ key: kept[index] as SealingKey, durable }));
        try {
          await durable;
        } catch {
          // Each caller was handed the failed flush; its keys stay committed and are flushed with the next batch or checkpoint.
        } finally {
          for (const { owner } of batch) if (this.flushingKeys.get(owner) === durable) this.flushingKeys.delete(owner);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private write(batch: readonly PendingEnsure[]): SealingKey[] {
    return this.db.transaction(() =>
      batch.map(({ owner, candidate }) => {
        // Kept: the one stored before (an earlier attempt's); otherwise the candidate is the key (no read back).
        const cached = this.recent.get(owner);
        if (cached) return cached;
        const ownerKey = indexKeyOf(owner);
        if (this.statements.insertIfAbsent.run(ownerKey, owner, candidate.id, candidate.key, ownerKey, owner).changes === 0) return this.getNow(owner) as SealingKey;
        this.recent.set(owner, candidate);
        return candidate;
      }),
    )();
  }

  /** Makes the committed transactions durable: the WAL's bytes (and size) on stable storage. */
  private async syncWal(): Promise<void> {
    this.wal ??= await open(this.walPath, 'r+');
    await this.wal.datasync();
  }

  async destroy(owner: string): Promise<boolean> {
    await this.flushing;
    this.recent.delete(owner);
    const deleted = this.statements.delete.run(indexKeyOf(owner), owner).changes > 0;
    // The WAL still holds the page images that carried the key: copy them back (zeroed) and cut
    // the file. The checkpoint syncs the database before it resets the WAL.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.wal?.close();
    this.db.close();
  }
}

/** Moves the keys of a file made with the first schema (a table keyed by the owner's text) into `sealing_keys`, and drops that table. */
function moveKeysOfFirstSchema(db: Database.Database): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sealing_key'").get()) return;
  db.function('flagline_index_key', { deterministic: true }, (owner: unknown) => indexKeyOf(String(owner)));
  db.transaction(() => {
    db.exec('INSERT INTO sealing_keys (owner_key, owner, id, key) SELECT flagline_index_key(owner), owner, id, key FROM sealing_key; DROP TABLE sealing_key;');
  })();
}
