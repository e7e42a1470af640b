import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { indexKeyOf, type RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import { StreamKeyFilter } from './stream-key-filter';

/** Name of the index inside the store's directory, beside the log. */
export const LOG_INDEX_FILE_NAME = 'index.sqlite';

/**
 * The table layout; a file with another `user_version` is rebuilt from the log. A file being
 * built has `user_version` 0 until its secondary indexes exist, so an interrupted build is
 * rebuilt as well.
 */
export const LOG_INDEX_VERSION = 5;

/** The layout before streams were found through `stream_keys`: migrated in place at open. */
const STREAMS_INDEXED_VERSION = 4;

/**
 * Streams whose (name key, stream id) pairs are written to `stream_keys` together, sorted: the
 * streams after the last such batch are found in memory (at most this many).
 */
export const STREAMS_FOLDED_EVERY = 4096;

/** Distinguishes an index from any other SQLite file that might sit at the same path. */
const APPLICATION_ID = 0x464c4758; // "FLGX"

/** SQLite's page cache for the index, in KiB: its share of memory, however long the log. */
const CACHE_SIZE_KIB = 16 * 1024;

/** WAL pages between automatic checkpoints (SQLite's default is 1,000). */
const WAL_CHECKPOINT_PAGES = 10_000;

const SCHEMA = `
  CREATE TABLE coverage (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    covered_offset INTEGER NOT NULL,
    head_position INTEGER NOT NULL,
    last_frame_offset INTEGER NOT NULL,
    last_frame_bytes INTEGER NOT NULL,
    last_frame_checksum INTEGER NOT NULL
  );
  -- Found by a 53-bit hash of the name (then the name itself) in stream_keys, whose pairs are
  -- written STREAMS_FOLDED_EVERY streams at a time, sorted; the streams after stream_fold.upto
  -- are held in memory. An index of the keys written with each stream (layout 4) put every new
  -- stream's random key at a random page, one to rewrite per new identity. Names are unique:
  -- checked before a stream is added.
  CREATE TABLE streams (stream_id INTEGER PRIMARY KEY, name_key INTEGER NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL);
  CREATE TABLE stream_keys (name_key INTEGER NOT NULL, stream_id INTEGER NOT NULL, PRIMARY KEY (name_key, stream_id)) WITHOUT ROWID;
  CREATE TABLE stream_fold (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), upto INTEGER NOT NULL);
  INSERT INTO stream_fold VALUES (1, 0);
  CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    id TEXT,
    stream_id INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    frame_offset INTEGER NOT NULL,
    frame_bytes INTEGER NOT NULL,
    index_in_frame INTEGER NOT NULL
  );
`;

/**
 * Created once the events a build starts with are in: sorting millions of rows once is far
 * cheaper than inserting each into two B-trees keyed at random. Events appended with fresh ids
 * (no retry can carry them) have no id row: the id index, keyed at random, is the costliest
 * to extend, and the busiest writes (identities recorded by SDK keys) skip it.
 */
const SECONDARY_INDEXES = `
  CREATE UNIQUE INDEX events_by_id ON events (id) WHERE id IS NOT NULL;
  CREATE UNIQUE INDEX events_by_stream ON events (stream_id, revision);
`;

/** What part of the log the index holds: every frame before `coveredOffset`, and nothing after it. */
export interface IndexCoverage {
  /** Byte offset just past the last indexed frame (the log header's length when empty). */
  readonly coveredOffset: number;
  /** Global position of the last indexed event, 0 when none. */
  readonly head: number;
  /** The last indexed frame, checked against the log at open; null when none. */
  readonly lastFrame: { readonly offset: number; readonly bytes: number; readonly checksum: number } | null;
}

/** The events of one frame of the log, with where the frame lies in the file. */
export interface IndexedFrame {
  readonly offset: number;
  readonly bytes: number;
  /** The frame's stored crc32, which identifies it when the index is checked against the log. */
  readonly checksum: number;
  readonly events: readonly Pick<RecordedEvent, 'id' | 'streamName' | 'streamRevision' | 'globalPosition'>[];
  /** The frame's ids were fresh when appended: no id rows (they are never looked up for a retry). */
  readonly freshIds?: boolean;
}

/** Where one event is stored: its frame, and its place in that frame's batch. */
export interface EventLocation {
  readonly position: number;
  readonly revision: number;
  readonly frameOffset: number;
  readonly frameBytes: number;
  readonly indexInFrame: number;
}

interface LocationRow {
  readonly position: number;
  readonly revision: number;
  readonly frame_offset: number;
  readonly frame_bytes: number;
  readonly index_in_frame: number;
}

interface CoverageRow {
  readonly covered_offset: number;
  readonly head_position: number;
  readonly last_frame_offset: number;
  readonly last_frame_bytes: number;
  readonly last_frame_checksum: number;
}

function toLocation(row: LocationRow): EventLocation {
  return {
    position: row.position,
    revision: row.revision,
    frameOffset: row.frame_offset,
    frameBytes: row.frame_bytes,
    indexInFrame: row.index_in_frame,
  };
}

/** Removes the index with its WAL and shared-memory files. */
function removeIndexFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/**
 * Judged by its code alone: better-sqlite3 builds its errors with the class it registered first,
 * which under jest can come from another test file's realm, so `instanceof Error` is not reliable.
 */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * The persisted index of the event log (`index.sqlite`, better-sqlite3): each event's position,
 * id, stream, revision and frame; each stream's current revision; and the coverage row saying
 * how far into the log it reaches. Coverage is written in the same transaction as the rows it
 * covers, so the file always describes a whole prefix of the log.
 *
 * WAL with `synchronous = NORMAL`: a commit is not flushed on its own, so a power loss can take
 * the last transactions back. That only leaves the index behind the log, which the store reads
 * forward from the coverage at open; the log itself is flushed before anything is indexed.
 * The page cache is bounded and nothing is memory-mapped, so memory does not grow with the log.
 */
export class LogIndexStore {
  private readonly statements;
  private coverageState: IndexCoverage;
  private complete: boolean;
  /** Every stream's key once filled (see `fillStreamFilter`): most lookups of a stream that does not exist stop here. */
  private readonly streamFilter = new StreamKeyFilter();
  /** The last stream id the filter was filled up to; null once it holds every stream. */
  private filterFilledTo: number | null = 0;
  private lookups = 0;
  /** Streams after `stream_fold.upto` (not in `stream_keys` yet), by name, with their id and revision. */
  private readonly tail = new Map<string, { readonly streamId: number; revision: number }>();
  private foldedUpTo = 0;

  private constructor(
    private readonly path: string,
    private readonly db: Database.Database,
  ) {
    this.statements = {
      coverage: db.prepare('SELECT covered_offset, head_position, last_frame_offset, last_frame_bytes, last_frame_checksum FROM coverage'),
      saveCoverage: db.prepare(
        'UPDATE coverage SET covered_offset = ?, head_position = ?, last_frame_offset = ?, last_frame_bytes = ?, last_frame_checksum = ?',
      ),
      stream: db.prepare('SELECT s.stream_id, s.revision FROM stream_keys k JOIN streams s ON s.stream_id = k.stream_id WHERE k.name_key = ? AND s.name = ?'),
      streamKeysAfter: db.prepare('SELECT stream_id, name_key FROM streams WHERE stream_id > ? ORDER BY stream_id LIMIT ?').raw(),
      insertStream: db.prepare('INSERT INTO streams (name_key, name, revision) VALUES (?, ?, ?)'),
      extendStream: db.prepare('UPDATE streams SET revision = ? WHERE stream_id = ? AND revision = ?'),
      foldStreams: db.prepare('INSERT INTO stream_keys (name_key, stream_id) SELECT name_key, stream_id FROM streams WHERE stream_id > ? ORDER BY name_key, stream_id'),
      setFolded: db.prepare('UPDATE stream_fold SET upto = ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (position, id, stream_id, revision, frame_offset, frame_bytes, index_in_frame) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byId: db.prepare(
        'SELECT e.position, e.revision, e.frame_offset, e.frame_bytes, e.index_in_frame, s.name FROM events e JOIN streams s USING (stream_id) WHERE e.id = ?',
      ),
      byPosition: db.prepare('SELECT frame_offset FROM events WHERE position = ?'),
      streamEvents: db.prepare(
        'SELECT position, revision, frame_offset, frame_bytes, index_in_frame FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
    };
    this.coverageState = this.readCoverage();
    this.complete = (db.pragma('user_version', { simple: true }) as number) === LOG_INDEX_VERSION;
    this.loadTail();
  }

  /** The fold's place and the streams after it, as the file has them (at open, and after a transaction rolled back). */
  private loadTail(): void {
    this.foldedUpTo = (this.db.prepare('SELECT upto FROM stream_fold').get() as { upto: number }).upto;
    this.tail.clear();
    const rows = this.db.prepare('SELECT stream_id, name, revision FROM streams WHERE stream_id > ?').raw().all(this.foldedUpTo) as [number, string, number][];
    for (const [streamId, name, revision] of rows) this.tail.set(name, { streamId, revision });
  }

  /**
   * Opens the index at `path`, creating it when missing. A file that cannot be read as an index
   * of this version (damaged, foreign, another layout) is replaced by an empty one, and why is
   * returned: the caller then indexes the whole log again.
   */
  static open(path: string, logHeaderBytes: number): { index: LogIndexStore; replacedBecause: string | null; created: boolean } {
    let replacedBecause: string | null = null;
    try {
      const index = LogIndexStore.openExisting(path, logHeaderBytes);
      if (index) return { index, replacedBecause, created: false };
    } catch (error) {
      replacedBecause = `it could not be read (${error instanceof Error ? error.message : String(error)})`;
    }
    removeIndexFiles(path);
    return { index: LogIndexStore.create(path, logHeaderBytes), replacedBecause, created: true };
  }

  /** The index of an existing file, null when there is no file; throws when the file is not a usable index. */
  private static openExisting(path: string, logHeaderBytes: number): LogIndexStore | null {
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
    } catch (error) {
      if ((error as Error & { code?: string }).code === 'SQLITE_CANTOPEN') return null;
      throw error;
    }
    try {
      configure(db);
      const applicationId = db.pragma('application_id', { simple: true }) as number;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (applicationId !== APPLICATION_ID) throw new Error('not an event log index');
      if (version === STREAMS_INDEXED_VERSION) migrateToStreamKeys(db);
      else if (version !== LOG_INDEX_VERSION) throw new Error(`layout version ${version}, not ${LOG_INDEX_VERSION}`);
      const index = new LogIndexStore(path, db);
      if (index.coverage.coveredOffset < logHeaderBytes) throw new Error('coverage row is invalid');
      return index;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private static create(path: string, logHeaderBytes: number): LogIndexStore {
    const db = new Database(path);
    configure(db);
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare('INSERT INTO coverage VALUES (1, ?, 0, 0, 0, 0)').run(logHeaderBytes);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma('user_version = 0');
    })();
    const index = new LogIndexStore(path, db);
    // No stream yet: the filter holds them all from the start.
    index.filterFilledTo = null;
    return index;
  }

  /**
   * Completes a new index once the log's existing records are in: creates the secondary indexes
   * (which also finds an id stored twice) and marks the layout version, in one transaction.
   * Nothing to do for an index that was complete when opened.
   */
  completeBuild(): void {
    if (this.complete) return;
    try {
      this.db.transaction(() => {
        this.db.exec(SECONDARY_INDEXES);
        this.db.pragma(`user_version = ${LOG_INDEX_VERSION}`);
      })();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const twice = this.db.prepare('SELECT id FROM events WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1 LIMIT 1').get() as { id: string } | undefined;
      throw new EventLogCorruptedError(`Event log stores event id ${twice?.id ?? '(unknown)'} twice`);
    }
    this.complete = true;
  }

  /**
   * Empties the index for a rebuild: the old file is removed and a new one created, which is far
   * cheaper than deleting millions of rows.
   */
  reset(logHeaderBytes: number): LogIndexStore {
    this.db.close();
    removeIndexFiles(this.path);
    return LogIndexStore.create(this.path, logHeaderBytes);
  }

  get coverage(): IndexCoverage {
    return this.coverageState;
  }

  /** Revision of the stream's last indexed event, or null when it has none. */
  streamRevision(streamName: string): number | null {
    return this.findStream(indexKeyOf(streamName), streamName)?.revision ?? null;
  }

  /**
   * Reads up to `rows` more streams into the stream filter; true once it holds them all (from then
   * on most names of streams that do not exist are answered without a lookup). Streams added
   * meanwhile go into it as they are added. Called a slice at a time after open.
   */
  fillStreamFilter(rows: number): boolean {
    if (this.filterFilledTo === null) return true;
    const found = this.statements.streamKeysAfter.all(this.filterFilledTo, rows) as [number, number][];
    for (const [streamId, key] of found) {
      this.streamFilter.add(key);
      this.filterFilledTo = streamId;
    }
    if (found.length < rows) this.filterFilledTo = null;
    return this.filterFilledTo === null;
  }

  /**
   * False only when no stream of this name was ever indexed (the stream filter rules it out, once
   * filled); true means it may exist. No lookup: a check of a few bits.
   */
  mayHaveStream(streamName: string): boolean {
    return this.filterFilledTo !== null || this.streamFilter.mayHave(indexKeyOf(streamName));
  }

  /** Lookups of a stream by name that reached the index file (the filter could not rule the stream out). */
  get streamLookups(): number {
    return this.lookups;
  }

  private findStream(key: number, streamName: string): { stream_id: number; revision: number } | undefined {
    const recent = this.tail.get(streamName);
    if (recent) return { stream_id: recent.streamId, revision: recent.revision };
    if (this.filterFilledTo === null && !this.streamFilter.mayHave(key)) return undefined;
    this.lookups++;
    return this.statements.stream.get(key, streamName) as { stream_id: number; revision: number } | undefined;
  }

  /** Where the event with this id is stored, with its stream; undefined when no indexed event has it. */
  locateId(id: string): (EventLocation & { readonly streamName: string }) | undefined {
    const row = this.statements.byId.get(id) as (LocationRow & { name: string }) | undefined;
    return row ? { ...toLocation(row), streamName: row.name } : undefined;
  }

  /** Offset of the frame holding the event at `position`, undefined when it is not indexed. */
  frameOffsetOf(position: number): number | undefined {
    return (this.statements.byPosition.get(position) as { frame_offset: number } | undefined)?.frame_offset;
  }

  /** The stream's current revision and where its events from `fromRevision` on are, at most `maxCount`. */
  streamLocations(streamName: string, fromRevision: number, maxCount: number): { currentRevision: number | null; locations: EventLocation[] } {
    const stream = this.findStream(indexKeyOf(streamName), streamName);
    if (!stream) return { currentRevision: null, locations: [] };
    const rows = this.statements.streamEvents.all(stream.stream_id, fromRevision, maxCount) as LocationRow[];
    return { currentRevision: stream.revision, locations: rows.map(toLocation) };
  }

  /**
   * Indexes frames that follow the covered part of the log, and moves the coverage past them, in
   * one transaction. Each frame's events must continue the index exactly (next position, next
   * revision of their stream, ids never seen): otherwise nothing is written and
   * `EventLogCorruptedError` says which record does not follow. `decided` says the frames are
   * appends the writer decided against this index (a frame starting a stream found none), so
   * a new stream's name is not looked up again.
   */
  addFrames(frames: readonly IndexedFrame[], { decided = false }: { readonly decided?: boolean } = {}): void {
    const last = frames[frames.length - 1];
    if (!last) return;
    try {
      this.writeFrames(frames, last, decided);
    } catch (error) {
      // Rolled back: what memory says of the streams after the fold is read again from the file.
      this.loadTail();
      throw error;
    }
  }

  private writeFrames(frames: readonly IndexedFrame[], last: IndexedFrame, decided: boolean): void {
    const { statements } = this;
    let head = this.coverageState.head;
    this.db.transaction(() => {
      for (const frame of frames) {
        const first = frame.events[0];
        if (!first) continue;
        const streamId = first.globalPosition === head + 1 ? this.extendStream(first.streamName, first.streamRevision, frame.events.length, decided) : null;
        if (streamId === null) {
          const current = this.streamRevision(first.streamName) ?? -1;
          throw new EventLogCorruptedError(
            `Event log record at position ${first.globalPosition} (stream ${first.streamName} revision ${first.streamRevision}) ` +
              `does not follow position ${head} (stream revision ${current})`,
          );
        }
        frame.events.forEach((event, indexInFrame) => {
          try {
            statements.insertEvent.run(event.globalPosition, frame.freshIds ? null : event.id, streamId, event.streamRevision, frame.offset, frame.bytes, indexInFrame);
          } catch (error) {
            if (isUniqueViolation(error)) throw new EventLogCorruptedError(`Event log stores event id ${event.id} twice`);
            throw error;
          }
        });
        head = first.globalPosition + frame.events.length - 1;
      }
      statements.saveCoverage.run(last.offset + last.bytes, head, last.offset, last.bytes, last.checksum);
    })();
    this.coverageState = { coveredOffset: last.offset + last.bytes, head, lastFrame: { offset: last.offset, bytes: last.bytes, checksum: last.checksum } };
  }

  close(): void {
    this.db.close();
  }

  /**
   * Moves the stream to the frame's last revision if the frame starts right after its current
   * one (a new stream when it starts at 0 and none has the name); its id, or null when it does not.
   */
  private extendStream(streamName: string, firstRevision: number, events: number, decided: boolean): number | null {
    const lastRevision = firstRevision + events - 1;
    const key = indexKeyOf(streamName);
    if (firstRevision > 0) {
      const stream = this.findStream(key, streamName);
      if (!stream || stream.revision !== firstRevision - 1) return null;
      this.statements.extendStream.run(lastRevision, stream.stream_id, firstRevision - 1);
      const recent = this.tail.get(streamName);
      if (recent) recent.revision = lastRevision;
      return stream.stream_id;
    }
    if (!decided && this.findStream(key, streamName) !== undefined) return null;
    // In the filter before the row exists: a transaction rolled back leaves a key too many, never one too few.
    this.streamFilter.add(key);
    const streamId = Number(this.statements.insertStream.run(key, streamName, lastRevision).lastInsertRowid);
    this.tail.set(streamName, { streamId, revision: lastRevision });
    if (this.tail.size >= STREAMS_FOLDED_EVERY) this.foldStreams();
    return streamId;
  }

  /** Writes the tail's pairs to `stream_keys`, sorted, inside the caller's transaction (a rollback reloads the tail). */
  private foldStreams(): void {
    let last = this.foldedUpTo;
    for (const { streamId } of this.tail.values()) last = Math.max(last, streamId);
    this.statements.foldStreams.run(this.foldedUpTo);
    this.statements.setFolded.run(last);
    this.foldedUpTo = last;
    this.tail.clear();
  }

  private readCoverage(): IndexCoverage {
    const row = this.statements.coverage.get() as CoverageRow | undefined;
    if (!row) throw new Error('coverage row is missing');
    return {
      coveredOffset: row.covered_offset,
      head: row.head_position,
      lastFrame: row.head_position === 0 ? null : { offset: row.last_frame_offset, bytes: row.last_frame_bytes, checksum: row.last_frame_checksum },
    };
  }
}

/**
 * Layout 4 to 5, in one transaction: every stream's (name key, id) pair into `stream_keys`,
 * sorted, and the index of `streams.name_key` dropped.
 */
function migrateToStreamKeys(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE stream_keys (name_key INTEGER NOT NULL, stream_id INTEGER NOT NULL, PRIMARY KEY (name_key, stream_id)) WITHOUT ROWID;
      CREATE TABLE stream_fold (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), upto INTEGER NOT NULL);
      INSERT INTO stream_keys (name_key, stream_id) SELECT name_key, stream_id FROM streams ORDER BY name_key, stream_id;
      INSERT INTO stream_fold VALUES (1, (SELECT coalesce(max(stream_id), 0) FROM streams));
      DROP INDEX streams_by_key;
    `);
    db.pragma(`user_version = ${LOG_INDEX_VERSION}`);
  })();
}

function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // A bounded page cache and no memory map: memory stays the same however long the log grows.
  db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
  db.pragma('mmap_size = 0');
  // Checkpoints run inside a commit and sync the file: fewer, larger ones block appends less often
  // and write a page changed by many commits once. The WAL then grows to about 40 MiB between them.
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
}
