import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LogSignal,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from '@flagline/event-sourcing';
import { EventLogIndex } from './event-log-index';
import { IndexedLogReads } from './indexed-log-reads';
import { EventLogReplacedError, EventStoreClosedError, EventStoreReadOnlyError } from './event-store.errors';
import { ChunkedReader, EVENT_LOG_FILE_NAME, LogFileFormatError, decodeFrame } from './log-file';
import { LOG_FILE_MAGIC, decodeAppend, type StoredAppend } from './record-codec';

export interface EmbeddedEventFollowerOptions {
  /** Directory of the store another process writes; it and the log may not exist yet. */
  readonly directory: string;
  /**
   * How often the size of the log is checked for new records when no change notification came.
   * Where the file system reports changes (inotify and the like), new records are read as soon as
   * they are written and this is only the fallback.
   */
  readonly pollIntervalMs?: number;
  /** Read as soon as the file system reports a change to the log (default true); polling alone otherwise. */
  readonly watch?: boolean;
  /** Receives what an operator should know: a damaged record the follower is waiting behind, or why it stopped. Defaults to `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
}

export const DEFAULT_FOLLOWER_POLL_INTERVAL_MS = 25;

/** A damaged record that stays unchanged this long is reported: long enough to rule out a read racing a cut and rewrite. */
const STUCK_WARNING_AFTER_MS = 1000;

/** `fdatasync` errors that mean "not possible on a read-only handle here", not "the data is at risk". */
const SYNC_UNSUPPORTED_CODES = new Set(['EBADF', 'EINVAL', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

interface FollowedFile {
  readonly handle: FileHandle;
  readonly dev: bigint;
  readonly ino: bigint;
}

interface ReadyRecord {
  readonly append: StoredAppend;
  /** Offset just past the record's frame. */
  readonly end: number;
}

interface StuckRecord {
  readonly offset: number;
  readonly damage: string;
  readonly since: number;
  warned: boolean;
}

/**
 * A read-only view of an embedded event log that another process writes: it takes no lock and
 * never writes, truncates or repairs the file. It reads the complete records, then polls the size
 * of the file and reads, verifies and indexes each new record, waking subscriptions.
 *
 * Why following is safe while the writer appends, crashes and restarts:
 *
 * - Only whole frames whose length, checksum and JSON verify are served, and only in file order:
 *   `offset` is the end of the last served frame and only ever moves forward over such frames.
 *   A frame cut short by the end of the file (an append being written, or a torn tail) or one that
 *   fails its checks is not served and is read again at the next poll.
 * - Each record must continue the index exactly (next global position, next stream revision,
 *   unseen ids), so events come out dense, in order and at most once.
 * - The writer scans the same frames from the same start with the same checks when it opens and
 *   cuts at the first one that fails. Every frame before `offset` passed those checks and its bytes
 *   do not change afterwards (the writer only ever writes after its end of file), so the writer's
 *   cut is never before `offset`: a cut removes only bytes the follower has not served, and the
 *   writer's next record lands at `offset` with the next position. The follower then reads it
 *   there as if the torn bytes had never been. A read that raced a cut and rewrite mixes old and
 *   new bytes and fails the checksum, so it is simply retried.
 * - A frame can be complete in the page cache before the writer's `fdatasync` returns. A killed
 *   writer loses nothing the kernel already holds, but a power loss could, so before serving new
 *   frames the follower runs `fdatasync` on its own read-only handle, which flushes the file's
 *   written data, whoever wrote it. What it serves is then as durable as an acknowledged append;
 *   it may include a record whose writer died before acknowledging it, which a restarted writer
 *   keeps as well.
 * - The file shrinking below `offset`, disappearing, or being replaced by another file can only
 *   come from outside the store. The follower then stops with `EventLogReplacedError` rather than
 *   serve a different history under positions it already handed out.
 *
 * Like the writer it holds every event in memory, which suits the embedded default.
 */
export class EmbeddedEventFollower implements EventStore {
  private readonly index = new EventLogIndex();
  private readonly signal = new LogSignal();
  private readonly reads = new IndexedLogReads({ view: this.index, signal: this.signal, isClosing: () => this.closing !== null, failure: () => this.failure });
  private readonly path: string;
  private file: FollowedFile | null = null;
  /** End of the last served frame: everything before it is indexed, nothing after it is. */
  private offset = LOG_FILE_MAGIC.length;
  private stuck: StuckRecord | null = null;
  private syncUnsupported = false;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();
  private watching = false;
  private watcher: FSWatcher | null = null;
  /** A change was reported while a poll ran: poll again as soon as it ends. */
  private changedDuringPoll = false;

  private constructor(
    private readonly directory: string,
    private readonly pollIntervalMs: number,
    private readonly onWarning: (message: string) => void,
  ) {
    this.path = join(directory, EVENT_LOG_FILE_NAME);
  }

  /**
   * Reads every complete record already in the log, then follows it. Resolves at once, with an
   * empty log, when the log does not exist yet; it is picked up when the writer creates it.
   * Rejects with `LogFileFormatError` when the file is not an event log.
   */
  static async open(options: EmbeddedEventFollowerOptions): Promise<EmbeddedEventFollower> {
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_FOLLOWER_POLL_INTERVAL_MS;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) throw new RangeError(`pollIntervalMs must be a positive number, got ${pollIntervalMs}`);
    const follower = new EmbeddedEventFollower(
      options.directory,
      pollIntervalMs,
      options.onWarning ?? ((message) => process.emitWarning(message, 'EventLogFollowerWarning')),
    );
    try {
      await follower.readNewRecords();
    } catch (error) {
      await follower.file?.handle.close();
      throw error;
    }
    follower.watching = options.watch ?? true;
    if (follower.watching) follower.watchDirectory();
    follower.schedulePoll();
    return follower;
  }

  appendToStream(_streamName: string, _events: readonly NewEvent[], _options?: AppendOptions): Promise<AppendResult> {
    return Promise.reject(this.closing ? new EventStoreClosedError() : new EventStoreReadOnlyError(this.directory));
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

  /** Stops polling and subscriptions and closes the file; the log itself is left as it is. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    await this.reads.stopSubscriptions();
    await this.file?.handle.close();
    this.file = null;
  }

  /**
   * Change notifications for the directory (the log may not exist yet, and the writer creates it
   * by rename): each one for the log wakes the follower at once. Where the file system cannot
   * report changes, or stops reporting them, polling carries on alone.
   */
  private watchDirectory(): void {
    try {
      this.watcher = watch(this.directory, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === EVENT_LOG_FILE_NAME) this.wake();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null;
    }
  }

  /** Polls now: at once when idle, or right after the poll that is running. */
  private wake(): void {
    if (this.closing || this.failure) return;
    if (this.timer === null) {
      this.changedDuringPoll = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.polling = this.poll();
  }

  /** One poll at a time: the next is scheduled only when the previous one has finished. */
  private schedulePoll(): void {
    if (this.closing || this.failure) return;
    const delay = this.changedDuringPoll ? 0 : this.pollIntervalMs;
    this.changedDuringPoll = false;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll();
    }, delay);
  }

  private async poll(): Promise<void> {
    // The directory may not have existed when the follower opened: watch it once it does.
    if (this.watching && this.watcher === null && this.file === null) this.watchDirectory();
    try {
      await this.readNewRecords();
    } catch (error) {
      this.stop(error instanceof Error ? error : new Error(String(error)));
    }
    this.schedulePoll();
  }

  private stop(failure: Error): void {
    this.failure = failure;
    this.onWarning(`Event log follower of ${this.path} stopped: ${failure.message}`);
    this.signal.notify();
  }

  /** Serves every whole, verified record after `offset`; leaves anything else for a later poll. */
  private async readNewRecords(): Promise<void> {
    const file = (this.file ??= await this.openLog());
    if (!file) return;
    const size = await this.currentSize(file);
    if (size < this.offset) {
      throw new EventLogReplacedError(`${this.path} shrank to ${size} bytes, below the ${this.offset} bytes of records already served`);
    }
    if (size === this.offset) {
      this.stuck = null;
      return;
    }

    const reader = new ChunkedReader(file.handle, size);
    const ready: ReadyRecord[] = [];
    let end = this.offset;
    while (end < size) {
      const frame = await decodeFrame(reader, end, decodeAppend);
      if (frame.kind === 'frame') {
        end += frame.frameBytes;
        ready.push({ append: frame.entry, end });
        continue;
      }
      if (frame.kind === 'damaged') this.noteDamage(end, frame.damage);
      else this.stuck = null;
      break;
    }
    if (end === size) this.stuck = null;
    if (ready.length === 0) return;

    // Served events must survive a power loss just like acknowledged ones: flush before serving.
    await this.flush(file.handle);
    try {
      for (const record of ready) {
        // Throws, leaving the index at the record before, when a verified record does not follow:
        // that is never a crash (the writer refuses to open such a log too), so the follower stops.
        this.index.addStored(record.append);
        this.offset = record.end;
      }
    } finally {
      this.signal.notify();
    }
  }

  /** The log opened for reading with its header checked, or null while it does not exist. */
  private async openLog(): Promise<FollowedFile | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      // The writer creates the log with its header in place (write, sync, rename), so an existing
      // log always starts with the whole header; anything else is another file.
      const { dev, ino, size } = await handle.stat({ bigint: true });
      const magic = await new ChunkedReader(handle, Number(size)).bytesAt(0, LOG_FILE_MAGIC.length);
      if (!magic?.equals(LOG_FILE_MAGIC)) throw new LogFileFormatError(`${this.path} is not an event log (bad header)`);
      return { handle, dev, ino };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Size of the followed file, after checking the path still names it. */
  private async currentSize(file: FollowedFile): Promise<number> {
    let named: { dev: bigint; ino: bigint };
    try {
      named = await stat(this.path, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new EventLogReplacedError(`${this.path} was removed while it was followed`);
      throw error;
    }
    if (named.dev !== file.dev || named.ino !== file.ino) throw new EventLogReplacedError(`${this.path} was replaced by another file while it was followed`);
    return Number((await file.handle.stat({ bigint: true })).size);
  }

  private async flush(handle: FileHandle): Promise<void> {
    if (this.syncUnsupported) return;
    try {
      await handle.datasync();
    } catch (error) {
      // A failed flush (EIO) means written data may be lost: serving it could hand out events a
      // restarted writer no longer has, so that stops the follower (the caller reports it).
      if (!SYNC_UNSUPPORTED_CODES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      this.syncUnsupported = true;
      this.onWarning(
        `Event log follower of ${this.path} cannot flush a read-only handle on this platform; ` +
          'it serves records once written, which a power loss before the writer syncs could undo',
      );
    }
  }

  /**
   * A whole record that fails its checks is waited behind, never skipped: a writer that crashed
   * cuts it when it restarts and writes the next record in its place. It is reported once it has
   * stayed unchanged for a while, since until the writer restarts nothing after it is served.
   */
  private noteDamage(offset: number, damage: string): void {
    const now = Date.now();
    if (this.stuck?.offset !== offset || this.stuck.damage !== damage) {
      this.stuck = { offset, damage, since: now, warned: false };
      return;
    }
    if (this.stuck.warned || now - this.stuck.since < STUCK_WARNING_AFTER_MS) return;
    this.stuck.warned = true;
    this.onWarning(
      `Event log ${this.path}: ${damage} at byte ${offset}; nothing from there on is served until the writer ` +
        'cuts the damaged tail when it next opens the log',
    );
  }
}
