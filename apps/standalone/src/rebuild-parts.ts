import { AdminCatalog, EnvironmentProjector } from '@flagline/admin-projections';
import { upcastRecordedAdminEvent } from '@flagline/admin-domain';
import type { EventStore, RecordedEvent } from '@flagline/event-sourcing';
import { checkEventPositions, EmbeddedEventStore, EventLogCorruptedError, recordedEventsOf, scanLogPayloads, type ScannedPayload } from '@flagline/event-store-embedded';
import { removeReadModelFile, SqliteReadModelStore } from '@flagline/read-model-sqlite';
import { SqliteCatalogStore } from '@flagline/state-store-sqlite';
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openedPayloadText, type KeyFor } from './opened-payload';
import { LogOrderKeys, openKeyStore } from './sealing';

/**
 * Events applied per step of the rebuild; the read models are flushed, and progress reported,
 * after each. The documents a step leaves pending live until its flush: at 10,000 events they
 * outlived the worker's young-generation collections and were promoted (about 100 MB at 200,000
 * identities), for V8's collector threads to mark and sweep again; at 1,000 almost none are.
 */
export const REBUILD_BATCH_EVENTS = 1_000;

/** Events read and projected per step when a start catches read models up with the log (`catchUpReadModels`). */
const CATCH_UP_BATCH_EVENTS = 10_000;

/**
 * Records read from the log at a time and handed to the workers as one lot, each lot folded
 * before the next is decoded: a step's worth decoded at once (about 30 MB at 10,000 identity
 * events) stays alive through the young generation's collections, which copy it and move it to
 * the old one, only for it to die there.
 */
export const SCAN_BATCH_RECORDS = 128;

/**
 * A piece of derived state the rebuild re-derives from the log into a fresh file: `fresh` opens an
 * empty one at `path`, `apply` folds a batch of events in log order, `persist` writes what the
 * batches since the last one left pending (a part that writes on its own cadence has none),
 * `finish` persists and closes.
 */
export interface RebuildablePart {
  /** Which part it is (see `PART_FACTORIES`): a worker thread makes its own instance from it. */
  readonly key: PartKey;
  readonly name: string;
  /** The live file under the data directory. */
  readonly fileName: string;
  fresh(path: string): Promise<void>;
  apply(events: readonly RecordedEvent[]): Promise<void>;
  persist?(): void;
  finish(): Promise<void>;
}

/** The relay carries no `sequence-` events (see the standalone app); they still move its position. */
const projected = (event: RecordedEvent): boolean => !event.streamName.startsWith('sequence-');

/**
 * Projects a batch of the log as the relay would deliver it, moves the relay's position past it
 * and persists both in one flush. Returns how many events the projector was handed.
 */
export async function projectBatch(store: SqliteReadModelStore, projector: EnvironmentProjector, events: readonly RecordedEvent[]): Promise<number> {
  const handed = await projectEvents(store, projector, events);
  store.flush();
  return handed;
}

/** `projectBatch` without the flush: the relay's position moves with the documents, both pending. */
async function projectEvents(store: SqliteReadModelStore, projector: EnvironmentProjector, events: readonly RecordedEvent[]): Promise<number> {
  let handed = 0;
  for (const event of events) {
    if (!projected(event)) continue;
    handed++;
    await projector.handle(event);
  }
  const last = events[events.length - 1];
  if (last) await store.consumerCheckpoints().save('relay', last.globalPosition);
  return handed;
}

/**
 * Brings read models up to the end of the log in batches, as the rebuild does (the relay hands
 * events over one at a time, several times slower): for a start on an empty read-model file.
 * Returns how many events the projector was handed.
 */
export async function catchUpReadModels(log: Pick<EventStore, 'readAll'>, store: SqliteReadModelStore, projector: EnvironmentProjector, batchEvents = CATCH_UP_BATCH_EVENTS): Promise<number> {
  let after = await store.consumerCheckpoints().load('relay');
  let handed = 0;
  for (;;) {
    const batch = await log.readAll({ after, maxCount: batchEvents });
    const last = batch[batch.length - 1];
    if (!last) return handed;
    handed += await projectBatch(store, projector, batch);
    after = last.globalPosition;
  }
}

