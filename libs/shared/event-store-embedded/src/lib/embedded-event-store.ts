import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  DuplicateEventIdError,
  LogSignal,
  assertExpectedRevision,
  findRetriedAppend,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from '@flagline/event-sourcing';
import { DirectoryLock } from './directory-lock';
import { syncDirectory } from './directory-sync';
import { EmbeddedEventFollower, type EmbeddedEventFollowerOptions } from './embedded-event-follower';
import { IndexedLogReads } from './indexed-log-reads';
import { EventStoreClosedError } from './event-store.errors';
import { LOG_INDEX_FILE_NAME, LogIndexStore, type IndexedFrame } from './log-index.store';
import { EVENT_LOG_FILE_NAME, LogFile, syncDataWithFdatasync, type ScannedFrame, type SyncData } from './log-file';
import type { LogTailStart } from './log-tail';
import { PersistedLogView, type LogViewFootprint } from './persisted-log-view';
import { APPEND_PAYLOAD_PREFIX, LOG_FILE_MAGIC, decodeAppend, encodeAppend, recordedEventsOf, recordedEventsOfPlain, type StoredAppend } from './record-codec';

export { EVENT_LOG_FILE_NAME } from './log-file';
export { LOG_INDEX_FILE_NAME } from './log-index.store';
export { EventLogCorruptedError, EventStoreClosedError } from './event-store.errors';

export interface EmbeddedEventStoreOptions {
  /** Directory holding the log and its lock; created when missing. */
  readonly directory: string;
  /** Source of `recordedAt`. */
  readonly clock?: () => Date;
  /** Receives recoveries an operator should know about, such as a torn tail cut at open. Defaults to `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
  /** Makes each group write durable; `fdatasync` unless replaced (tests count or fail it). */
  readonly syncData?: SyncData;
  /**
   * Reports indexing at open: the records after what `index.sqlite` already covers, or the whole
   * log when the index is missing or had to be rebuilt. Called after each batch and at the end.
   */
  readonly onProgress?: (progress: LogIndexProgress) => void;
}

export interface LogIndexProgress {
  /** Bytes of the log indexed so far (of `totalBytes`). */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Events in the index so far. */
  readonly events: number;
}

/** What the store holds in memory: none of it grows with the length of the log. */
export interface EventStoreFootprint extends LogViewFootprint {
  /** Events decided but not yet durable, kept to recognise a retry of them (bounded by the appends in flight; fresh ids are not kept). */
  readonly pendingEvents: number;
  readonly pendingStreams: number;
}

