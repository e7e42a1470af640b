import Database from 'better-sqlite3';
import { SealingKeyStoreClosed, type SealingKey, type SealingKeyStore } from '@flagline/event-sealing';
import { indexKeyOf } from '@flagline/event-sourcing';
import { LRUCache } from 'lru-cache';
import { open, type FileHandle } from 'node:fs/promises';
import { truncateWal } from '@flagline/state-store-sqlite';
import { StreamKeyFilter } from '@flagline/event-store-embedded';

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
 * (`indexKeyOf`), with the owner itself checked. A row's (owner_key, row) pair goes to
 * `owner_keys` in batches of `KEYS_FOLDED_EVERY`, sorted (the rows after `key_fold.upto` are the
 * ones not written there yet, kept in memory too, at most a batch of them): an index of the
 * owners' random keys written with each row put every new identity's key at a random page of
 * the index, a page to rewrite in the WAL per key once it outgrows the cache, where a sorted batch
 * rewrites each page once for many keys. Files made before keep `sealing_key (owner TEXT PRIMARY
 * KEY, id, key) WITHOUT ROWID` (first schema; its rows are moved at open, and the table dropped,
 * `secure_delete` zeroing its pages) or an index of `owner_key` (second; `user_version` 0): the
 * pairs are written and the index dropped at open.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sealing_keys (owner_key INTEGER NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL, key BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS owner_keys (owner_key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (owner_key, row)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS key_fold (upto INTEGER NOT NULL);
`;

/** Keys whose (owner_key, row) pairs are written to `owner_keys` together, sorted. */
export const KEYS_FOLDED_EVERY = 4096;

/** `owner_keys` pairs read into the owner filter per turn of the event loop after open (about a millisecond each). */
const FILTER_PAIRS_PER_TURN = 2_000;

/** A key in a row not yet in `owner_keys`. */
interface TailKey {
  readonly key: SealingKey;
  readonly row: number;
}

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
  /** The keys in rows after `key_fold.upto`, by owner: not in `owner_keys` yet. */
  private readonly tail = new Map<string, TailKey>();
  private foldedUpTo: number;
  /**
   * Every owner's `owner_key` once filled (a Bloom filter: "certainly no key" or "maybe"), so a
   * new owner's key, the identify path's thousands a second, is written without a lookup in
   * `owner_keys` first. Filled from `owner_keys` a slice per turn after open; the tail's keys and
   * every key written since open are added as they come. A destroyed key's bits stay: its owner
   * is then looked up, and found without a key, as before.
   */
  private readonly ownerFilter = new StreamKeyFilter();
  /** The last (owner_key, row) pair read into the filter; null once it holds them all. */
  private filledTo: readonly [number, number] | null = [-1, 0];
  private lookups = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly walPath: string,
    fillOwnerFilter: boolean,
  ) {
    this.statements = {
      get: db.prepare<[number, string], { row: number; id: string; key: Buffer }>(
        'SELECT s.rowid AS row, s.id, s.key FROM owner_keys k JOIN sealing_keys s ON s.rowid = k.row WHERE k.owner_key = ? AND s.owner = ?',
      ),
      insert: db.prepare<[number, string, string, Buffer]>('INSERT INTO sealing_keys (owner_key, owner, id, key) VALUES (?, ?, ?, ?)'),
      insertPair: db.prepare<[number, number]>('INSERT INTO owner_keys (owner_key, row) VALUES (?, ?)'),
      fold: db.prepare<[number]>('INSERT INTO owner_keys (owner_key, row) SELECT owner_key, rowid FROM sealing_keys WHERE rowid > ? ORDER BY owner_key, rowid'),
      setFolded: db.prepare<[number]>('UPDATE key_fold SET upto = ?'),
      delete: db.prepare<[number]>('DELETE FROM sealing_keys WHERE rowid = ?'),
      deletePair: db.prepare<[number, number]>('DELETE FROM owner_keys WHERE owner_key = ? AND row = ?'),
      pairsAfter: db
        .prepare<[number, number, number], [number, number]>('SELECT owner_key, row FROM owner_keys WHERE (owner_key, row) > (?, ?) ORDER BY owner_key, row LIMIT ?')
        .raw(),
    };
    this.foldedUpTo = this.loadTail();
    if (fillOwnerFilter) this.fillOwnerFilter();
  }

  /** Reads the next slice of `owner_keys` into the owner filter, and schedules the next until all are read. */
  private fillOwnerFilter(): void {
    if (this.closed || this.filledTo === null) return;
    const pairs = this.statements.pairsAfter.all(this.filledTo[0], this.filledTo[1], FILTER_PAIRS_PER_TURN);
    for (const pair of pairs) this.ownerFilter.add(pair[0]);
    const last = pairs[pairs.length - 1];
    if (pairs.length < FILTER_PAIRS_PER_TURN || last === undefined) this.filledTo = null;
    else {
      this.filledTo = last;
      setImmediate(() => this.fillOwnerFilter());
    }
  }

  /** True once the owner filter holds every owner with a key: until then every lookup reads the file. */
  get ownerFilterComplete(): boolean {
    return this.filledTo === null;
  }

  /** Lookups of an owner's key that reached the file (neither cached nor ruled out by the filter). */
  get ownerLookups(): number {
    return this.lookups;
  }

  /** The fold's place and the keys after it, as the file has them (at open, and after a transaction that failed). */
  private loadTail(): number {
    const upto = (this.db.prepare('SELECT upto FROM key_fold').get() as { upto: number }).upto;
    const rows = this.db.prepare('SELECT rowid AS row, owner, id, key FROM sealing_keys WHERE rowid > ?').all(upto) as { row: number; owner: string; id: string; key: Buffer }[];
    this.tail.clear();
    for (const { row, owner, id, key } of rows) {
      this.tail.set(owner, { key: { id, key }, row });
      this.ownerFilter.add(indexKeyOf(owner));
    }
    return upto;
  }

  /**
   * `ownerFilter: false` leaves the owner filter empty, so every lookup reads the file: for a
   * reader that writes no key (the rebuild), to which filling it (about 0.5 s of CPU at 1,000,000
   * owners) brings nothing.
   */
  static open(path: string, options: { readonly ownerFilter?: boolean } = {}): SqliteSealingKeyStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('secure_delete = ON');
      db.exec(SCHEMA);
      moveKeysOfFirstSchema(db);
      foldKeysOfSecondSchema(db);
      return new SqliteSealingKeyStore(db, `${path}-wal`, options.ownerFilter ?? true);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Synchronous read (the file is local): for callers that open events without a promise per event. */
  getNow(owner: string): SealingKey | undefined {
    if (this.closed) throw new SealingKeyStoreClosed();
    return this.stored(owner, indexKeyOf(owner));
  }

  private stored(owner: string, ownerKey: number): SealingKey | undefined {
    const cached = this.recent.get(owner) ?? this.tail.get(owner)?.key;
    if (cached) return cached;
    // An owner never given a key (every new identity's) is mostly answered by the filter alone.
    if (this.filledTo === null && !this.ownerFilter.mayHave(ownerKey)) return undefined;
    this.lookups++;
    const row = this.statements.get.get(ownerKey, owner);
    if (!row) return undefined;
    const key = { id: row.id, key: row.key };
    this.recent.set(owner, key);
    return key;
  }

  /**
   * Up to `limit` keys in the order they were made, after the one numbered `after` (0: from the
   * first), each with its number: a reader of the whole log (the rebuild) finds its streams' keys
   * in about that order, reading the table straight through instead of one lookup per stream.
   */
  keysInOrder(after: number, limit: number): { readonly row: number; readonly owner: string; readonly key: SealingKey }[] {
    // Rows as arrays and each key as hex text: a BLOB comes back as a Buffer with memory of its own
    // (allocated outside the heap and released by the collector, a key per sealed event in a
    // rebuild), where Buffer.from(hex) takes a slice of Node's buffer pool.
    this.inOrder ??= this.db.prepare<[number, number], [number, string, string, string]>('SELECT rowid, owner, id, hex(key) FROM sealing_keys WHERE rowid > ? ORDER BY rowid LIMIT ?').raw();
    return this.inOrder.all(after, limit).map(([row, owner, id, hex]) => ({ row, owner, key: { id, key: Buffer.from(hex, 'hex') } }));
  }

  private inOrder: Database.Statement<[number, number], [number, string, string, string]> | null = null;

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
    if (this.closed) return Promise.reject(new SealingKeyStoreClosed());
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
    try {
      return this.writeRows(batch);
    } catch (error) {
      // Rolled back: what memory says of the rows after the fold is read again from the file.
      this.foldedUpTo = this.loadTail();
      throw error;
    }
  }

  private writeRows(batch: readonly PendingEnsure[]): SealingKey[] {
    return this.db.transaction(() =>
      batch.map(({ owner, candidate }) => {
        // Kept: the one stored before (an earlier attempt's); otherwise the candidate is the key (no read back).
        const ownerKey = indexKeyOf(owner);
        const stored = this.stored(owner, ownerKey);
        if (stored) return stored;
        const row = Number(this.statements.insert.run(ownerKey, owner, candidate.id, candidate.key).lastInsertRowid);
        // Added before the commit: a transaction rolled back leaves a bit set for nothing, which only costs a lookup.
        this.ownerFilter.add(ownerKey);
        // A row at or below the fold reuses the number of a destroyed last row: its pair is written now.
        if (row <= this.foldedUpTo) this.statements.insertPair.run(ownerKey, row);
        else this.tail.set(owner, { key: candidate, row });
        if (this.tail.size >= KEYS_FOLDED_EVERY) this.fold();
        return candidate;
      }),
    )();
  }

  /** Writes the tail's pairs to `owner_keys`, sorted, inside the caller's transaction; the map is cleared once it commits. */
  private fold(): void {
    let last = this.foldedUpTo;
    for (const { row } of this.tail.values()) last = Math.max(last, row);
    this.statements.fold.run(this.foldedUpTo);
    this.statements.setFolded.run(last);
    this.foldedUpTo = last;
    this.tail.clear();
  }

  /** Makes the committed transactions durable: the WAL's bytes (and size) on stable storage. */
  private async syncWal(): Promise<void> {
    this.wal ??= await open(this.walPath, 'r+');
    await this.wal.datasync();
  }

  async destroy(owner: string): Promise<boolean> {
    if (this.closed) throw new SealingKeyStoreClosed();
    await this.flushing;
    this.recent.delete(owner);
    const ownerKey = indexKeyOf(owner);
    const row = this.tail.get(owner)?.row ?? this.statements.get.get(ownerKey, owner)?.row;
    const deleted =
      row !== undefined &&
      this.db.transaction(() => {
        this.statements.deletePair.run(ownerKey, row);
        return this.statements.delete.run(row).changes > 0;
      })();
    this.tail.delete(owner);
    // The WAL still holds the page images that carried the key: copy them back (zeroed) and cut
    // the file, tried again while another connection keeps the WAL busy (a busy answer is not
    // done). The checkpoint syncs the database before it resets the WAL.
    truncateWal(this.db);
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

/**
 * A file of the second schema (`user_version` 0: each row's `owner_key` indexed as it was
 * written) gets every row's pair in `owner_keys`, sorted, and loses the index, in one
 * transaction; a new file is marked folded with nothing to fold.
 */
function foldKeysOfSecondSchema(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= 1) return;
  db.transaction(() => {
    const last = (db.prepare('SELECT coalesce(max(rowid), 0) AS last FROM sealing_keys').get() as { last: number }).last;
    db.exec('INSERT INTO owner_keys (owner_key, row) SELECT owner_key, rowid FROM sealing_keys ORDER BY owner_key, rowid; DROP INDEX IF EXISTS sealing_keys_by_owner; DELETE FROM key_fold;');
    db.prepare('INSERT INTO key_fold (upto) VALUES (?)').run(last);
    db.pragma('user_version = 1');
  })();
}
