import Database from 'better-sqlite3';
import { READ_MODEL_SCHEMA_VERSION } from '@flagline/contracts';
import { existsSync, rmSync } from 'node:fs';
import { RESIDENT_PARTS_SCHEMA } from './resident-document-rows';

/** What the file holds; a file naming anything else is foreign and is not read. */
export const READ_MODEL_FILE_FORMAT = 'flagline-read-models';
/**
 * The table layout of the file; bumped when it changes, and an older file is then rebuilt from the log.
 * 2: resident documents as a head and parts of their arrays (`document_parts`, see `ResidentDocumentRows`).
 */
export const READ_MODEL_FILE_VERSION = 2;

export interface ReadModelFileOptions {
  readonly path: string;
  /** The consumer whose position row every valid file holds from its creation (the relay's). */
  readonly consumer: string;
  /** SQLite's page cache, in KiB: the file's share of memory, whatever its size. */
  readonly cacheSizeKiB: number;
  /** `quick` runs SQLite's quick_check at open (reads every page once); `none` trusts the file. */
  readonly integrityCheck: 'quick' | 'none';
  /**
   * No journal and no syncs, for a file that is thrown away if anything fails before it is
   * complete (the rebuild's, synced once before it is swapped in). Reopened normally, it is WAL again.
   */
  readonly bulkLoad?: boolean;
  /** The event log's last position: a file whose consumer is past it was derived from another (or a cut) log. */
  readonly logHead?: number;
}

export interface OpenedReadModelFile {
  readonly db: Database.Database;
  /** True when the file was created empty (it was missing, or could not be served). */
  readonly created: boolean;
  /** Why an existing file was replaced by an empty one (torn, foreign, outdated), or null. */
  readonly recreatedBecause: string | null;
}

const SCHEMA = `
  CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE documents (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE checkpoints (key TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE consumers (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
  ${RESIDENT_PARTS_SCHEMA}
`;

function configure(db: Database.Database, cacheSizeKiB: number, bulkLoad = false): void {
  db.pragma(bulkLoad ? 'journal_mode = OFF' : 'journal_mode = WAL');
  db.pragma(bulkLoad ? 'synchronous = OFF' : 'synchronous = NORMAL');
  // A bounded page cache and no memory map: the process's memory does not grow with the file.
  db.pragma(`cache_size = -${Math.max(1024, Math.floor(cacheSizeKiB))}`);
  db.pragma('mmap_size = 0');
  // Deleted documents (an erased identity's, keyed by its identifier) are zeroed in the pages written anyway.
  db.pragma('secure_delete = FAST');
}

/** Removes the database and its WAL and shared-memory files. */
export function removeReadModelFile(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

function metaValue(db: Database.Database, name: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined)?.value;
}

/** Why an existing file cannot be served, or null when it can. */
function invalidity(db: Database.Database, options: ReadModelFileOptions): string | null {
  if (options.integrityCheck === 'quick') {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    if (rows.length !== 1 || rows[0]?.quick_check !== 'ok') return `integrity check failed (${rows.map((row) => row.quick_check).slice(0, 3).join('; ')})`;
  }
  const tables = new Set((db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]).map((row) => row.name));
  if (!tables.has('meta')) return 'table meta is missing (not a read-model file)';
  const format = metaValue(db, 'format');
  if (format !== READ_MODEL_FILE_FORMAT) return `format is ${format ?? 'missing'}, not ${READ_MODEL_FILE_FORMAT}`;
  // The version before the tables: an older layout lacks some of today's.
  const fileVersion = metaValue(db, 'fileVersion');
  if (fileVersion !== String(READ_MODEL_FILE_VERSION)) return `file version is ${fileVersion ?? 'missing'}, not ${READ_MODEL_FILE_VERSION}`;
  for (const table of ['documents', 'document_parts', 'checkpoints', 'consumers']) if (!tables.has(table)) return `table ${table} is missing (not a read-model file)`;
  const documentVersion = metaValue(db, 'documentSchemaVersion');
  if (documentVersion !== String(READ_MODEL_SCHEMA_VERSION)) return `document schema version is ${documentVersion ?? 'missing'}, not ${READ_MODEL_SCHEMA_VERSION}`;
  const consumer = db.prepare('SELECT position FROM consumers WHERE name = ?').get(options.consumer) as { position: unknown } | undefined;
  if (!consumer || !Number.isSafeInteger(consumer.position) || (consumer.position as number) < 0) return `the ${options.consumer} checkpoint row is missing or invalid`;
  if (options.logHead !== undefined && (consumer.position as number) > options.logHead) {
    return `its ${options.consumer} checkpoint (${String(consumer.position)}) is past the end of the event log (${options.logHead}): it was derived from another or a longer log`;
  }
  return null;
}

function create(options: ReadModelFileOptions): Database.Database {
  const db = new Database(options.path);
  configure(db, options.cacheSizeKiB, options.bulkLoad);
  db.transaction(() => {
    db.exec(SCHEMA);
    const meta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
    meta.run('format', READ_MODEL_FILE_FORMAT);
    meta.run('fileVersion', String(READ_MODEL_FILE_VERSION));
    meta.run('documentSchemaVersion', String(READ_MODEL_SCHEMA_VERSION));
    db.prepare('INSERT INTO consumers (name, position) VALUES (?, 0)').run(options.consumer);
  })();
  return db;
}

/**
 * Opens the read-model file, or creates it empty when it is missing or cannot be served: a torn
 * or corrupted file, a foreign one, another layout or document schema version, or one without
 * its consumer's checkpoint row. An empty file has every position at 0, so its consumer
 * re-derives everything from the log; a bad file is never served.
 */
export function openReadModelFile(options: ReadModelFileOptions): OpenedReadModelFile {
  if (!existsSync(options.path)) {
    removeReadModelFile(options.path);
    return { db: create(options), created: true, recreatedBecause: null };
  }
  let reason: string | null;
  let db: Database.Database | null = null;
  try {
    db = new Database(options.path);
    configure(db, options.cacheSizeKiB);
    reason = invalidity(db, options);
  } catch (error) {
    reason = `it cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
  if (reason === null && db) return { db, created: false, recreatedBecause: null };
  try {
    db?.close();
  } catch {
    // A corrupted file may fail to close cleanly; it is removed next either way.
  }
  removeReadModelFile(options.path);
  return { db: create(options), created: true, recreatedBecause: reason };
}
