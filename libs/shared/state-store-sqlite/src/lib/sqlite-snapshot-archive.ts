import Database from 'better-sqlite3';
import { decodeState, encodeState } from './state-codec';
import { truncateWal } from './truncate-wal';

/** Written in the file's meta table; a file with another format is emptied (snapshots are a cache of the log). */
const FORMAT = 'flagline-snapshots/1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
-- A stream's revisions and positions grow together: one key orders both.
CREATE TABLE IF NOT EXISTS snapshot (stream TEXT NOT NULL, position INTEGER NOT NULL, revision INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (stream, position)) WITHOUT ROWID;
`;

export interface SqliteSnapshotArchiveOptions {
  /** SQLite page cache in KiB (bounded). Default 8 MiB. */
  readonly cacheKiB?: number;
  /** Queued snapshots are written after at most this many milliseconds (default 250). */
  readonly flushAfterMs?: number;
  /** ...or at once when this many are queued (default 512). */
  readonly maxQueued?: number;
  readonly onError?: (error: unknown) => void;
}

interface Queued {
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly state: unknown;
}

/**
 * The catalog history's stream snapshots in a SQLite file of their own (`snapshots.sqlite`): WAL,
 * synchronous NORMAL, a bounded page cache, no mmap. States are written with the catalog's state
 * codec (canonical JSON; persistent maps read back as `Map`s, which folds convert). Written behind:
 * `put` queues, a timer or a full queue writes the batch in one transaction (a crash loses only
 * snapshots, which the next fold takes again). `secure_delete` is on and `scrub` truncates the WAL,
 * so a forgotten (erased) identity's decrypted traits are left nowhere in the files.
 *
 * Structurally the `SnapshotArchive` port of `@flagline/admin-projections` (not imported: a shared
 * data-access library depends on no domain's projections).
 */
export class SqliteSnapshotArchive {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, number, number, string]>;
  private readonly latest: Database.Statement<[string, number, number], { revision: number; position: number; state: string }>;
  private readonly after: Database.Statement<[string, number], { revision: number; position: number }>;
  private readonly remove: Database.Statement<[string]>;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flushAfterMs: number;
  private readonly maxQueued: number;

  constructor(path: string, private readonly options: SqliteSnapshotArchiveOptions = {}) {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`cache_size = -${Math.max(1024, Math.floor(options.cacheKiB ?? 8 * 1024))}`);
      db.pragma('mmap_size = 0');
      db.pragma('temp_store = FILE');
      // A deleted snapshot's bytes are zeroed in its pages, not left in free space.
      db.pragma('secure_delete = ON');
      db.exec(SCHEMA);
      const format = db.prepare<[], { value: unknown }>("SELECT value FROM meta WHERE key = 'format'").get()?.value;
      if (format !== FORMAT) {
        db.exec('DELETE FROM snapshot');
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)").run(FORMAT);
      }
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    this.flushAfterMs = options.flushAfterMs ?? 250;
    this.maxQueued = options.maxQueued ?? 512;
    this.insert = db.prepare('INSERT OR IGNORE INTO snapshot (stream, position, revision, state) VALUES (?, ?, ?, ?)');
    this.latest = db.prepare('SELECT revision, position, state FROM snapshot WHERE stream = ? AND position <= ? AND revision > ? ORDER BY position DESC LIMIT 1');
    this.after = db.prepare('SELECT revision, position FROM snapshot WHERE stream = ? AND position > ? ORDER BY position LIMIT 1');
    this.remove = db.prepare('DELETE FROM snapshot WHERE stream = ?');
  }

  /** Snapshots written to the file (queued ones not counted). */
  get size(): number {
    return this.db.prepare<[], { count: number }>('SELECT count(*) AS count FROM snapshot').get()?.count ?? 0;
  }

  put(streamName: string, snapshot: { readonly state: unknown; readonly revision: number; readonly position: number }): void {
    if (!this.db.open) return;
    this.queue.push({ stream: streamName, revision: snapshot.revision, position: snapshot.position, state: snapshot.state });
    if (this.queue.length >= this.maxQueued) this.flushSafely();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flushSafely(), this.flushAfterMs);
      this.timer.unref();
    }
  }

  latestAt(streamName: string, position: number, overRevision = -1): { state: unknown; revision: number; position: number } | undefined {
    let found: Queued | undefined;
    for (const queued of this.queue) if (queued.stream === streamName && queued.position <= position && queued.revision > overRevision && (!found || queued.revision > found.revision)) found = queued;
    const row = this.latest.get(streamName, position, found ? found.revision : overRevision);
    if (row) return { state: decodeState(row.state), revision: row.revision, position: row.position };
    return found ? { state: found.state, revision: found.revision, position: found.position } : undefined;
  }

  firstAfter(streamName: string, position: number): { revision: number; position: number } | undefined {
    let found: { revision: number; position: number } | undefined = this.after.get(streamName, position);
    for (const queued of this.queue) if (queued.stream === streamName && queued.position > position && (!found || queued.position < found.position)) found = { revision: queued.revision, position: queued.position };
    return found;
  }

  forget(streamName: string): void {
    this.queue = this.queue.filter((queued) => queued.stream !== streamName);
    if (this.db.open) this.remove.run(streamName);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0 || !this.db.open) return;
    const batch = this.queue;
    this.queue = [];
    this.db.transaction(() => {
      for (const queued of batch) this.insert.run(queued.stream, queued.position, queued.revision, encodeState(queued.state));
    })();
  }

  /**
   * Copies the WAL into the database and truncates it: after an erasure, no page image of a
   * deleted snapshot stays in the WAL. Tried again while another connection keeps it busy (see `truncateWal`).
   */
  scrub(): void {
    this.flush();
    if (this.db.open) truncateWal(this.db);
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }

  private flushSafely(): void {
    try {
      this.flush();
    } catch (error) {
      // Snapshots are a cache of the log: one not written is folded again later.
      this.options.onError?.(error);
    }
  }
}
