import type { ReadAllOptions, ReadStreamOptions, ReadStreamResult, RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import type { LogView, ReadAfter } from './indexed-log-reads';
import type { EventLocation, LogIndexStore } from './log-index.store';
import { decodeFrame, type ChunkedReader, type FrameScan, type LogFile } from './log-file';
import { decodeRecordedEvents } from './record-codec';

/** The latest events kept decoded, so live subscribers and fresh reads never go back to the disk. */
export const RECENT_EVENTS_KEPT = 4096;
/** Decoded frames kept for stream reads: at most this many, and at most `CACHED_FRAME_BYTES` of frames. */
export const CACHED_FRAMES = 1024;
export const CACHED_FRAME_BYTES = 8 * 1024 * 1024;

/** What a view holds in memory; every figure is bounded, whatever the length of the log. */
export interface LogViewFootprint {
  readonly recentEvents: number;
  readonly cachedFrames: number;
  readonly cachedFrameBytes: number;
}

/** Where one subscription's sequential reading stands in the file. */
interface Cursor {
  /** Last position handed out; `offset` is the frame holding the next one. */
  position: number;
  offset: number;
  reader: ChunkedReader | null;
}

/**
 * The writer's reads over the log file and its persisted index. Stream reads find their frames
 * through the index and read them one by one (with a small cache of decoded frames); reads of the
 * whole log go through the file sequentially in large chunks; the latest events stay decoded in a
 * bounded window, so live subscribers get new appends without reading them back. Nothing is kept
 * per stored event: memory does not grow with the log.
 *
 * What it serves is what the index covers, which the store extends only once frames are durable.
 */
export class PersistedLogView implements LogView {
  /** The last events, dense in position and ending at the head. */
  private recent: RecordedEvent[] = [];
  /** Decoded frames by offset, oldest use first. */
  private readonly frames = new Map<number, readonly RecordedEvent[]>();
  private frameBytes = new Map<number, number>();
  private cachedBytes = 0;

  constructor(
    private readonly file: LogFile,
    private readonly index: LogIndexStore,
  ) {}

  get head(): number {
    return this.index.coverage.head;
  }

  get footprint(): LogViewFootprint {
    return { recentEvents: this.recent.length, cachedFrames: this.frames.size, cachedFrameBytes: this.cachedBytes };
  }

  /** Takes in events the store just made durable and indexed, right after the head. */
  add(events: readonly RecordedEvent[]): void {
    // One by one: an append may hold more events than a call can take as arguments.
    for (const event of events) this.recent.push(event);
    // Trimmed in steps of a whole window, so the copy costs nothing per event on average.
    if (this.recent.length >= 2 * RECENT_EVENTS_KEPT) this.recent = this.recent.slice(-RECENT_EVENTS_KEPT);
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    const from = Math.max(0, options.fromRevision ?? 0);
    const limit = options.maxCount === undefined ? -1 : Math.max(0, options.maxCount);
    const { currentRevision, locations } = this.index.streamLocations(streamName, from, limit);
    const events: RecordedEvent[] = [];
    for (const location of locations) events.push(this.recentAt(location.position) ?? (await this.storedAt(location)));
    return { currentRevision, events };
  }

  readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const after = Math.max(0, options.after ?? 0);
    return this.readAfter(aCursor(), after, options.maxCount ?? this.head - after);
  }

  reader(): ReadAfter {
    const cursor = aCursor();
    return (after, max) => this.readAfter(cursor, after, max);
  }

  /** The stored event at a location, read without waiting: for the rare id lookups made while an append is decided. */
  eventAtSync(location: EventLocation): RecordedEvent {
    const recent = this.recentAt(location.position);
    if (recent) return recent;
    const cached = this.cachedFrame(location.frameOffset);
    if (cached) return pick(cached, location);
    return pick(this.cacheFrame(location, this.file.frameAtSync(location.frameOffset, location.frameBytes, decodeRecordedEvents)), location);
  }

  private recentAt(position: number): RecordedEvent | undefined {
    const first = this.head - this.recent.length + 1;
    return position >= first ? this.recent[position - first] : undefined;
  }

  private async storedAt(location: EventLocation): Promise<RecordedEvent> {
    const cached = this.cachedFrame(location.frameOffset);
    if (cached) return pick(cached, location);
    return pick(this.cacheFrame(location, await this.file.frameAt(location.frameOffset, location.frameBytes, decodeRecordedEvents)), location);
  }

  private cachedFrame(offset: number): readonly RecordedEvent[] | undefined {
    const events = this.frames.get(offset);
    if (events) {
      this.frames.delete(offset);
      this.frames.set(offset, events);
    }
    return events;
  }

  private cacheFrame(location: EventLocation, scan: FrameScan<RecordedEvent[]>): readonly RecordedEvent[] {
    const events = verified(scan, location.frameOffset).entry;
    this.frames.set(location.frameOffset, events);
    this.frameBytes.set(location.frameOffset, location.frameBytes);
    this.cachedBytes += location.frameBytes;
    for (const [offset] of this.frames) {
      if (this.frames.size <= CACHED_FRAMES && this.cachedBytes <= CACHED_FRAME_BYTES) break;
      this.frames.delete(offset);
      this.cachedBytes -= this.frameBytes.get(offset) ?? 0;
      this.frameBytes.delete(offset);
    }
    return events;
  }

  private async readAfter(cursor: Cursor, after: number, max: number): Promise<readonly RecordedEvent[]> {
    const head = this.head;
    const from = Math.max(0, after);
    const count = Math.min(max, head - from);
    if (count <= 0) return [];
    const firstRecent = head - this.recent.length + 1;
    if (from + 1 >= firstRecent) return this.recent.slice(from + 1 - firstRecent, from + 1 - firstRecent + count);
    return this.readFromFile(cursor, from, count);
  }

  /** Reads on from where the cursor stopped when it stopped at `after`; otherwise finds the frame through the index. */
  private async readFromFile(cursor: Cursor, after: number, count: number): Promise<RecordedEvent[]> {
    const end = this.index.coverage.coveredOffset;
    if (cursor.reader === null || cursor.position !== after) {
      const offset = this.index.frameOffsetOf(after + 1);
      if (offset === undefined) throw new EventLogCorruptedError(`The event log index has no record for position ${after + 1}`);
      cursor.offset = offset;
      cursor.reader = this.file.reader(end);
    } else {
      cursor.reader.extendTo(end);
    }
    const events: RecordedEvent[] = [];
    let position = after;
    while (events.length < count && cursor.offset < end) {
      const frame = verified(await decodeFrame(cursor.reader, cursor.offset, decodeRecordedEvents), cursor.offset);
      const recorded = frame.entry;
      const lastInFrame = (recorded[recorded.length - 1] as RecordedEvent).globalPosition;
      if (lastInFrame > position) {
        for (const event of recorded) {
          if (event.globalPosition <= position) continue;
          if (events.length === count) break;
          events.push(event);
          position = event.globalPosition;
        }
      }
      // A frame read in part is read again from its start by the next call.
      if (position < lastInFrame) break;
      cursor.offset += frame.frameBytes;
    }
    cursor.position = position;
    return events;
  }
}

function aCursor(): Cursor {
  return { position: -1, offset: 0, reader: null };
}

function pick(events: readonly RecordedEvent[], location: EventLocation): RecordedEvent {
  const event = events[location.indexInFrame];
  if (!event || event.globalPosition !== location.position) {
    throw new EventLogCorruptedError(`The record at byte ${location.frameOffset} does not hold the indexed position ${location.position}`);
  }
  return event;
}

function verified(scan: FrameScan<RecordedEvent[]>, offset: number): Extract<FrameScan<RecordedEvent[]>, { kind: 'frame' }> {
  if (scan.kind !== 'frame') throw new EventLogCorruptedError(`Indexed event log record at byte ${offset} cannot be read: ${scan.damage}`);
  return scan;
}
