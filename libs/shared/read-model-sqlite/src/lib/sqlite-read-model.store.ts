import Database from 'better-sqlite3';
import {
  readModelKeys,
  type BatchReadModelStore,
  type IdentityRef,
  type ReadModelBatchCommit,
  type ReadModelChange,
  type ReadModelCheckpointMove,
  type ReadModelCommit,
} from '@flagline/contracts';
import type { CheckpointStore } from '@flagline/event-sourcing';
import { deepFreeze } from '@flagline/read-model';
import { ChunkedInsert, truncateWal } from '@flagline/state-store-sqlite';
import { LRUCache } from 'lru-cache';
import { parseFrozen } from './frozen-json';
import { openReadModelFile, removeReadModelFile, type ReadModelFileOptions } from './read-model-file';
import { DamagedReadModelFile, ResidentDocumentRows } from './resident-document-rows';

export interface SqliteReadModelStoreOptions {
  /** The database file (`read-models.sqlite` under the data directory). */
  readonly path: string;
  /** The consumer whose position the file must hold (see `consumerCheckpoints`). Default `relay`. */
  readonly consumer?: string;
  /** How often written documents are persisted, in ms. Default 200. */
  readonly flushIntervalMs?: number;
  /** Documents waiting to be persisted that trigger a flush at the next turn of the event loop. Default 10,000. */
  readonly flushAtDirty?: number;
  /** Documents waiting to be persisted that make a commit flush before it returns (memory stays bounded). Default 100,000. */
  readonly maxDirty?: number;
  /** Decoded identity documents kept in memory, least recently used dropped first. Default 10,000. */
  readonly identityCacheSize?: number;
  /** SQLite's page cache in KiB. Default 16,384 (16 MiB). */
  readonly cacheSizeKiB?: number;
  /** The event log's last position: a file whose consumer is past it is replaced by an empty one. */
  readonly logHead?: number;
  /** Integrity check at open: `quick` (default) or `none`. */
  readonly integrityCheck?: 'quick' | 'none';
  /**
   * For a file that nothing but this instance writes: the hashes of the identity keys it holds
   * are kept (a fixed 8 MiB filter, up to 4 million keys), so reading an identity never written
   * (every new identity) mostly skips the file. A file created empty starts with the filter
   * complete; an existing one has its keys read into it in the background, a slice of about a
   * millisecond at a time (`identityFilterComplete` says when it is done; until then every read
   * goes to the file).
   */
  readonly trackWrittenIdentities?: boolean;
  /**
   * Bytes of the file that identity reads see through a memory map (SQLite's `mmap_size`), on a
   * second, read-only connection that does nothing else. Default 0: every read copies its pages
   * with `pread` into the page cache. A mapped page is the kernel's own cached page, not a copy,
   * so a read skips the system calls and the copy; the process's RSS counts the pages it has
   * touched, up to this many bytes, as file-backed memory the kernel can take back under
   * pressure. Writes, the filter's fill and every other read stay on the main connection,
   * unmapped, so loading identities maps nothing.
   */
  readonly mappedReadBytes?: number;
  /** When the file is created: no journal and no syncs (see `ReadModelFileOptions.bulkLoad`); for the rebuild's fresh file only. */
  readonly bulkLoad?: boolean;
  /** A flush failed (the documents stay pending and the next flush tries again). */
  readonly onError?: (error: unknown) => void;
}

const DELETED = Symbol('deleted');
/** An identity known not to exist, in the cache of decoded identities (which holds no null). */
const ABSENT = Symbol('absent');
const IDENTITY_PREFIX = readModelKeys.identityPrefix(0).split(':')[0] + ':';

