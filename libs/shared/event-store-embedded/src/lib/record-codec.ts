import { crc32 } from 'node:zlib';
import { deepFreeze } from '@flagline/contracts';
import type { EventMetadata, JsonValue, NewEvent, RecordedEvent } from '@flagline/event-sourcing';

/** Bytes at the start of every log file: format name and version. */
export const LOG_FILE_MAGIC = Buffer.from('FLGLOG01', 'latin1');

/** `[u32 LE payload length][u32 LE crc32 of length bytes + payload]`. */
export const FRAME_HEADER_BYTES = 8;

/** Upper bound for one append; a larger length in a frame header can only be damage. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Bytes every append's payload starts with (`encodeAppend` writes `streamName` first). */
export const APPEND_PAYLOAD_PREFIX = Buffer.from('{"streamName":', 'latin1');

/** The head of a payload, as `encodeAppend` writes it, up to its first event's position. */
const PAYLOAD_HEAD = /^\{"streamName":"((?:[^"\\]|\\.)*)","firstRevision":(\d+),"firstPosition":(\d+),/;

/** What the head of a payload says, read without decoding the payload (`payloadHead`). */
export interface PayloadHead {
  /** The stream's name, or null when its text holds an escape (then the payload must be decoded to know it). */
  readonly streamName: string | null;
  readonly firstRevision: number;
  readonly firstPosition: number;
}

/**
 * The stream and first revision and position of a payload `encodeAppend` wrote, read with one
 * anchored match of its head instead of decoding it (a reader that hands the text on undecoded);
 * null for a text not of that shape, which the reader must decode.
 */
export function payloadHead(text: string): PayloadHead | null {
  const head = PAYLOAD_HEAD.exec(text);
  if (!head) return null;
  const name = head[1] as string;
  return { streamName: name.includes('\\') ? null : name, firstRevision: Number(head[2]), firstPosition: Number(head[3]) };
}

/** One append as the log stores it: the whole batch in one record, so it survives a crash whole or not at all. */
export interface StoredAppend {
  readonly streamName: string;
  readonly firstRevision: number;
  readonly firstPosition: number;
  readonly recordedAt: string;
  readonly events: readonly NewEvent[];
  /** The ids were made for this append (`AppendOptions.freshIds`): the index keeps no id row for them. Absent when false. */
  readonly freshIds?: true;
}

export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  constructor(readonly payloadBytes: number) {
    super(`An append of ${payloadBytes} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES} bytes`);
  }
}

export function frameChecksum(lengthBytes: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(lengthBytes));
}

/** Serialises an append into one checksummed frame (`text` is its payload as a string); throws on values JSON cannot carry. */
export function encodeAppend(append: StoredAppend): { frame: Buffer; text: string } {
  const json = JSON.stringify({
    streamName: append.streamName,
    firstRevision: append.firstRevision,
    firstPosition: append.firstPosition,
    recordedAt: append.recordedAt,
    events: append.events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })),
    // Written only when set, so every other record keeps the bytes it always had.
    ...(append.freshIds ? { freshIds: true } : {}),
  });
  const payloadBytes = Buffer.byteLength(json, 'utf8');
  if (payloadBytes > MAX_PAYLOAD_BYTES) throw new RecordTooLargeError(payloadBytes);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.writeUInt32LE(payloadBytes, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  const payload = frame.subarray(FRAME_HEADER_BYTES);
  frame.writeUInt32LE(frameChecksum(frame.subarray(0, 4), payload), 4);
  return { frame, text: json };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function checkEvent(value: unknown): asserts value is Record<string, unknown> & { id: string; type: string; metadata: Record<string, unknown> } {
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['type'] !== 'string') {
    throw new RecordFormatError('event without id or type');
  }
  if (!('data' in value) || !isObject(value['metadata'])) throw new RecordFormatError(`event ${value['id']} without data or metadata`);
}