/** A write or sync failed; the store stopped accepting appends rather than risk a hole in the log. */
export class EventStoreFailedError extends Error {
  override readonly name = 'EventStoreFailedError';
  constructor(cause: unknown) {
    super(
      `The embedded event store stopped after a failed write (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Appends in flight have an unknown outcome: reopen the store and retry them with the same event ids.',
      { cause },
    );
  }
}

interface Waiter {
  settle(): void;
  fail(error: Error): void;
}

/** Appends written together with one write and one sync. */
interface CommitGroup {
  readonly frames: Buffer[];
  readonly appends: RecordedEvent[][];
  /** Per append: were its ids fresh (no id rows in the index). */
  readonly freshIds: boolean[];
  /** Settled in order once the group is durable: its appends, then anything decided against them. */
  readonly waiters: Waiter[];
}

type Decision =
  | { readonly kind: 'write'; readonly frame: Buffer; readonly freshIds: boolean; readonly events: RecordedEvent[]; readonly result: AppendResult }
  | { readonly kind: 'known'; readonly result: AppendResult }
  | { readonly kind: 'rejected'; readonly error: Error };

/** Streams read into the index's stream filter per turn of the event loop after open: about a millisecond, so requests served meanwhile wait little. */
const STREAM_FILTER_ROWS_PER_TURN = 2_000;

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The durable event store for single-node installs: one append-only log file on local disk, and
 * beside it a persisted index (`index.sqlite`) of where each event and stream is, so neither
 * memory nor the time to open grows with the length of the log (see `PersistedLogView`).
 *
 * Appends are decided one at a time, in call order, against the state including appends still
 * being written, then written in groups: one write and one `fdatasync` for every append that
 * arrived while the previous group was syncing. An append is acknowledged, and its events become
 * visible to reads and subscriptions, only once its group is on stable storage.
 */
export class EmbeddedEventStore implements EventStore {
  private readonly view: PersistedLogView;
  /** Stream revisions and events decided but not yet durable. */
  private readonly pendingRevisions = new Map<string, number>();
  private readonly pendingById = new Map<string, RecordedEvent>();
  private nextPosition: number;
  private collecting: CommitGroup | null = null;
  private inFlight: CommitGroup | null = null;
  private writerRunning = false;
  private writer: Promise<void> = Promise.resolve();
  private failure: EventStoreFailedError | null = null;
  private closing: Promise<void> | null = null;
  private readonly signal = new LogSignal();
  private readonly reads: IndexedLogReads;
  private filterFillStarted = false;

  private constructor(
    private readonly file: LogFile,
    private readonly index: LogIndexStore,
    private readonly lock: DirectoryLock,
    private readonly clock: () => Date,
  ) {
    this.view = new PersistedLogView(file, index);
    this.reads = new IndexedLogReads({ view: this.view, signal: this.signal, isClosing: () => this.closing !== null, failure: () => this.failure });
    this.nextPosition = index.coverage.head + 1;
  }

  /**
   * Starts filling the index's stream filter at the first question that needs it (an append, or
   * `mayHaveStream`): a store only read (the rebuild's) never reads every stream's key.
   */
  private needStreamFilter(): void {
    if (this.filterFillStarted) return;
    this.filterFillStarted = true;
    this.fillStreamFilter();
  }

  /** Fills the index's stream filter a slice per turn of the event loop, so a long log does not delay the start. */
  private fillStreamFilter(): void {
    if (this.closing !== null || this.index.fillStreamFilter(STREAM_FILTER_ROWS_PER_TURN)) return;
    setImmediate(() => this.fillStreamFilter());
  }

  static async open(options: EmbeddedEventStoreOptions): Promise<EmbeddedEventStore> {
    await createDirectory(options.directory);
    const lock = await DirectoryLock.acquire(options.directory);
    const onWarning = options.onWarning ?? ((message: string) => process.emitWarning(message, 'EventLogRecoveryWarning'));
    let file: LogFile | undefined;
    let index: LogIndexStore | undefined;
    try {
      file = await LogFile.open({ path: join(options.directory, EVENT_LOG_FILE_NAME), syncData: options.syncData ?? syncDataWithFdatasync });
      const opened = await openIndex(join(options.directory, LOG_INDEX_FILE_NAME), file, onWarning);
      index = opened.index;
      await indexTheRest(file, index, opened.madeAnew, onWarning, options.onProgress);
      index.completeBuild();
      return new EmbeddedEventStore(file, index, lock, options.clock ?? (() => new Date()));
    } catch (error) {
      index?.close();
      await file?.close();
      await lock.release();
      throw error;
    }
  }

  /**
   * Opens the log of a store that another process writes, read-only: no lock, no writes, no
   * repair. It reads the complete records and then follows the file as it grows (see
   * `EmbeddedEventFollower`).
   */
  static openFollower(options: EmbeddedEventFollowerOptions): Promise<EmbeddedEventFollower> {
    return EmbeddedEventFollower.open(options);
  }

  appendToStream(streamName: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const unavailable = this.closing ? new EventStoreClosedError() : this.failure;
    if (unavailable) return Promise.reject(unavailable);
    this.needStreamFilter();
    let decision: Decision;
    try {
      decision = this.decide(streamName, events, options.expectedRevision ?? 'any', options.freshIds === true);
    } catch (error) {
      decision = { kind: 'rejected', error: toError(error) };
    }
    return new Promise<AppendResult>((resolvePromise, rejectPromise) => {
      const waiter: Waiter = {
        settle: () => (decision.kind === 'rejected' ? rejectPromise(decision.error) : resolvePromise(decision.result)),
        fail: rejectPromise,
      };
      if (decision.kind === 'write') {
        this.enqueue(decision, waiter);
      } else {
        // A retry or a conflict was judged against appends still in flight, so it is reported only
        // once they are durable: a caller never learns of a state that a crash could still undo.
        const latest = this.collecting ?? this.inFlight;
        if (latest) latest.waiters.push(waiter);
        else waiter.settle();
      }
    });
  }

  readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    return this.reads.readStream(streamName, options);
  }

  readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return this.reads.readAll(options);
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    return this.reads.subscribeToAll(options, handler);
  }

  headPosition(): Promise<number> {
    return this.reads.headPosition();
  }

  /**
   * False only for a stream that has no event in the log, indexed or being written (a check of a
   * few bits of the index's stream filter, no read): what is derived from the log cannot hold
   * anything of it either. True means it may exist.
   */
  mayHaveStream(streamName: string): boolean {
    this.needStreamFilter();
    return this.pendingRevisions.has(streamName) || this.index.mayHaveStream(streamName);
  }

  /**
   * Where a `LogTail` (a reader of the file on another thread) starts to read the events after
   * position `after`, which must be durable: the record holding it, or the first record.
   */
  tailStart(after: number): LogTailStart {
    if (after <= 0) return { offset: LOG_FILE_MAGIC.length, after: 0 };
    const offset = this.index.frameOffsetOf(after);
    if (offset === undefined) throw new RangeError(`Position ${after} is not in the log's index (its head is ${this.nextPosition - 1})`);
    return { offset, after };
  }

  /** What the store holds in memory, for operators and for tests that check it stays bounded. */
  footprint(): EventStoreFootprint {
    return { ...this.view.footprint, pendingEvents: this.pendingById.size, pendingStreams: this.pendingRevisions.size };
  }

  /** Stops subscriptions, writes and acknowledges appends already accepted, then releases the file and the lock. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.reads.stopSubscriptions();
    while (this.writerRunning) await this.writer;
    try {
      this.index.close();
      await this.file.close();
    } finally {
      await this.lock.release();
    }
  }

  /** A stored event by id, for recognising retried appends; reads its frame in the rare case the id is known. */
  private storedEvent(id: string): RecordedEvent | undefined {
    const location = this.index.locateId(id);
    return location && this.view.eventAtSync(location);
  }

  private decide(streamName: string, events: readonly NewEvent[], expected: ExpectedRevision, freshIds: boolean): Decision {
    const ids = new Set<string>();
    for (const event of events) {
      if (ids.has(event.id)) throw new DuplicateEventIdError(event.id);
      ids.add(event.id);
    }
    // Fresh ids cannot be stored yet: no lookup, and they are kept neither here nor in the index.
    if (!freshIds) {
      const retried = findRetriedAppend(streamName, events, (id) => this.pendingById.get(id) ?? this.storedEvent(id));
      if (retried) return { kind: 'known', result: retried };
    }
    const current = this.pendingRevisions.get(streamName) ?? this.index.streamRevision(streamName);
    assertExpectedRevision(streamName, expected, current);
    if (events.length === 0) return { kind: 'known', result: { nextExpectedRevision: current ?? -1, position: this.nextPosition - 1 } };
    const append: StoredAppend = {
      streamName,
      firstRevision: current === null ? 0 : current + 1,
      firstPosition: this.nextPosition,
      recordedAt: this.clock().toISOString(),
      events,
      ...(freshIds ? { freshIds: true as const } : {}),
    };
    const { frame, text } = encodeAppend(append);
    // Serve what was written, read back: memory then matches what a reopen yields (JSON drops
    // undefined and turns dates into strings), the caller's objects stay detached, and a record
    // the open-time scan would reject as undecodable is refused now instead of being written.
    // A fresh append (an identity recorded by an SDK key, the busiest write) of plain JSON values
    // is served from its own objects, frozen, which read back the same: no parse of its text.
    const recorded = (freshIds ? recordedEventsOfPlain(append) : null) ?? recordedEventsOf(text);
    const lastRevision = append.firstRevision + recorded.length - 1;
    this.nextPosition += recorded.length;
    this.pendingRevisions.set(streamName, lastRevision);
    if (!freshIds) for (const event of recorded) this.pendingById.set(event.id, event);
    return { kind: 'write', frame, freshIds, events: recorded, result: { nextExpectedRevision: lastRevision, position: this.nextPosition - 1 } };
  }

  private enqueue({ frame, events, freshIds }: Extract<Decision, { kind: 'write' }>, waiter: Waiter): void {
    const group = (this.collecting ??= { frames: [], appends: [], freshIds: [], waiters: [] });
    group.frames.push(frame);
    group.appends.push(events);
    group.freshIds.push(freshIds);
    group.waiters.push(waiter);
    if (this.writerRunning) return;
    this.writerRunning = true;
    this.writer = this.writeGroups();
  }

  private async writeGroups(): Promise<void> {
    // Appends issued in the same turn of the event loop join the first group.
    await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
    try {
      while (this.collecting && !this.failure) {
        const group = this.collecting;
        this.collecting = null;
        this.inFlight = group;
        try {
          const start = await this.file.append(Buffer.concat(group.frames));
          // Indexed only once durable, so the index never covers bytes a crash could take back.
          this.index.addFrames(indexedFrames(group, start), { decided: true });
        } catch (error) {
          this.stopAfterWriteFailure(error);
          return;
        }
        this.inFlight = null;
        this.makeVisible(group);
      }
    } finally {
      // Cleared in the same step as the loop's last check, so an append made after it starts a new writer.
      this.writerRunning = false;
    }
  }

  private makeVisible(group: CommitGroup): void {
    for (const events of group.appends) {
      this.view.add(events);
      for (const event of events) this.pendingById.delete(event.id);
      const last = events[events.length - 1];
      if (last !== undefined && this.pendingRevisions.get(last.streamName) === last.streamRevision) {
        this.pendingRevisions.delete(last.streamName);
      }
    }
    this.signal.notify();
    for (const waiter of group.waiters) waiter.settle();
  }

  private stopAfterWriteFailure(cause: unknown): void {
    const failure = new EventStoreFailedError(cause);
    this.failure = failure;
    const abandoned = [this.inFlight, this.collecting];
    this.inFlight = null;
    this.collecting = null;
    this.pendingById.clear();
    this.pendingRevisions.clear();
    for (const group of abandoned) for (const waiter of group?.waiters ?? []) waiter.fail(failure);
    this.signal.notify();
  }
}

/** Creates the directory and makes every new level's entry durable in its parent. */
async function createDirectory(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true });
  if (firstCreated === undefined) return;
  const top = dirname(resolve(firstCreated));
  for (let level = resolve(directory); ; level = dirname(level)) {
    const parent = dirname(level);
    await syncDirectory(parent);
    if (parent === top || parent === level) return;
  }
}

