import Database from 'better-sqlite3';
import type { SealingKey, SealingKeyStore } from '@flagline/event-sealing';

interface PendingEnsure {
  readonly owner: string;
  readonly candidate: SealingKey;
  readonly resolve: (key: SealingKey) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Sealing keys in a SQLite file of their own (the standalone app's `DATA_DIR/keys.sqlite`).
 * New keys asked for in one turn of the event loop are written in one transaction, one WAL sync
 * for all of them (the identify path makes thousands a second), and each `ensure` resolves once
 * that transaction is durable (`synchronous = FULL`). `secure_delete` zeroes a destroyed key's
 * bytes in the database pages, and a destroy checkpoints the WAL and truncates it, so the key is
 * gone from the files, not only from the table.
 */
export class SqliteSealingKeyStore implements SealingKeyStore {
  private readonly statements;
  private pending: PendingEnsure[] = [];
  private closed = false;

  private constructor(private readonly db: Database.Database) {
    this.statements = {
      get: db.prepare<[string], { id: string; key: Buffer }>('SELECT id, key FROM sealing_key WHERE owner = ?'),
      insert: db.prepare<[string, string, Buffer]>('INSERT OR IGNORE INTO sealing_key (owner, id, key) VALUES (?, ?, ?)'),
      delete: db.prepare<[string]>('DELETE FROM sealing_key WHERE owner = ?'),
    };
  }

  static open(path: string): SqliteSealingKeyStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('secure_delete = ON');
      db.exec('CREATE TABLE IF NOT EXISTS sealing_key (owner TEXT PRIMARY KEY, id TEXT NOT NULL, key BLOB NOT NULL) WITHOUT ROWID');
      return new SqliteSealingKeyStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Synchronous read (the file is local): for callers that open events without a promise per event. */
  getNow(owner: string): SealingKey | undefined {
    const row = this.statements.get.get(owner);
    return row ? { id: row.id, key: row.key } : undefined;
  }

  get(owner: string): Promise<SealingKey | undefined> {
    return Promise.resolve(this.getNow(owner));
  }

  ensure(owner: string, candidate: SealingKey): Promise<SealingKey> {
    if (this.closed) return Promise.reject(new Error('The key store is closed'));
    return new Promise<SealingKey>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ owner, candidate, resolve, reject });
    });
  }

  /** Writes the keys asked for since the last flush in one transaction, then answers each with the key kept. */
  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let kept: SealingKey[];
    try {
      kept = this.db.transaction(() =>
        batch.map(({ owner, candidate }) => {
          this.statements.insert.run(owner, candidate.id, candidate.key);
          return this.getNow(owner) as SealingKey;
        }),
      )();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, index) => entry.resolve(kept[index] as SealingKey));
  }

  destroy(owner: string): Promise<boolean> {
    this.flush();
    const deleted = this.statements.delete.run(owner).changes > 0;
    // The WAL still holds the page images that carried the key: copy them back (zeroed) and cut the file.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return Promise.resolve(deleted);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    this.db.close();
    return Promise.resolve();
  }
}