/** The environment, project, organisation and identity read models, and the relay's position in the log. */
export function readModelsPart(): RebuildablePart {
  let store: SqliteReadModelStore | null = null;
  let projector: EnvironmentProjector | null = null;
  const opened = (): { store: SqliteReadModelStore; projector: EnvironmentProjector } => {
    if (!store || !projector) throw new Error('The read-models part was not opened');
    return { store, projector };
  };
  return {
    key: 'read-models',
    name: 'read models',
    fileName: 'read-models.sqlite',
    fresh: (path) => {
      removeReadModelFile(path);
      // Flushed by the rebuild after each batch; no timer, no integrity check of a file just made.
      store = SqliteReadModelStore.open({ path, flushIntervalMs: 3_600_000, flushAtDirty: Number.MAX_SAFE_INTEGER, integrityCheck: 'none', trackWrittenIdentities: true, bulkLoad: true, cacheSizeKiB: 65_536, identityCacheSize: 0 });
      projector = new EnvironmentProjector(store);
      return Promise.resolve();
    },
    apply: async (events) => {
      const current = opened();
      await projectEvents(current.store, current.projector, events);
    },
    persist: () => opened().store.flush(),
    finish: async () => {
      await opened().store.close();
      store = null;
      projector = null;
    },
  };
}

/** The admin catalog (identities, identifiers, the audit index, event ids) and its checkpoint. */
export function catalogPart(): RebuildablePart {
  let catalog: AdminCatalog | null = null;
  return {
    key: 'catalog',
    name: 'admin catalog',
    fileName: 'catalog.sqlite',
    fresh: (path) => {
      removeReadModelFile(path);
      // An empty store has no checkpoint to check against the log, so the log is not read here.
      // Written in transactions of 1,000 events (and at finish), not on a timer: a rebuild has no readers to serve.
      // Not more: fewer identity states wait in memory, and the catalog worker's CPU was a little
      // lower than at 50,000 (13.0 to 13.5 µs an event against 13.6 to 13.8, in turns).
      // No journal, no syncs: the file is synced once before it is swapped in, and thrown away if the rebuild stops.
      // A failed write fails the rebuild (its file has no journal to roll the write back) instead of being retried later.
      catalog = new AdminCatalog({
        store: SqliteCatalogStore.open(path, { bulkLoad: true, cacheKiB: 65_536 }),
        flushIntervalMs: 3_600_000,
        flushEvents: 1_000,
        onError: (error) => {
          throw error;
        },
      });
      return Promise.resolve();
    },
    apply: (events) => {
      if (!catalog) return Promise.reject(new Error('The admin catalog part was not opened'));
      for (const event of events) catalog.apply(event);
      return Promise.resolve();
    },
    finish: () => {
      catalog?.close();
      catalog = null;
      return Promise.resolve();
    },
  };
}

/** The parts the rebuild knows, by key. */
const PART_FACTORIES = { 'read-models': readModelsPart, catalog: catalogPart } as const;
export type PartKey = 'read-models' | 'catalog';

/** Every part of the standalone app's derived state. */
export const standaloneParts = (): RebuildablePart[] => [readModelsPart(), catalogPart()];

/** What a worker thread rebuilds: one part, from the events the main thread feeds it, up to `head`. */
export interface PartJob {
  readonly key: PartKey;
  readonly freshPath: string;
  readonly head: number;
  readonly batchEvents: number;
}

/**
 * A lot of the log the main thread hands each worker: whole records as the log would hold them
 * if their sealed events were stored open (see `openedPayloadText`), their texts joined by line
 * breaks (JSON text holds none) into one string, which crosses to a thread in one copy; so a
 * worker decodes each event once and neither opens it nor reads the sealed box's ciphertext.
 */
export interface FeedBatch {
  readonly kind: 'batch';
  readonly records: string;
}

/** The main thread's messages to a worker: lots of the log, then the end of it. */
export type FeedMessage = FeedBatch | { readonly kind: 'end' };

