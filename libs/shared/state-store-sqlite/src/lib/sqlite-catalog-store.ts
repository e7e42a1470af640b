import { indexKeyOf, type AuditQuery, type CatalogAuditEntry, type CatalogBatch, type CatalogEventRef, type CatalogIdentityRecord, type CatalogStore, type IdentifierQuery } from '@flagline/event-sourcing';
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { CatalogStateRows, STATE_PARTS_SCHEMA } from './catalog-state-rows';
import { ChunkedInsert } from './chunked-insert';
import { decodeState, encodeStateByValue } from './state-codec';
import { truncateWal } from './truncate-wal';

/** Written in the file's meta table; a file without it (or with another) is not served but rebuilt. */
/**
 * 8: snapshots as heads and parts of their big maps (`state_part`, see `CatalogStateRows`).
 * 9: the identifier index keeps a deleted identity's identifier with its deletion's position (`deleted`).
 */
const FORMAT = 'flagline-catalog/9';

export interface SqliteCatalogStoreOptions {
  /** SQLite page cache in KiB (bounded: RSS must not grow with the data). Default 32 MiB. */
  readonly cacheKiB?: number;
  /** Called when an existing file was unusable (torn, foreign, another format) and was replaced by an empty one. */
  readonly onDiscarded?: (reason: string) => void;
  /**
   * No journal and no syncs: only for a file made empty by a writer that throws it away unless it
   * completes (the rebuild's, synced once before it is swapped in). Reopened normally, it is WAL again.
   */
  readonly bulkLoad?: boolean;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
${STATE_PARTS_SCHEMA}
-- A rowid table with an index, not a table keyed by the id: ids are hashes, so new identities
-- land at random places of the key order, and a small index dirties far fewer pages per
-- transaction than whole rows would (about 3x the write rate at 200,000 identities). The index
-- holds a 53-bit key of the id (indexKeyOf), not the 64-digit id: a fraction of the size, so it
-- stays in the page cache far longer as identities grow. An id is written once (see setIdentity).
CREATE TABLE identity (id_key INTEGER NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, state TEXT NOT NULL);
-- deleted: NULL while listed, else the log position of the identity's deletion (a tombstone, read
-- only as of an earlier point). An erased identity's row is deleted, tombstone and all.
CREATE TABLE identifier (environment INTEGER NOT NULL, identifier TEXT NOT NULL, deleted INTEGER, PRIMARY KEY (environment, identifier)) WITHOUT ROWID;
CREATE TABLE audit (entity TEXT NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (entity, position)) WITHOUT ROWID;
CREATE TABLE event_id (id TEXT PRIMARY KEY, position INTEGER NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * The identity table's index, made with the tables, or by a bulk load once it is done (one sorted
 * build instead of an insert at a random place of it per identity). Every open makes it if it is
 * missing, so no file is ever read without it.
 */
const IDENTITY_INDEX = 'CREATE INDEX IF NOT EXISTS identity_by_key ON identity (id_key)';

/** Why a file cannot be served as it is, or null when it looks whole (header and size agree). */
function headerProblem(path: string): string | null {
  const size = statSync(path).size;
  if (size === 0) return null;
  if (size < 100) return `catalog file is ${size} bytes, shorter than a SQLite header`;
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') return 'catalog file is not a SQLite database';
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  // A checkpoint cut short writes pages in order without growing the file first, so a file
  // shorter than its header counts is whole while its WAL holds the rest (SQLite recovers it).
  const wal = `${path}-wal`;
  if (pages * pageSize > size && !(existsSync(wal) && statSync(wal).size > 0)) return `catalog file is torn: its header counts ${pages * pageSize} bytes, the file holds ${size}`;
  return null;
}

const byKey = (a: { key: number }, b: { key: number }): number => a.key - b.key;

/**
 * The low 30 bits of an identity's key: a small integer, which a Map hashes and holds without a
 * heap number per entry (a million 53-bit keys were a million heap numbers to allocate, hash and
 * carry through every collection of a rebuild).
 */