function indexedFrames(group: CommitGroup, start: number): IndexedFrame[] {
  let offset = start;
  return group.frames.map((frame, at) => {
    const indexed = { offset, bytes: frame.length, checksum: frame.readUInt32LE(4), events: group.appends[at] ?? [], freshIds: group.freshIds[at] === true };
    offset += frame.length;
    return indexed;
  });
}

/**
 * The log's index, checked against the log: one that covers more than the file holds, or whose
 * last indexed record is not the one at that place in the file, is never served but emptied, and
 * the whole log is indexed again.
 */
/** The index to resume from, and whether it was made anew here (so it says nothing of where the acknowledged writes end). */
async function openIndex(path: string, file: LogFile, onWarning: (message: string) => void): Promise<{ index: LogIndexStore; madeAnew: boolean }> {
  const opened = LogIndexStore.open(path, LOG_FILE_MAGIC.length);
  let index = opened.index;
  let replacedBecause = opened.replacedBecause;
  const mismatch = await mismatchWithLog(index, file);
  if (mismatch !== null) {
    index = index.reset(LOG_FILE_MAGIC.length);
    replacedBecause = mismatch;
  }
  if (replacedBecause !== null) onWarning(`Event log index ${path} is rebuilt from the log: ${replacedBecause}`);
  return { index, madeAnew: opened.created || mismatch !== null };
}

