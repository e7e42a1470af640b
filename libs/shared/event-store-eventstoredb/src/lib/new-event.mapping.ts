import { jsonEvent, type EventData, type JSONType } from '@kurrent/kurrentdb-client';
import { DuplicateEventIdError, type NewEvent } from '@flagline/event-sourcing';

// The server stores event ids as UUIDs and returns them in lower case, so only that form reads
// back equal to what was written.
const LOWER_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A batch of port events as the client's JSON events. Ids must be lower-case UUIDs (the ids this
 * project generates are), and unique within the batch: the server would store a repeated id twice.
 * Types starting with `$` are the server's own; `$all` readers skip them, so they are refused here.
 */
export function toEventData(events: readonly NewEvent[]): EventData[] {
  const ids = new Set<string>();
  return events.map((event) => {
    if (!LOWER_CASE_UUID.test(event.id)) {
      throw new RangeError(`EventStoreDB needs event ids that are lower-case UUIDs; got ${JSON.stringify(event.id)}`);
    }
    if (event.type.startsWith('$')) throw new RangeError(`Event types starting with '$' are reserved for EventStoreDB; got ${event.type}`);
    if (ids.has(event.id)) throw new DuplicateEventIdError(event.id);
    ids.add(event.id);
    return jsonEvent({
      id: event.id,
      type: event.type,
      // The client JSON.stringifies data as is, so every JSON value (not only objects) round-trips.
      data: event.data as JSONType,
      metadata: { ...event.metadata },
    });
  });
}
