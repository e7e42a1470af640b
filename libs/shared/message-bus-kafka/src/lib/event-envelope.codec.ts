import type { EventMetadata, JsonValue, RecordedEvent } from '@flagline/event-sourcing';

export const EVENT_MESSAGE_TYPE = 'flagline.event';
export const EVENT_SCHEMA_VERSION = 1;

/**
 * A recorded event as a Kafka message value (JSON). The message type and schema version let a
 * consumer recognise what it reads before trusting the rest; `occurredAt` repeats the metadata's
 * for consumers that only need the time. Adding an optional field needs no new version; any
 * other shape change does.
 */
export interface EventEnvelopeV1 {
  readonly messageType: typeof EVENT_MESSAGE_TYPE;
  readonly schemaVersion: typeof EVENT_SCHEMA_VERSION;
  readonly id: string;
  readonly type: string;
  readonly streamName: string;
  readonly streamRevision: number;
  readonly globalPosition: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
}

/** Why a message value is not an event this consumer can read. */
export type EnvelopeDecodeFailure = 'malformed-envelope' | 'unsupported-message-type' | 'unsupported-schema-version';

export class EnvelopeDecodeError extends Error {
  override readonly name = 'EnvelopeDecodeError';

  constructor(
    readonly reason: EnvelopeDecodeFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The message key: the project, so all of a project's events share a partition and keep their
 * log order (projections read a project's documents as one unit); events outside any project
 * (users, organisations) are ordered per stream.
 */
export function messageKeyOf(event: RecordedEvent): string {
  return event.metadata.projectId ?? event.streamName;
}

export function encodeEventEnvelope(event: RecordedEvent): string {
  const envelope: EventEnvelopeV1 = {
    messageType: EVENT_MESSAGE_TYPE,
    schemaVersion: EVENT_SCHEMA_VERSION,
    id: event.id,
    type: event.type,
    streamName: event.streamName,
    streamRevision: event.streamRevision,
    globalPosition: event.globalPosition,
    occurredAt: event.metadata.occurredAt,
    recordedAt: event.recordedAt,
    data: event.data as JsonValue,
    metadata: event.metadata,
  };
  return JSON.stringify(envelope);
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPosition = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function malformed(message: string): EnvelopeDecodeError {
  return new EnvelopeDecodeError('malformed-envelope', message);
}

function requireString(fields: Fields, name: string, where = ''): string {
  const value = fields[name];
  if (typeof value !== 'string') throw malformed(`${where}${name} must be a string`);
  return value;
}

function optionalString(fields: Fields, name: string, where: string): void {
  if (fields[name] !== undefined && typeof fields[name] !== 'string') throw malformed(`${where}${name} must be a string when present`);
}

function decodeMetadata(value: unknown): EventMetadata {
  if (!isObject(value)) throw malformed('metadata must be an object');
  const { actor } = value;
  if (!isObject(actor)) throw malformed('metadata.actor must be an object');
  requireString(actor, 'kind', 'metadata.actor.');
  requireString(actor, 'id', 'metadata.actor.');
  requireString(value, 'occurredAt', 'metadata.');
  requireString(value, 'correlationId', 'metadata.');
  for (const name of ['causationId', 'organisationId', 'projectId']) optionalString(value, name, 'metadata.');
  // Fields this version does not know are kept: later producers may add optional ones.
  return value as unknown as EventMetadata;
}

/** Reads a message value back into the recorded event; throws EnvelopeDecodeError if it cannot. */
export function decodeEventEnvelope(value: Buffer | string | null): RecordedEvent {
  if (value === null) throw malformed('the message has no value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    throw malformed('the message value is not JSON');
  }
  if (!isObject(parsed)) throw malformed('the message value is not a JSON object');
  if (parsed['messageType'] !== EVENT_MESSAGE_TYPE) {
    throw new EnvelopeDecodeError('unsupported-message-type', `messageType ${JSON.stringify(parsed['messageType'])} is not ${EVENT_MESSAGE_TYPE}`);
  }
  if (parsed['schemaVersion'] !== EVENT_SCHEMA_VERSION) {
    throw new EnvelopeDecodeError('unsupported-schema-version', `schemaVersion ${JSON.stringify(parsed['schemaVersion'])} is not ${EVENT_SCHEMA_VERSION}`);
  }
  if (!isPosition(parsed['streamRevision'])) throw malformed('streamRevision must be a non-negative integer');
  if (!isPosition(parsed['globalPosition'])) throw malformed('globalPosition must be a non-negative integer');
  if (!('data' in parsed)) throw malformed('data is missing');
  return {
    id: requireString(parsed, 'id'),
    type: requireString(parsed, 'type'),
    data: parsed['data'],
    metadata: decodeMetadata(parsed['metadata']),
    streamName: requireString(parsed, 'streamName'),
    streamRevision: parsed['streamRevision'],
    globalPosition: parsed['globalPosition'],
    recordedAt: requireString(parsed, 'recordedAt'),
  };
}