/** A worker's messages: each lot applied, its position after each `batchEvents`, then the count of events it applied and the CPU its thread used (`threadCpuSeconds`). */
export type PartMessage =
  | { readonly kind: 'applied' }
  | { readonly kind: 'progress'; readonly position: number }
  | { readonly kind: 'done'; readonly events: number; readonly cpuSeconds: number | null };

/**
 * The CPU time the calling thread has used, in seconds (the first field of Linux's
 * /proc/thread-self/schedstat: nanoseconds on a CPU), or null where that cannot be read. Node 20
 * has no per-thread figure of its own (`process.cpuUsage` counts every thread of the process).
 */
export function threadCpuSeconds(): number | null {
  try {
    const nanoseconds = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]);
    return Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : null;
  } catch {
    return null;
  }
}

/**
 * The events of a lot, upcast at the same boundary as the running app's reads, up to `upTo`; each
 * must continue the position before it (`after`: the lots come undecoded from the scan, which
 * cannot check that itself).
 */
export function eventsOfBatch(batch: FeedBatch, upTo: number, after: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const text of batch.records.split('\n')) {
    for (const event of recordedEventsOf(text)) {
      if (event.globalPosition > upTo) break;
      events.push(upcastRecordedAdminEvent(event));
    }
  }
  checkEventPositions(events, after);
  return events;
}

/**
 * Rebuilds one part into its fresh file from the lots fed to it (`apply` each in order, then
 * `finish`): persisted, and progress reported, every `batchEvents`. Runs in a worker thread of
 * the rebuild, whose main thread holds the data directory's lock and reads the log.
 */
export class PartRebuild {
  private readonly part: RebuildablePart;
  private readonly started: Promise<void>;
  private events = 0;
  /** The position of the last event applied. */
  private position = 0;
  private sincePersisted = 0;

  constructor(
    private readonly job: PartJob,
    private readonly onProgress: (position: number) => void,
  ) {
    this.part = PART_FACTORIES[job.key]();
    this.started = this.part.fresh(job.freshPath);
  }

  async apply(batch: FeedBatch): Promise<void> {
    await this.started;
    const events = eventsOfBatch(batch, this.job.head, this.position);
    const last = events[events.length - 1];
    if (!last) return;
    this.position = last.globalPosition;
    await this.part.apply(events);
    this.events += events.length;
    this.sincePersisted += events.length;
    if (this.sincePersisted >= this.job.batchEvents) {
      this.part.persist?.();
      this.sincePersisted = 0;
      this.onProgress(last.globalPosition);
    }
  }

  /** Finishes the file; the count of events applied. */
  async finish(): Promise<number> {
    await this.started;
    if (this.position !== this.job.head) throw new EventLogCorruptedError(`The event log ends at position ${this.position}, before position ${this.job.head}`);
    await this.part.finish();
    this.onProgress(this.job.head);
    return this.events;
  }
}

/** The worker thread's script, beside this file (TypeScript from the sources, JavaScript once built). */
const WORKER_SCRIPT = join(__dirname, `rebuild-worker${extname(__filename)}`);
/**
 * Run from the sources (the specs, or `node -r @swc-node/register`), the worker compiles them as it
 * loads them; built, it takes the main thread's options as a worker does by default.
 */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

/** Lots fed to a worker and not yet applied, at most: the main thread waits for one to be applied before it sends more. */
const LOTS_IN_FLIGHT = 32;

/** What a worker answers once its part is finished: the events it applied and the CPU its thread used. */
interface PartDone {
  readonly events: number;
  readonly cpuSeconds: number | null;
}

interface PartWorker {
  readonly done: Promise<PartDone>;
  /** Hands a message to the worker, once it has fewer than `LOTS_IN_FLIGHT` lots to apply; fails once the worker has. */
  feed(message: FeedMessage): Promise<void>;
  readonly stop: () => void;
}

/** What a worker thread compares instead of rebuilding: a live file and its rebuild (see `compareInWorkers`). */
export interface CompareJob {
  readonly livePath: string;
  readonly freshPath: string;
}