const shortKey = (key: number): number => key & 0x3fffffff;

/**
 * Where a bulk load put each identity, so that it needs no index on the identity table until it
 * is done: the rowid of the first identity of each short key (`shortKey`), and of every other
 * identity whose key shares it (about 500 pairs at a million identities, each then found through
 * its id, checked against the row). Rowids are given in order, never reused.
 */
export class BulkIdentities {
  private readonly byKey = new Map<number, number>();
  private readonly sharingKey = new Map<string, number>();
  private lastRowid = 0;

  constructor(private readonly idAt: (rowid: number) => string | undefined) {}

  rowidOf(key: number, identityId: string): number | undefined {
    const rowid = this.byKey.get(shortKey(key));
    if (rowid === undefined) return undefined;
    return this.idAt(rowid) === identityId ? rowid : this.sharingKey.get(identityId);
  }

  /** A rowid for a new identity (one `rowidOf` did not find). */
  add(key: number, identityId: string): number {
    const rowid = ++this.lastRowid;
    const short = shortKey(key);
    if (this.byKey.has(short)) this.sharingKey.set(identityId, rowid);
    else this.byKey.set(short, rowid);
    return rowid;
  }

  /** Forgets identities added since `rowid` (those of a batch that failed); their rowids are not given again. */
  forgetAfter(rowid: number): void {
    for (const [key, at] of this.byKey) if (at > rowid) this.byKey.delete(key);
    for (const [id, at] of this.sharingKey) if (at > rowid) this.sharingKey.delete(id);
  }

  get last(): number {
    return this.lastRowid;
  }

  clear(): void {
    this.byKey.clear();
    this.sharingKey.clear();
  }
}

/**
 * Rows written per INSERT statement: a rebuild writes millions (an identity, its identifier and
 * two audit rows per identity), a live flush hundreds (each new identity's row and identifier),
 * and one statement of 64 rows costs about 0.45 us a row where 64 statements cost 1.2 us.
 */
const CHUNK_ROWS = 64;

/** Errors of a file in use or out of reach (busy, locked, no permission, no space, I/O), which discarding it would not mend. */
const OUT_OF_REACH = /^(SQLITE_(BUSY|LOCKED|CANTOPEN|FULL|IOERR|PERM|READONLY|AUTH|NOMEM)|E[A-Z]+$)/;

function isUnusableFile(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && OUT_OF_REACH.test(code));
}

function removeFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

/**
 * The catalog store on SQLite (better-sqlite3): WAL, `synchronous = NORMAL`, a bounded page cache
 * and no memory map, so the process's memory stays the same however many identities it holds.
 * Every batch is one transaction holding its data and its checkpoint. A file that is torn,
 * foreign or of another format is removed and started empty (the catalog then rebuilds it from
 * the log), never served.
 */