function decodeEvent(value: unknown): NewEvent {
  checkEvent(value);
  return {
    id: value.id,
    type: value.type,
    data: value['data'] as JsonValue,
    metadata: value.metadata as unknown as EventMetadata,
  };
}

/** The append a payload holds, its events not yet checked. */
interface ParsedAppend {
  readonly streamName: string;
  readonly firstRevision: number;
  readonly firstPosition: number;
  readonly recordedAt: string;
  readonly events: readonly unknown[];
  readonly freshIds?: unknown;
}

function parseAppend(text: string): ParsedAppend {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RecordFormatError(`payload is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (
    !isObject(parsed) ||
    typeof parsed['streamName'] !== 'string' ||
    !isCount(parsed['firstRevision'], 0) ||
    !isCount(parsed['firstPosition'], 1) ||
    typeof parsed['recordedAt'] !== 'string' ||
    !Array.isArray(parsed['events']) ||
    parsed['events'].length === 0
  ) {
    throw new RecordFormatError('payload is not an append');
  }
  return parsed as unknown as ParsedAppend;
}

/** Parses and shape-checks a payload whose checksum already matched. */
export function decodeAppend(payload: Buffer): StoredAppend {
  const parsed = parseAppend(payload.toString('utf8'));
  return {
    streamName: parsed.streamName,
    firstRevision: parsed.firstRevision,
    firstPosition: parsed.firstPosition,
    recordedAt: parsed.recordedAt,
    events: parsed.events.map(decodeEvent),
    ...(parsed.freshIds === true ? { freshIds: true as const } : {}),
  };
}

/** The same as `decodeAppend` followed by `toRecordedEvents`, in one pass: what reads of the log decode. */
export function decodeRecordedEvents(payload: Buffer): RecordedEvent[] {
  return recordedEventsOf(payload.toString('utf8'));
}

/** `decodeRecordedEvents` of a payload still in the string it was encoded from (`encodeAppend`'s `text`). */
export function recordedEventsOf(text: string): RecordedEvent[] {
  const { streamName, firstRevision, firstPosition, recordedAt, events } = parseAppend(text);
  return events.map((event, index) => {
    checkEvent(event);
    return {
      id: event.id,
      type: event.type,
      data: event['data'] as JsonValue,
      metadata: event.metadata as unknown as EventMetadata,
      streamName,
      streamRevision: firstRevision + index,
      globalPosition: firstPosition + index,
      recordedAt,
    };
  });
}

/** Whether JSON would carry the value as it is: strings, booleans, finite numbers (not -0), null, arrays without holes and plain objects of them, at most 64 levels deep. */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        for (let index = 0; index < value.length; index++) if (!isPlainJson(value[index], depth + 1)) return false;
        return true;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      return false;
  }
}

/**
 * The recorded events of an append built from its own event objects, deep-frozen, when every
 * event is what `recordedEventsOf(encodeAppend(append).text)` would read back (plain JSON data and
 * metadata, string id and type), so that nothing need be parsed again; null otherwise (the caller
 * then reads the text back). Frozen: the caller can no longer change what the log holds in memory.
 */
export function recordedEventsOfPlain(append: StoredAppend): RecordedEvent[] | null {
  for (const event of append.events) {
    const { metadata } = event as { metadata: unknown };
    if (typeof event.id !== 'string' || typeof event.type !== 'string' || !isObject(metadata) || !isPlainJson(metadata, 0) || !isPlainJson(event.data, 0)) return null;
  }
  for (const event of append.events) {
    deepFreeze(event.data);
    // One command's events share their metadata: frozen once, then passed over.
    deepFreeze(event.metadata);
  }
  return toRecordedEvents(append);
}

export function toRecordedEvents(append: StoredAppend): RecordedEvent[] {
  return append.events.map((event, index) => ({
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    streamName: append.streamName,
    streamRevision: append.firstRevision + index,
    globalPosition: append.firstPosition + index,
    recordedAt: append.recordedAt,
  }));
}
