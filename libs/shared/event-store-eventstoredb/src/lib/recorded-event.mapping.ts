import type { RecordedEvent as ClientRecordedEvent } from '@kurrent/kurrentdb-client';
import type { EventMetadata, RecordedEvent } from '@flagline/event-sourcing';
import { toSafeNumber } from './bigint.conversion';
import { toGlobalPosition } from './position.mapping';

/** A stored event the port cannot represent: not JSON, without metadata, or without a position. */
export class UnsupportedRecordedEventError extends Error {
  override readonly name = 'UnsupportedRecordedEventError';
  constructor(
    readonly streamName: string,
    readonly eventId: string,
    reason: string,
  ) {
    super(`Event ${eventId} in stream ${streamName} cannot be read through the event-store port: ${reason}`);
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * A recorded event as the client resolves it, as the port's `RecordedEvent`.
 *
 * The client has already parsed JSON data and metadata; they are passed on as stored. Events
 * written by this adapter always carry JSON data and a JSON metadata object; anything else in the
 * store was written by another program and is refused loudly rather than guessed at.
 */
export function toRecordedEvent(event: ClientRecordedEvent): RecordedEvent {
  const refuse = (reason: string): never => {
    throw new UnsupportedRecordedEventError(event.streamId, event.id, reason);
  };
  if (!event.isJson) return refuse('its data is binary, not JSON');
  if (!isJsonObject(event.metadata)) return refuse('its metadata is not a JSON object');
  // Stream reads report positions only on servers from 22.6 on; $all reads always do.
  if (!event.position) return refuse('the server did not report its $all position (server older than 22.6?)');
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata as unknown as EventMetadata,
    streamName: event.streamId,
    streamRevision: toSafeNumber(event.revision, 'Stream revision'),
    globalPosition: toGlobalPosition(event.position),
    recordedAt: event.created.toISOString(),
  };
}
