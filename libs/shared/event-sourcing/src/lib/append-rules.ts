import type { NewEvent, RecordedEvent } from './event';
import { ConcurrencyError, DuplicateEventIdError, type AppendResult, type ExpectedRevision } from './event-store.port';

/** Throws `ConcurrencyError` unless a stream at `current` (null: absent) satisfies `expected`. */
export function assertExpectedRevision(streamName: string, expected: ExpectedRevision, current: number | null): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === null) ||
    (expected === 'stream_exists' && current !== null) ||
    (typeof expected === 'number' && expected === current);
  if (!ok) throw new ConcurrencyError(streamName, expected, current);
}

/**
 * Recognises a retried append: every event id of the batch already stored, consecutively, in
 * this stream. Returns the original result then. Throws when some ids are stored but the batch is
 * not such a retry; returns null for a fresh batch.
 */
export function findRetriedAppend(
  streamName: string,
  events: readonly NewEvent[],
  lookup: (eventId: string) => RecordedEvent | undefined,
): AppendResult | null {
  const first = events[0];
  if (!first) return null;
  const stored = events.map((event) => lookup(event.id));
  if (stored.every((event) => event === undefined)) return null;
  const firstStored = stored[0];
  const isRetry =
    firstStored !== undefined &&
    firstStored.streamName === streamName &&
    stored.every(
      (event, index) =>
        event !== undefined && event.streamName === streamName && event.streamRevision === firstStored.streamRevision + index,
    );
  if (!isRetry) {
    const clash = events.find((_, index) => stored[index] !== undefined) ?? first;
    throw new DuplicateEventIdError(clash.id);
  }
  const last = stored[stored.length - 1] as RecordedEvent;
  return { nextExpectedRevision: last.streamRevision, position: last.globalPosition };
}