/** Compares each part's live file with its rebuild (`compareFiles`), every part in a worker thread of its own, at once. */
export function compareInWorkers(parts: readonly Pick<RebuiltPart, 'livePath' | 'freshPath'>[]): Promise<(FileDifference | null)[]> {
  return Promise.all(
    parts.map(
      ({ livePath, freshPath }) =>
        new Promise<FileDifference | null>((resolve, reject) => {
          const job: CompareJob = { livePath, freshPath };
          const worker = new Worker(WORKER_SCRIPT, { ...WORKER_OPTIONS, workerData: job });
          let answer: { readonly difference: FileDifference | null } | null = null;
          worker.once('message', (difference: FileDifference | null) => (answer = { difference }));
          worker.once('error', reject);
          worker.once('exit', (code) => (answer ? resolve(answer.difference) : reject(new Error(`the comparison of ${livePath} stopped (exit code ${code})`))));
        }),
    ),
  );
}

/** Runs a part's job in a worker thread; `stop` ends it early (another part failed). */
function inWorker(job: PartJob, onProgress: (position: number) => void): PartWorker {
  const worker = new Worker(WORKER_SCRIPT, { ...WORKER_OPTIONS, workerData: job });
  let inFlight = 0;
  let failure: { readonly error: unknown } | null = null;
  let waiting: { readonly resolve: () => void; readonly reject: (error: unknown) => void } | null = null;
  const done = new Promise<PartDone>((resolve, reject) => {
    let answer: PartDone | null = null;
    worker.on('message', (message: PartMessage) => {
      if (message.kind === 'applied') {
        inFlight--;
        waiting?.resolve();
        waiting = null;
      } else if (message.kind === 'progress') onProgress(message.position);
      else answer = { events: message.events, cpuSeconds: message.cpuSeconds };
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (answer !== null) resolve(answer);
      else reject(new Error(`the rebuild of ${job.key} stopped (exit code ${code})`));
    });
  });
  done.catch((error: unknown) => {
    failure = { error };
    waiting?.reject(error);
    waiting = null;
  });
  const feed = async (message: FeedMessage): Promise<void> => {
    while (inFlight >= LOTS_IN_FLIGHT || failure) {
      if (failure) throw failure.error;
      await new Promise<void>((resolve, reject) => (waiting = { resolve, reject }));
    }
    if (message.kind === 'batch') inFlight++;
    worker.postMessage(message);
  };
  return { done, feed, stop: () => void worker.terminate() };
}

/**
 * Reads the log once, up to `head`, and feeds it to every worker in lots of `SCAN_BATCH_RECORDS`
 * records: each record's text, undecoded, with its sealed events opened once here (the keys read
 * in the order they were made: see `LogOrderKeys`) instead of in every worker (`openedPayloadText`).
 */
async function feedWorkers(dataDir: string, head: number, workers: readonly PartWorker[]): Promise<void> {
  // The rebuild writes no key: the store's owner filter, which spares new owners a lookup, is not filled.
  const keyStore = openKeyStore(dataDir, { ownerFilter: false });
  const keys = new LogOrderKeys(keyStore);
  try {
    const keyFor: KeyFor = (event) => keys.keyFor(event);
    for await (const payloads of scanLogPayloads({ directory: join(dataDir, 'events'), upTo: head, batchRecords: SCAN_BATCH_RECORDS })) {
      const batch = feedBatchOf(payloads, keyFor);
      for (const worker of workers) await worker.feed(batch);
    }
    for (const worker of workers) await worker.feed({ kind: 'end' });
  } finally {
    await keyStore.close();
  }
}

/**
 * A lot of the log as the workers take it (`FeedBatch`): the payloads' texts, their sealed events
 * opened (`openedPayloadText`), one to a line.
 */
export function feedBatchOf(payloads: readonly Pick<ScannedPayload, 'text'>[], keyFor: KeyFor): FeedBatch {
  let records = '';
  for (const payload of payloads) {
    // A line break in JSON text is whitespace between tokens (a string holds none raw), so a
    // payload written with one keeps its meaning with a space instead, and the lot its lines.
    const text = openedPayloadText(payload.text.includes('\n') ? payload.text.replace(/\n/g, ' ') : payload.text, keyFor);
    records += records === '' ? text : `\n${text}`;
  }
  return { kind: 'batch', records };
}