async function mismatchWithLog(index: LogIndexStore, file: LogFile): Promise<string | null> {
  const { coveredOffset, head, lastFrame } = index.coverage;
  if (coveredOffset > file.sizeBytes) return `it covers ${coveredOffset} bytes of the log, which holds ${file.sizeBytes}`;
  if (lastFrame === null) return coveredOffset === LOG_FILE_MAGIC.length ? null : `it covers ${coveredOffset} bytes but no record`;
  const scan = await file.frameAt(lastFrame.offset, lastFrame.bytes, decodeAppend);
  const matches =
    scan.kind === 'frame' &&
    scan.checksum === lastFrame.checksum &&
    lastFrame.offset + lastFrame.bytes === coveredOffset &&
    scan.entry.firstPosition + scan.entry.events.length - 1 === head;
  return matches ? null : `its last record (byte ${lastFrame.offset}, position ${head}) is not the one in the log`;
}

/** Verifies and indexes the records after what the index covers, cutting a torn tail as the log always did. */
async function indexTheRest(
  file: LogFile,
  index: LogIndexStore,
  madeAnew: boolean,
  onWarning: (message: string) => void,
  onProgress: ((progress: LogIndexProgress) => void) | undefined,
): Promise<void> {
  await file.recover({
    from: index.coverage.coveredOffset,
    decode: decodeAppend,
    payloadPrefix: APPEND_PAYLOAD_PREFIX,
    // An index is written after each group's sync, so what it covers was acknowledged and only
    // the groups after it can be torn (a power loss may also take back its last commits, which
    // then count as tail). An index made anew here knows nothing of where acknowledged writes end.
    unknownEnd: madeAnew,
    onWarning,
    onFrames: (frames) => {
      index.addFrames(frames.map(toIndexedFrame));
      onProgress?.({ bytes: index.coverage.coveredOffset, totalBytes: file.sizeBytes, events: index.coverage.head });
    },
  });
}

function toIndexedFrame({ entry, offset, bytes, checksum }: ScannedFrame<StoredAppend>): IndexedFrame {
  return {
    offset,
    bytes,
    checksum,
    freshIds: entry.freshIds === true,
    events: entry.events.map((event, at) => ({
      id: event.id,
      streamName: entry.streamName,
      streamRevision: entry.firstRevision + at,
      globalPosition: entry.firstPosition + at,
    })),
  };
}
