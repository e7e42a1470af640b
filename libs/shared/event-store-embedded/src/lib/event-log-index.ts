import type { ReadAllOptions, ReadStreamOptions, ReadStreamResult, RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import type { LogView, ReadAfter } from './indexed-log-reads';
import { toRecordedEvents, type StoredAppend } from './record-codec';

/**
 * Every durable event of the log, in memory: the global order, each stream, and each id.
 * The follower's index (the writer persists its own beside the log).
 */
export class EventLogIndex implements LogView {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byId = new Map<string, RecordedEvent>();

  /** Position of the last event; positions are dense from 1, so also the number of events. */
  get head(): number {
    return this.log.length;
  }

  /**
   * Adds a record read from the log after checking it follows the ones before it. Nothing is
   * added when the check fails, so the index always holds a consistent prefix of the log.
   */
  addStored(append: StoredAppend): RecordedEvent[] {
    const streamLength = this.streams.get(append.streamName)?.length ?? 0;
    if (append.firstPosition !== this.log.length + 1 || append.firstRevision !== streamLength) {
      throw new EventLogCorruptedError(
        `Event log record at position ${append.firstPosition} (stream ${append.streamName} revision ${append.firstRevision}) ` +
          `does not follow position ${this.log.length} (stream revision ${streamLength - 1})`,
      );
    }
    const events = toRecordedEvents(append);
    const ids = new Set<string>();
    for (const event of events) {
      if (this.byId.has(event.id) || ids.has(event.id)) throw new EventLogCorruptedError(`Event log stores event id ${event.id} twice`);
      ids.add(event.id);
    }
    this.add(events);
    return events;
  }

  /** Adds events the caller already placed right after the current head. */
  add(events: readonly RecordedEvent[]): void {
    for (const event of events) {
      let stream = this.streams.get(event.streamName);
      if (!stream) {
        stream = [];
        this.streams.set(event.streamName, stream);
      }
      stream.push(event);
      this.log.push(event);
      this.byId.set(event.id, event);
    }
  }

  get(id: string): RecordedEvent | undefined {
    return this.byId.get(id);
  }

  /** Revision of the stream's last event, or null when it has none. */
  revision(streamName: string): number | null {
    const length = this.streams.get(streamName)?.length ?? 0;
    return length === 0 ? null : length - 1;
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): ReadStreamResult {
    const stream = this.streams.get(streamName);
    if (!stream) return { currentRevision: null, events: [] };
    const from = Math.max(0, options.fromRevision ?? 0);
    const to = options.maxCount === undefined ? stream.length : from + options.maxCount;
    return { currentRevision: stream.length - 1, events: stream.slice(from, to) };
  }

  reader(): ReadAfter {
    return (after, max) => this.readAll({ after, maxCount: max });
  }

  readAll(options: ReadAllOptions = {}): RecordedEvent[] {
    const from = Math.max(0, options.after ?? 0);
    const to = options.maxCount === undefined ? this.log.length : from + options.maxCount;
    return this.log.slice(from, to);
  }
}