export interface RebuildProgress {
  readonly position: number;
  readonly head: number;
}

export interface RebuildOptions {
  readonly dataDir: string;
  readonly parts: readonly RebuildablePart[];
  /** Where each part is rebuilt; the default is `<live file>.rebuild` beside it. */
  readonly freshPath?: (part: RebuildablePart, livePath: string) => string;
  readonly batchEvents?: number;
  readonly onStart?: (head: number) => void;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuiltPart {
  readonly part: RebuildablePart;
  readonly livePath: string;
  readonly freshPath: string;
  /** The CPU its worker thread used, in seconds (null where it cannot be read: see `threadCpuSeconds`). */
  readonly cpuSeconds: number | null;
}

/** What `rebuildParts` hands `whileLocked`: the parts rebuilt, the count of events, and the CPU the main thread used until then. */
export interface Rebuilt {
  readonly parts: RebuiltPart[];
  readonly events: number;
  readonly mainCpuSeconds: number | null;
}

/**
 * Re-derives every part from the event log into fresh files, with the app stopped: opening the
 * event store takes the data directory's lock, so a running app makes this fail instead of
 * racing it. The live files are not touched here; `whileLocked` swaps the fresh ones in or
 * compares them, still holding the lock, so an app starting meanwhile waits for it.
 */
export async function rebuildParts<T>(
  options: RebuildOptions,
  whileLocked: (rebuilt: Rebuilt) => T | Promise<T>,
): Promise<T> {
  const log = await EmbeddedEventStore.open({ directory: join(options.dataDir, 'events') });
  try {
    const head = await log.headPosition();
    options.onStart?.(head);
    const parts = options.parts.map((part) => {
      const livePath = join(options.dataDir, part.fileName);
      return { part, livePath, freshPath: options.freshPath?.(part, livePath) ?? `${livePath}.rebuild` };
    });
    // One worker thread per part, fed the log by this one: the parts share nothing but the log.
    const positions = parts.map(() => 0);
    const running = parts.map(({ part, freshPath }, index) =>
      inWorker({ key: part.key, freshPath, head, batchEvents: options.batchEvents ?? REBUILD_BATCH_EVENTS }, (position) => {
        positions[index] = position;
        options.onProgress?.({ position: Math.min(...positions), head });
      }),
    );
    let answers: PartDone[];
    try {
      await feedWorkers(options.dataDir, head, running);
      answers = await Promise.all(running.map(({ done }) => done));
    } catch (error) {
      for (const worker of running) worker.stop();
      await Promise.allSettled(running.map(({ done }) => done));
      // The fresh files of a failed rebuild are never swapped in: they go rather than hold the disk.
      for (const { freshPath } of parts) removeReadModelFile(freshPath);
      throw error;
    }
    // Awaited here: the lock is let go only once what whileLocked does (a comparison in worker threads) is over.
    const rebuilt = parts.map((part, index) => ({ ...part, cpuSeconds: answers[index]?.cpuSeconds ?? null }));
    return await whileLocked({ parts: rebuilt, events: answers[0]?.events ?? 0, mainCpuSeconds: threadCpuSeconds() });
  } finally {
    await log.close();
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the live file by the fresh one with one rename. The live file's WAL is folded in (or
 * dropped, when the file cannot be opened) first: a WAL left beside the new file would be
 * replayed into it.
 */
export function swapIn(freshPath: string, livePath: string): void {
  if (existsSync(livePath)) {
    try {
      new Database(livePath).close();
    } catch {
      // A live file SQLite cannot open is being replaced anyway.
    }
  }
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${livePath}${suffix}`, { force: true });
  fsyncPath(freshPath);
  renameSync(freshPath, livePath);
  fsyncPath(dirname(livePath));
}

export interface FileDifference {
  readonly table: string;
  readonly key: string;
  readonly detail: string;
}

/** A row's values in the order of its table's columns (read raw: no object per row). */
type Row = readonly unknown[];

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function tablesOf(db: Database.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((row) => row.name);
}

const columnsOf = (db: Database.Database, table: string): string[] => (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((row) => row.name);

function rowsOf(db: Database.Database, table: string): IterableIterator<Row> {
  return db.prepare(`SELECT * FROM ${quote(table)} ORDER BY ${columnsOf(db, table).map(quote).join(', ')}`).raw().iterate() as IterableIterator<Row>;
}

const sameBytes = (a: unknown, b: unknown): boolean => (Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b);
const keyOf = (row: Row): string => String(row[0]);
/** The first column whose values differ, or -1. */
const differingColumn = (a: Row, b: Row): number => (a.length !== b.length ? Math.min(a.length, b.length) : a.findIndex((value, column) => !sameBytes(value, b[column])));

function hasRowid(db: Database.Database, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM ${quote(table)} LIMIT 0`);
    return true;
  } catch {
    // A WITHOUT ROWID table: read in its key's order anyway.
    return false;
  }
}