/** Runs a synchronous step as a settled promise, as the port's callers expect. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** FNV-1a over the key's UTF-16 code units: a cheap 32-bit fingerprint for the written-identity filter. */
function fingerprint(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

const MAX_TRACKED_IDENTITIES = 4_000_000;

/** Identity keys read into the filter per slice of its background fill: from this many, sized to about `FILL_SLICE_MS` after each slice. */
const FILL_FIRST_ROWS = 256;
const FILL_MAX_ROWS = 16_384;
const FILL_SLICE_MS = 1;

/** Bits of the written-identity filter: 8 MiB, whatever the number of identities. */
const WRITTEN_FILTER_BITS = 1 << 26;

/**
 * Identity keys persisted, as one bit per fingerprint (a Bloom filter of one hash): "no" is
 * certain, "maybe" means reading the file. At 4 million keys about 6% of absent keys still reach
 * the file. A Set of the fingerprints would hold most of them as heap numbers (about 110 MB at
 * 4 million); this stays at its fixed size.
 */
class WrittenIdentities {
  private readonly words = new Uint32Array(WRITTEN_FILTER_BITS / 32);
  private added = 0;

  add(key: string): void {
    const bit = fingerprint(key) & (WRITTEN_FILTER_BITS - 1);
    const word = this.words[bit >>> 5] as number;
    const mask = 1 << (bit & 31);
    // Bits set, not keys added: a key written again (an identity's new traits) costs nothing.
    if ((word & mask) !== 0) return;
    this.words[bit >>> 5] = word | mask;
    this.added++;
  }

  mayHave(key: string): boolean {
    const bit = fingerprint(key) & (WRITTEN_FILTER_BITS - 1);
    return ((this.words[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /** Past this many bits set the filter answers "maybe" too often to be worth keeping. */
  get full(): boolean {
    return this.added > MAX_TRACKED_IDENTITIES;
  }
}

/**
 * A read-only connection to the file, for identity reads through a memory map of up to `bytes`:
 * its own page cache is small, since mapped pages bypass it. Its read transaction is held
 * between the main connection's writes and ended before each (see `holdReads`), so it never holds
 * back their checkpoints and always reads what the last write committed.
 */
function openMappedReader(path: string, bytes: number): { readonly db: Database.Database; readonly getDocument: Database.Statement<[string], string> } {
  const reader = new Database(path, { readonly: true, fileMustExist: true });
  try {
    reader.pragma('cache_size = -1024');
    reader.pragma(`mmap_size = ${Math.floor(bytes)}`);
    return { db: reader, getDocument: reader.prepare<[string], string>('SELECT value FROM documents WHERE key = ?').pluck() };
  } catch (error) {
    reader.close();
    throw error;
  }
}

/** The first key past every identity key. */
const IDENTITY_RANGE_END = `${IDENTITY_PREFIX.slice(0, -1)}${String.fromCharCode(IDENTITY_PREFIX.charCodeAt(IDENTITY_PREFIX.length - 1) + 1)}`;
const isIdentityKey = (key: string): boolean => key.startsWith(IDENTITY_PREFIX);
/** Whether some identity key could start with `prefix` (or the reverse), so the listing needs the file. */
const reachesIdentities = (prefix: string): boolean => prefix.startsWith(IDENTITY_PREFIX) || IDENTITY_PREFIX.startsWith(prefix);

/**
 * The read-model store of the standalone app, persisted in SQLite with write-behind.
 *
 * - Documents other than identities (environments, projects, organisations: few and large) stay
 *   decoded in memory for the life of the process and are handed out as shared, deep-frozen
 *   objects: no JSON on a read or a commit.
 * - Identity documents (up to millions) live in the file, with a bounded cache of decoded ones.
 * - `commit` checks and applies the checkpoint and documents in memory and notifies subscribers
 *   at once; a flusher persists every pending document, checkpoint and consumer position in one
 *   transaction every `flushIntervalMs`, sooner when much is pending, and at close. Reads see the
 *   newest state (memory first). After a crash the file holds a consistent earlier state, each
 *   checkpoint with the documents it covers, and the log's tail is projected again.
 */
export class SqliteReadModelStore implements BatchReadModelStore {
  /** Non-identity documents, all of them, decoded and frozen. */
  private readonly resident = new Map<string, unknown>();
  /** Each resident document as the file holds it: what a flush compares a new one with, to write only the parts that changed. */
  private readonly persisted = new Map<string, unknown>();
  private readonly residentRows: ResidentDocumentRows;
  private readonly checkpoints = new Map<string, number>();
  private readonly consumers = new Map<string, number>();
  /** Written since the last flush: documents (or DELETED), checkpoint and consumer names. */
  private dirty = new Map<string, unknown>();
  private dirtyCheckpoints = new Set<string>();
  private dirtyConsumers = new Set<string>();
  /**
   * Decoded identity documents read or flushed lately, least recently used dropped first
   * (ABSENT: known not to exist). A library LRU rather than a Map in insertion order: dropping a
   * Map's oldest entry scans the holes earlier deletes left at its front, microseconds per read.
   */
  private readonly identities: LRUCache<string, object | typeof ABSENT>;
  private readonly listeners = new Set<(change: ReadModelChange) => void>();
  private readonly timer: NodeJS.Timeout;
  private flushScheduled = false;
  /** Fingerprints of every identity key persisted (see `trackWrittenIdentities`), or null: read the file. */
  private written: WrittenIdentities | null;
  /**
   * The last identity key of the file read into `written` by its background fill, or null when
   * no fill is under way (the filter holds every key of the file, or there is no filter).
   */
  private filledTo: string | null = null;
  private fillTimer: NodeJS.Immediate | null = null;
  private closed = false;
  private flushCount = 0;
  /** The read-only connection whose memory map identity reads go through (see `mappedReadBytes`), or null. */
  private readonly reader: Database.Database | null;
  /** An identity document's text by key: on the mapped reader when there is one, else on the main connection. */
  private readonly readDocument: Database.Statement<[string], string>;
  private readonly statements: {
    /** The value alone (plucked): no row object per read. */
    readonly getDocument: Database.Statement<[string], string>;
    readonly keysFrom: Database.Statement<[string], { key: string }>;
    /** Identity keys after a key, in key order, plucked: a slice of the filter's fill. */
    readonly identityKeysAfter: Database.Statement<[string, string, number], string>;
    readonly deleteDocument: Database.Statement<[string]>;
    readonly putCheckpoint: Database.Statement<[string, number]>;
    readonly putConsumer: Database.Statement<[string, number]>;
  };
  private readonly persist: (documents: Map<string, unknown>, checkpoints: Set<string>, consumers: Set<string>) => void;

  /** True when the file was created empty at open (first start, or a bad file replaced). */
  readonly created: boolean;
  /** Why an existing file was replaced by an empty one, or null. */
  readonly recreatedBecause: string | null;

  private constructor(
    private readonly db: Database.Database,
    opened: { created: boolean; recreatedBecause: string | null },
    private readonly options: SqliteReadModelStoreOptions,
  ) {
    this.created = opened.created;
    this.written = options.trackWrittenIdentities ? new WrittenIdentities() : null;
    this.recreatedBecause = opened.recreatedBecause;
    this.identities = new LRUCache({ max: Math.max(1, options.identityCacheSize ?? 10_000) });
    this.statements = {
      getDocument: db.prepare<[string], string>('SELECT value FROM documents WHERE key = ?').pluck(),
      keysFrom: db.prepare('SELECT key FROM documents WHERE key >= ? ORDER BY key'),
      identityKeysAfter: db.prepare<[string, string, number], string>('SELECT key FROM documents WHERE key > ? AND key < ? ORDER BY key LIMIT ?').pluck(),
      deleteDocument: db.prepare('DELETE FROM documents WHERE key = ?'),
      putCheckpoint: db.prepare('INSERT INTO checkpoints (key, position) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET position = excluded.position'),
      putConsumer: db.prepare('INSERT INTO consumers (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position'),
    };
    this.residentRows = new ResidentDocumentRows(db);
    // Identity documents, 64 to a statement (a flush writes hundreds of new identities).
    const putIdentities = new ChunkedInsert(db, 'INSERT INTO documents (key, value)', 2, 64, 'ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.persist = db.transaction((documents: Map<string, unknown>, checkpoints: Set<string>, consumers: Set<string>) => {
      // Rows a failed flush left buffered are dropped: its documents stay pending and are written again.
      putIdentities.discard();
      // In key order: neighbouring inserts land on the same B-tree pages.
      for (const key of [...documents.keys()].sort()) {
        const value = documents.get(key);
        // Identity documents share no remembered parts worth the walk: V8's own JSON.stringify (the same text) is faster.
        if (isIdentityKey(key)) {
          if (value === DELETED) this.statements.deleteDocument.run(key);
          else putIdentities.add(key, JSON.stringify(value));
        } else if (value === DELETED) this.residentRows.delete(key);
        else this.residentRows.write(key, value, this.persisted.get(key));
      }
      putIdentities.flush();
      for (const key of checkpoints) this.statements.putCheckpoint.run(key, this.checkpoints.get(key) ?? 0);
      for (const name of consumers) this.statements.putConsumer.run(name, this.consumers.get(name) ?? 0);
    });
    this.load();
    // Opened last: nothing above can fail and leave it open (the caller closes the main connection).
    const mapped = (options.mappedReadBytes ?? 0) > 0 ? openMappedReader(options.path, options.mappedReadBytes ?? 0) : null;
    this.reader = mapped?.db ?? null;
    this.readDocument = mapped?.getDocument ?? this.statements.getDocument;
    this.holdReads();
    this.timer = setInterval(() => this.flushQuietly(), options.flushIntervalMs ?? 200);
    this.timer.unref();
    // An existing file's identity keys go into the filter behind the serving; until then it answers nothing.
    if (this.written && !opened.created) {
      this.filledTo = IDENTITY_PREFIX;
      this.scheduleFill(FILL_FIRST_ROWS);
    }
  }

  /** Opens (or creates, or replaces when it cannot be served) the file and loads what stays in memory. */
  static open(options: SqliteReadModelStoreOptions): SqliteReadModelStore {
    const fileOptions: ReadModelFileOptions = {
      path: options.path,
      consumer: options.consumer ?? 'relay',
      cacheSizeKiB: options.cacheSizeKiB ?? 16_384,
      integrityCheck: options.integrityCheck ?? 'quick',
      bulkLoad: options.bulkLoad,
      logHead: options.logHead,
    };
    const opened = openReadModelFile(fileOptions);
    let damaged: DamagedReadModelFile;
    try {
      return new SqliteReadModelStore(opened.db, opened, options);
    } catch (error) {
      opened.db.close();
      if (!(error instanceof DamagedReadModelFile) || opened.created) throw error;
      damaged = error;
    }
    // Documents that do not fit together (found only when they are put together at load) are not served either: start empty.
    removeReadModelFile(options.path);
    const recreated = openReadModelFile(fileOptions);
    try {
      return new SqliteReadModelStore(recreated.db, { created: true, recreatedBecause: damaged.message }, options);
    } catch (error) {
      recreated.db.close();
      throw error;
    }
  }

  private load(): void {
    // Everything but identities: the keys below and above the identity range.
    const upper = IDENTITY_RANGE_END;
    // All at once (they are few): an iterator left open by a damaged part would keep the file busy.
    const heads = this.db.prepare('SELECT key, value FROM documents WHERE key < ? OR key >= ?').all(IDENTITY_PREFIX, upper) as { key: string; value: string }[];
    for (const [key, document] of this.residentRows.read(heads)) {
      const frozen = deepFreeze(document);
      this.resident.set(key, frozen);
      this.persisted.set(key, frozen);
    }
    for (const row of this.db.prepare('SELECT key, position FROM checkpoints').iterate() as IterableIterator<{ key: string; position: number }>) {
      this.checkpoints.set(row.key, row.position);
    }
    for (const row of this.db.prepare('SELECT name, position FROM consumers').iterate() as IterableIterator<{ name: string; position: number }>) {
      this.consumers.set(row.name, row.position);
    }
  }

  /** @param keep - whether an identity read from the file joins the cache of decoded ones. */
  private read(key: string, keep = true): unknown {
    if (!isIdentityKey(key)) return this.resident.get(key) ?? null;
    const pending = this.dirty.get(key);
    if (pending !== undefined) return pending === DELETED ? null : pending;
    const cached = this.identities.get(key);
    if (cached !== undefined) return cached === ABSENT ? null : cached;
    if (this.written && this.filledTo === null && !this.written.mayHave(key)) return null;
    const value = this.readDocument.get(key);
    const document = value === undefined ? null : parseFrozen(value);
    if (keep) this.remember(key, document);
    return document;
  }

  private remember(key: string, document: unknown): void {
    this.identities.set(key, typeof document === 'object' && document !== null ? document : ABSENT);
  }

  get<T>(key: string): Promise<T | null> {
    // Resident documents (environments, projects) answer without the guarded path below.
    if (!this.closed && !isIdentityKey(key)) return Promise.resolve((this.resident.get(key) ?? null) as T | null);
    return settle(() => {
      this.assertOpen();
      return this.read(key) as T | null;
    });
  }

  /**
   * `get` without a promise (the file is read synchronously anyway), for a caller that keeps what
   * it needs itself (the evaluation registry): an identity read from the file is not added to
   * this store's cache, where most of a large population, read once in a while, would only
   * outlive a few collections for nothing. Throws once closed.
   */
  getNow<T>(key: string): T | null {
    this.assertOpen();
    return this.read(key, false) as T | null;
  }

  getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    return settle(() => {
      this.assertOpen();
      const documents: (T | null)[] = [];
      for (const key of keys) documents.push(this.read(key) as T | null);
      return documents;
    });
  }

  keysWithPrefix(prefix: string): Promise<string[]> {
    return settle(() => {
      this.assertOpen();
      if (!reachesIdentities(prefix)) return [...this.resident.keys()].filter((key) => key.startsWith(prefix)).sort();
      // Identity keys live in the file: persist what is pending, then list from it.
      this.flush();
      const keys: string[] = [];
      for (const row of this.statements.keysFrom.iterate(prefix)) {
        if (!row.key.startsWith(prefix)) break;
        keys.push(row.key);
      }
      return keys.sort();
    });
  }

  checkpoint(key: string): Promise<number> {
    return Promise.resolve(this.checkpoints.get(key) ?? 0);
  }

  commit(commit: ReadModelCommit): Promise<boolean> {
    return settle(() => this.apply([commit.checkpoint], commit));
  }

  checkpointMany(keys: readonly string[]): Promise<number[]> {
    return Promise.resolve(keys.map((key) => this.checkpoints.get(key) ?? 0));
  }

  commitBatch(batch: ReadModelBatchCommit): Promise<boolean> {
    return settle(() => {
      if (batch.checkpoints.length === 0) throw new RangeError('A batch commit needs at least one checkpoint');
      return this.apply(batch.checkpoints, batch);
    });
  }

  /** Every guard checked first, then everything applied in memory: all or nothing. */
  private apply(moves: readonly ReadModelCheckpointMove[], commit: Omit<ReadModelBatchCommit, 'checkpoints' | 'changedIdentities'> & { readonly changedIdentities?: readonly IdentityRef[] }): boolean {
    this.assertOpen();
    if (moves.some(({ key, expected }) => (this.checkpoints.get(key) ?? 0) !== expected)) return false;
    for (const write of commit.writes) {
      const value = 'delete' in write ? DELETED : deepFreeze(write.value);
      if (!isIdentityKey(write.key)) {
        if (value === DELETED) this.resident.delete(write.key);
        else this.resident.set(write.key, value);
      }
      this.dirty.set(write.key, value);
    }
    for (const { key, next } of moves) {
      this.checkpoints.set(key, next);
      this.dirtyCheckpoints.add(key);
    }
    this.announce(commit.changedEnvironments, commit.changedIdentities ?? []);
    this.afterWrite();
    return true;
  }

  private announce(environmentIds: readonly number[], identities: readonly IdentityRef[]): void {
    if (environmentIds.length === 0 && identities.length === 0) return;
    const change = { environmentIds: [...environmentIds], identities: identities.map((ref) => ({ ...ref })) };
    for (const listener of this.listeners) listener(change);
  }

  /** Bounds what waits in memory: a flush soon past `flushAtDirty`, at once past `maxDirty`. */
  private afterWrite(): void {
    const size = this.dirty.size;
    // The commit is applied already: a failed flush is reported, never thrown back at its caller.
    if (size >= (this.options.maxDirty ?? 100_000)) this.flushQuietly();
    else if (size >= (this.options.flushAtDirty ?? 10_000) && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushQuietly();
      });
    }
  }

  subscribe(listener: (change: ReadModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Where bus consumers (the relay) keep their positions: in this file, persisted in the same
   * transaction as the documents, so a restart resumes right after what the documents cover.
   */
  consumerCheckpoints(): CheckpointStore {
    return {
      load: (name) => Promise.resolve(this.consumers.get(name) ?? 0),
      save: (name, position) => {
        if (this.closed) return Promise.reject(new Error('The read-model store is closed'));
        this.consumers.set(name, position);
        this.dirtyConsumers.add(name);
        return Promise.resolve();
      },
    };
  }

  /** Stops keeping the fingerprints of written identities (see `trackWrittenIdentities`): every lookup reads the file again. */
  forgetWrittenIdentities(): void {
    this.stopFill();
    this.written = null;
  }

  /**
   * True when an identity this store never held is answered absent without reading the file
   * (mostly: about 1.5% of them still reach it at a million identities), so a caller need not
   * rule it out first: the filter of `trackWrittenIdentities` holds every key of the file.
   */
  get identityFilterComplete(): boolean {
    return this.written !== null && this.filledTo === null;
  }

  private scheduleFill(rows: number): void {
    this.fillTimer = setImmediate(() => this.fillSlice(rows));
    this.fillTimer.unref();
  }

  private stopFill(): void {
    if (this.fillTimer) clearImmediate(this.fillTimer);
    this.fillTimer = null;
    this.filledTo = null;
  }

  /**
   * One slice of the filter's fill: the next identity keys of the file, in key order, then the
   * next slice sized from this one's pace. Keys flushed meanwhile are added by the flush, wherever
   * the fill is; a key deleted meanwhile stays in the filter, which only ever answers "maybe".
   */
  private fillSlice(rows: number): void {
    this.fillTimer = null;
    const written = this.written;
    const after = this.filledTo;
    if (this.closed || written === null || after === null) return;
    let keys: string[];
    const started = performance.now();
    try {
      keys = this.statements.identityKeysAfter.all(after, IDENTITY_RANGE_END, rows);
    } catch (error) {
      // Reads go to the file, as without a filter.
      this.forgetWrittenIdentities();
      this.options.onError?.(error);
      return;
    }
    for (const key of keys) written.add(key);
    if (written.full) return this.forgetWrittenIdentities();
    if (keys.length < rows) {
      this.filledTo = null;
      return;
    }
    this.filledTo = keys[keys.length - 1] as string;
    const took = performance.now() - started;
    this.scheduleFill(Math.max(64, Math.min(FILL_MAX_ROWS, Math.round((rows * FILL_SLICE_MS) / Math.max(took, 0.01)))));
  }

  /** Transactions written so far (each one flush of pending documents and checkpoints). */
  get flushes(): number {
    return this.flushCount;
  }

  /**
   * Opens the mapped reader's read transaction (deferred: its snapshot is taken by the first read),
   * held until the next write, so that a read does not lock and unlock the WAL and check the file
   * (two `fcntl`s and an `fstat`) each time: between flushes nothing changes the file.
   */
  private holdReads(): void {
    if (this.reader && !this.reader.inTransaction) this.reader.exec('BEGIN');
  }

  /** Ends the mapped reader's read transaction: before a write, so the write's checkpoint is not held back and the next read sees it. */
  private releaseReads(): void {
    if (this.reader?.inTransaction) this.reader.exec('COMMIT');
  }

  /** Persists everything pending in one transaction; the pending state is kept if it fails. */
  flush(): void {
    if (this.dirty.size === 0 && this.dirtyCheckpoints.size === 0 && this.dirtyConsumers.size === 0) return;
    const documents = this.dirty;
    const checkpoints = this.dirtyCheckpoints;
    const consumers = this.dirtyConsumers;
    this.dirty = new Map();
    this.dirtyCheckpoints = new Set();
    this.dirtyConsumers = new Set();
    this.releaseReads();
    try {
      this.persist(documents, checkpoints, consumers);
    } catch (error) {
      // Put back what did not persist, under anything written since (newer wins).
      for (const [key, value] of this.dirty) documents.set(key, value);
      this.dirty = documents;
      for (const key of checkpoints) this.dirtyCheckpoints.add(key);
      for (const name of consumers) this.dirtyConsumers.add(name);
      throw error;
    } finally {
      this.holdReads();
    }
    this.flushCount++;
    for (const [key, value] of documents) {
      if (!isIdentityKey(key)) {
        if (value === DELETED) this.persisted.delete(key);
        else this.persisted.set(key, value);
        continue;
      }
      this.remember(key, value === DELETED ? null : value);
      if (this.written && value !== DELETED) this.written.add(key);
    }
    if (this.written?.full) this.forgetWrittenIdentities();
  }

  private flushQuietly(): void {
    if (this.closed) return;
    try {
      this.flush();
    } catch (error) {
      // What did not persist stays pending and is written by the next flush.
      if (this.options.onError) this.options.onError(error);
      else console.error('read models: a flush failed; it is retried at the next one', error);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The read-model store is closed');
  }

  /**
   * Persists what is pending, then copies the WAL into the database and truncates it: after an
   * erasure, so that no page image of a deleted document (zeroed in the database by
   * `secure_delete`) is left in the WAL either. Tried again while another connection keeps the
   * WAL busy (see `truncateWal`).
   */
  scrub(): void {
    this.assertOpen();
    this.flush();
    this.releaseReads();
    try {
      truncateWal(this.db);
    } finally {
      this.holdReads();
    }
  }

  /** Persists what is pending and closes the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    clearInterval(this.timer);
    this.forgetWrittenIdentities();
    return settle(() => {
      try {
        this.flush();
      } finally {
        this.closed = true;
        this.listeners.clear();
        this.releaseReads();
        this.reader?.close();
        this.db.close();
      }
    });
  }
}