export class SqliteCatalogStore implements CatalogStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly writeBatch: (batch: CatalogBatch) => void;
  private readonly resetAll: () => void;
  private readonly discardBuffered: () => void;
  private readonly stateRows: CatalogStateRows;
  /** The snapshots, decoded at open (a file whose heads and parts do not fit is not served), until `states()` takes them or a write. */
  private loadedStates: [string, unknown][] | null;
  /** Steps of the batch being written, taken once its transaction has committed. */
  private committed: (() => void)[] = [];
  /**
   * The identities a bulk load (see `bulkLoad`) inserted, or null: its file held no other, so an
   * identity not among them is inserted without first being looked for, and the identity table
   * is indexed once, at close.
   */
  private readonly bulk: BulkIdentities | null = null;

  static open(path: string, options: SqliteCatalogStoreOptions = {}): SqliteCatalogStore {
    if (existsSync(path)) {
      const problem = headerProblem(path);
      if (problem) {
        options.onDiscarded?.(problem);
        removeFiles(path);
      }
    }
    try {
      return new SqliteCatalogStore(path, options);
    } catch (error) {
      // A file in use or out of reach (busy, no permission, no space) is not discarded: that error stands.
      if (!isUnusableFile(error)) throw error;
      // Unreadable in a way the header did not show (a damaged page, a foreign schema): start empty.
      options.onDiscarded?.(`catalog file unusable: ${(error as Error).message}`);
      removeFiles(path);
      return new SqliteCatalogStore(path, options);
    }
  }

  private constructor(path: string, options: SqliteCatalogStoreOptions) {
    const db = new Database(path);
    let created = false;
    try {
      db.pragma(options.bulkLoad ? 'journal_mode = OFF' : 'journal_mode = WAL');
      db.pragma(options.bulkLoad ? 'synchronous = OFF' : 'synchronous = NORMAL');
      db.pragma(`cache_size = -${Math.max(1024, Math.floor(options.cacheKiB ?? 32 * 1024))}`);
      // Fewer, larger WAL checkpoints: batches touch pages all over the identity index.
      db.pragma('wal_autocheckpoint = 4000');
      db.pragma('mmap_size = 0');
      db.pragma('temp_store = FILE');
      // Deleted rows (an erased identity's identifier) are zeroed in the pages written anyway.
      db.pragma('secure_delete = FAST');
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      created = tables.length === 0;
      if (created) {
        db.exec(SCHEMA);
        if (!options.bulkLoad) db.exec(IDENTITY_INDEX);
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)').run('format', FORMAT, 'checkpoint', 0, 'checkpointEvent', null);
      } else {
        const format = tables.some(({ name }) => name === 'meta') ? db.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get('format')?.value : undefined;
        // No integrity scan here: it reads every page (seconds at a million identities). WAL keeps
        // committed transactions whole across crashes; a file cut short is caught by its header.
        if (format !== FORMAT) throw new Error(`format ${typeof format === 'string' ? format : 'unknown'}, expected ${FORMAT}`);
        db.exec(IDENTITY_INDEX);
      }
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    db.function('contains_lower', { deterministic: true }, (text: unknown, search: unknown) => (String(text).toLowerCase().includes(String(search)) ? 1 : 0));
    const statements = {
      meta: db.prepare<[string], { value: number | string | null }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, number | string | null]>('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      identity: db.prepare<[number, string], { revision: number; state: string }>('SELECT revision, state FROM identity WHERE id_key = ? AND id = ?'),
      // Updated in place when stored, inserted otherwise (no unique index on the id to upsert against).
      updateIdentity: db.prepare<[number, string, number, string]>('UPDATE identity SET revision = ?, state = ? WHERE id_key = ? AND id = ?'),
      insertIdentity: db.prepare<[number, string, number, string]>('INSERT INTO identity (id_key, id, revision, state) VALUES (?, ?, ?, ?)'),
      // A bulk load's, by rowid: its identity table has no index until it is done.
      identityAt: db.prepare<[number], { id: string; revision: number; state: string }>('SELECT id, revision, state FROM identity WHERE rowid = ?'),
      updateIdentityAt: db.prepare<[number, string, number]>('UPDATE identity SET revision = ?, state = ? WHERE rowid = ?'),
      unlist: db.prepare<[number, string]>('DELETE FROM identifier WHERE environment = ? AND identifier = ?'),
      // A live read passes no position (NULL): tombstones are skipped; as of a position, those deleted after it are kept.
      identifiers: db.prepare<[number, string, number | null, number], { identifier: string }>(
        'SELECT identifier FROM identifier WHERE environment = ? AND identifier > ? AND (deleted IS NULL OR deleted > ?) ORDER BY identifier LIMIT ?',
      ),
      search: db.prepare<[number, string, number | null, string, number], { identifier: string }>(
        'SELECT identifier FROM identifier WHERE environment = ? AND identifier > ? AND (deleted IS NULL OR deleted > ?) AND contains_lower(identifier, ?) ORDER BY identifier LIMIT ?',
      ),
      audit: db.prepare<[string, number, number], CatalogAuditEntry>(
        'SELECT position, stream, revision, type FROM audit WHERE entity = ? AND position > ? ORDER BY position LIMIT ?',
      ),
      auditOfTypes: db.prepare<[string, number, string, number], CatalogAuditEntry>(
        'SELECT position, stream, revision, type FROM audit WHERE entity = ? AND position > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?',
      ),
      event: db.prepare<[string], CatalogEventRef>('SELECT id, position, stream, revision FROM event_id WHERE id = ?'),
      addEvent: db.prepare<[string, number, string, number]>('INSERT OR REPLACE INTO event_id (id, position, stream, revision) VALUES (?, ?, ?, ?)'),
    };
    this.statements = statements;
    const stateRows = new CatalogStateRows(db);
    this.stateRows = stateRows;
    try {
      this.loadedStates = created ? [] : stateRows.read();
    } catch (error) {
      db.close();
      throw error;
    }
    // Rows many to a statement, in the order they come (the first audit row of a key stays, as one by one).
    const rows = CHUNK_ROWS;
    const insertIdentity = new ChunkedInsert(db, 'INSERT INTO identity (rowid, id_key, id, revision, state)', 5, rows);
    // A live batch's new identities (their stream's first event): no row can hold them yet, since
    // a checkpoint commits with the rows of every event it covers, so they are inserted without
    // the update's search of the index first.
    const insertNewIdentity = new ChunkedInsert(db, 'INSERT INTO identity (id_key, id, revision, state)', 4, rows);
    // Rows still buffered are written before one is looked up: the identity may be among them.
    const idAt = (rowid: number): string | undefined => {
      insertIdentity.flush();
      return statements.identityAt.get(rowid)?.id;
    };
    const bulk = options.bulkLoad && created ? new BulkIdentities(idAt) : null;
    this.bulk = bulk;
    // Listed (deleted NULL) and tombstoned rows in the order they come: the last row of an identifier wins.
    const list = new ChunkedInsert(db, 'INSERT OR REPLACE INTO identifier (environment, identifier, deleted)', 3, rows);
    const addAudit = new ChunkedInsert(db, 'INSERT OR IGNORE INTO audit (entity, position, type, stream, revision)', 5, rows);
    this.discardBuffered = () => {
      for (const insert of [insertIdentity, insertNewIdentity, list, addAudit]) insert.discard();
    };
    this.writeBatch = db.transaction((batch: CatalogBatch) => {
      // In key order: neighbouring keys share index pages, so a batch dirties fewer of them (a bulk
      // load has no index yet, and appends its rows in the order they come).
      const keyed = batch.identities.map((row) => ({ row, key: indexKeyOf(row.identityId) }));
      if (bulk === null) keyed.sort(byKey);
      for (const { row, key } of keyed) {
        // Identity states are small: native JSON.stringify of their converted tree beats the
        // hand-built text (about 2 us less each); the memoising encoder is for large project states.
        const state = encodeStateByValue(row.state);
        if (bulk !== null) {
          const rowid = bulk.rowidOf(key, row.identityId);
          if (rowid === undefined) insertIdentity.add(bulk.add(key, row.identityId), key, row.identityId, row.revision, state);
          else statements.updateIdentityAt.run(row.revision, state, rowid);
        } else if (row.revision === 0) insertNewIdentity.add(key, row.identityId, row.revision, state);
        else if (statements.updateIdentity.run(row.revision, state, key, row.identityId).changes === 0) statements.insertIdentity.run(key, row.identityId, row.revision, state);
        if (row.listed) list.add(row.environmentId, row.identifier, null);
        else if (row.deletedAt !== undefined) list.add(row.environmentId, row.identifier, row.deletedAt);
        else {
          // Rows before it are written first: an identifier listed and then erased ends with no row.
          list.flush();
          statements.unlist.run(row.environmentId, row.identifier);
        }
      }
      insertIdentity.flush();
      insertNewIdentity.flush();
      list.flush();
      for (const [key, value] of batch.states) this.committed.push(stateRows.write(key, value));
      for (const row of batch.audit) addAudit.add(row.entity, row.position, row.type, row.stream, row.revision);
      addAudit.flush();
      for (const event of batch.events) statements.addEvent.run(event.id, event.position, event.stream, event.revision);
      statements.setMeta.run('checkpoint', batch.checkpoint);
      statements.setMeta.run('checkpointEvent', JSON.stringify(batch.checkpointEvent));
    });
    this.resetAll = db.transaction(() => {
      for (const table of ['state', 'state_part', 'identity', 'identifier', 'audit', 'event_id']) db.prepare(`DELETE FROM ${table}`).run();
      statements.setMeta.run('checkpoint', 0);
      statements.setMeta.run('checkpointEvent', null);
    });
  }

  checkpoint(): number {
    return Number(this.statements.meta.get('checkpoint')?.value ?? 0);
  }

  checkpointEvent(): CatalogEventRef | null {
    const value = this.statements.meta.get('checkpointEvent')?.value;
    return typeof value === 'string' ? (JSON.parse(value) as CatalogEventRef) : null;
  }

  states(): [string, unknown][] {
    const loaded = this.loadedStates;
    this.loadedStates = null;
    return loaded ?? this.stateRows.read();
  }

  identity(identityId: string): CatalogIdentityRecord | undefined {
    const key = indexKeyOf(identityId);
    let row: { revision: number; state: string } | undefined;
    if (this.bulk === null) row = this.statements.identity.get(key, identityId);
    else {
      const rowid = this.bulk.rowidOf(key, identityId);
      row = rowid === undefined ? undefined : this.statements.identityAt.get(rowid);
    }
    return row ? { revision: row.revision, state: decodeState(row.state) } : undefined;
  }

  identifiers(environmentId: number, options: IdentifierQuery): string[] {
    const after = options.after ?? '';
    const deletedAfter = options.deletedAfter ?? null;
    const rows =
      options.search === undefined
        ? this.statements.identifiers.all(environmentId, after, deletedAfter, options.limit)
        : this.statements.search.all(environmentId, after, deletedAfter, options.search, options.limit);
    return rows.map(({ identifier }) => identifier);
  }

  audit(entity: string, options: AuditQuery): CatalogAuditEntry[] {
    const after = options.after ?? 0;
    return options.types
      ? this.statements.auditOfTypes.all(entity, after, JSON.stringify(options.types), options.limit)
      : this.statements.audit.all(entity, after, options.limit);
  }

  event(eventId: string): CatalogEventRef | undefined {
    return this.statements.event.get(eventId);
  }

  write(batch: CatalogBatch): void {
    const before = this.bulk?.last ?? 0;
    this.committed = [];
    this.loadedStates = null;
    try {
      this.writeBatch(batch);
      for (const step of this.committed) step();
    } catch (error) {
      // Rolled back: the rows it left buffered are dropped (the whole batch is written again
      // later), and the identities it added are not in the file.
      this.discardBuffered();
      this.bulk?.forgetAfter(before);
      throw error;
    }
  }

  reset(): void {
    this.resetAll();
    this.stateRows.forget();
    this.loadedStates = null;
    this.bulk?.clear();
  }

  /**
   * Copies the WAL into the database and truncates it: after an erasure, so that the page images
   * the WAL held of rows since deleted (zeroed in the database by `secure_delete`) are gone too.
   * Tried again while another connection keeps the WAL busy (see `truncateWal`).
   */
  scrub(): void {
    truncateWal(this.db);
  }

  close(): void {
    if (!this.db.open) return;
    try {
      if (this.bulk !== null) this.db.exec(IDENTITY_INDEX);
    } finally {
      this.db.close();
    }
  }
}