/**
 * Whether a table with rowids holds the same rows in both files in rowid order: read straight
 * through, where the order of every column needs an index and a lookup per row, or a sort (the
 * catalog's 1,000,000 identities: about 10 s of CPU). A rebuild writes the rows in the order the
 * live file got them, so this usually settles it; when it does not, the rows are compared in
 * the order of their values, which names the first one that differs.
 */
function sameInRowidOrder(live: Database.Database, rebuilt: Database.Database, table: string): boolean {
  if (!hasRowid(live, table) || !hasRowid(rebuilt, table)) return false;
  const read = (db: Database.Database): IterableIterator<Row> => db.prepare(`SELECT * FROM ${quote(table)} ORDER BY rowid`).raw().iterate() as IterableIterator<Row>;
  const liveRows = read(live);
  const rebuiltRows = read(rebuilt);
  try {
    for (;;) {
      const a = liveRows.next();
      const b = rebuiltRows.next();
      if (a.done || b.done) return a.done === b.done;
      if (differingColumn(a.value, b.value) !== -1) return false;
    }
  } finally {
    liveRows.return?.();
    rebuiltRows.return?.();
  }
}

/** Compares two SQLite files table by table, row by row in key order, values byte for byte: the first difference, or null. */
export function compareFiles(livePath: string, rebuiltPath: string): FileDifference | null {
  if (!existsSync(livePath)) return { table: '(file)', key: '', detail: 'the live file is missing' };
  const live = new Database(livePath, { readonly: true, fileMustExist: true });
  const rebuilt = new Database(rebuiltPath, { readonly: true, fileMustExist: true });
  try {
    const liveTables = tablesOf(live);
    const rebuiltTables = tablesOf(rebuilt);
    if (liveTables.join() !== rebuiltTables.join()) return { table: '(schema)', key: '', detail: `tables ${liveTables.join(', ')} live, ${rebuiltTables.join(', ')} rebuilt` };
    for (const table of liveTables) {
      if (sameInRowidOrder(live, rebuilt, table)) continue;
      const columns = columnsOf(live, table);
      const liveRows = rowsOf(live, table);
      const rebuiltRows = rowsOf(rebuilt, table);
      for (;;) {
        const a = liveRows.next();
        const b = rebuiltRows.next();
        if (a.done && b.done) break;
        if (a.done || b.done) {
          liveRows.return?.();
          rebuiltRows.return?.();
          const extra = a.done ? (b.value as Row) : a.value;
          return { table, key: keyOf(extra), detail: a.done ? 'only in the rebuilt file' : 'only in the live file' };
        }
        const differing = differingColumn(a.value, b.value);
        if (differing !== -1) {
          liveRows.return?.();
          rebuiltRows.return?.();
          if (differing !== 0) return { table, key: keyOf(a.value), detail: `${columns[differing] ?? `column ${differing}`} differs` };
          // Rows in key order: the smaller key is missing from the other file.
          const liveFirst = String(a.value[0]) < String(b.value[0]);
          return { table, key: keyOf(liveFirst ? a.value : b.value), detail: liveFirst ? 'only in the live file' : 'only in the rebuilt file' };
        }
      }
    }
    return null;
  } finally {
    live.close();
    rebuilt.close();
  }
}
