import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JsonValue, NewEvent, RecordedEvent } from '@flagline/event-sourcing';
import type { SealingKey } from './sealing-key.store';

/** Which events carry personal data, and which fields of their data are personal. */
export interface SealingPolicy {
  /** True for a stream whose events are sealed: each such stream has a key of its own. */
  sealsStream(streamName: string): boolean;
  /** Fields of a sealed event's data that are personal: kept only in the sealed box, read as erased once its key is gone. */
  readonly personalFields: readonly string[];
}

/**
 * The sealed box in a stored event's data, version 1: AES-256-GCM under the stream's key (named
 * by `kid`), a random 96-bit `iv` per event, and `ct` the ciphertext of the event's whole data
 * (JSON) followed by the 128-bit tag, all base64. The associated data binds the box to its event:
 * the stream name and the event id, so a box moved to another event does not open.
 */
export interface SealedBox {
  readonly v: 1;
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
}

/** A stored event's data that carries a sealed box: the public fields beside it, in the clear. */
export type SealedData = { readonly sealed: SealedBox } & Record<string, JsonValue>;

/** What an event whose key was destroyed reads as: its public fields and `erased: true` in place of the personal ones. */
export type ErasedData = { readonly erased: true } & Record<string, JsonValue>;

/** A sealed event that does not open although its key is there: its bytes were changed. */
export class SealedEventError extends Error {
  override readonly name = 'SealedEventError';
  constructor(readonly eventId: string) {
    super(`Event ${eventId} does not open with its stream's key: its sealed box was altered`);
  }
}

const TAG_BYTES = 16;

/**
 * Random bytes drawn from the CSPRNG 16 KiB at a time and handed out once each: a draw costs
 * about as much for 12 bytes as for thousands (the identify path takes a key and a nonce for
 * every new identity), as `randomUUID` caches its entropy for the same reason.
 */
class RandomPool {
  private pool = Buffer.alloc(0);
  private offset = 0;

  /** `size` bytes never handed out before, in a buffer of their own. */
  take(size: number): Buffer {
    const view = this.lend(size);
    const bytes = Buffer.from(view);
    // Handed out once: the pool keeps no copy of what it gave.
    view.fill(0);
    return bytes;
  }

  /**
   * `size` bytes never handed out before, as a view of the pool, for a caller that uses them at
   * once (a nonce: copied by the cipher and written out) and then zeroes them itself.
   */
  lend(size: number): Buffer {
    if (this.offset + size > this.pool.length) {
      this.pool = randomBytes(Math.max(16_384, size));
      this.offset = 0;
    }
    const view = this.pool.subarray(this.offset, this.offset + size);
    this.offset += size;
    return view;
  }
}

const random = new RandomPool();

export function newSealingKey(): SealingKey {
  return { id: random.take(8).toString('hex'), key: random.take(32) };
}

const associatedData = (streamName: string, eventId: string): Buffer => Buffer.from(`${streamName}\u0000${eventId}`, 'utf8');

function isRecord(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when a stored event's data carries a sealed box. */
export function isSealedData(data: unknown): data is SealedData {
  return isRecord(data) && isRecord(data['sealed']) && data['sealed']['v'] === 1;
}

/** True when an event was read after its key was destroyed. */
export function isErasedData(data: unknown): data is ErasedData {
  return isRecord(data) && data['erased'] === true;
}

function publicFields(data: Record<string, JsonValue>, policy: SealingPolicy): Record<string, JsonValue> {
  const open: Record<string, JsonValue> = {};
  for (const field of Object.keys(data)) if (!policy.personalFields.includes(field)) open[field] = data[field] as JsonValue;
  return open;
}

/** The event as it is stored: its personal fields only in the sealed box (an event whose data is not an object is stored as it is). */
export function sealEvent(event: NewEvent, streamName: string, key: SealingKey, policy: SealingPolicy): NewEvent {
  const data = event.data;
  if (!isRecord(data)) return event;
  // The nonce is read from the pool where it lies (the cipher copies it), then zeroed there.
  const iv = random.lend(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  const ivText = iv.toString('base64');
  iv.fill(0);
  cipher.setAAD(associatedData(streamName, event.id));
  // GCM is a stream mode: update answers as many bytes as it is given, and final none.
  const body = cipher.update(JSON.stringify(data), 'utf8');
  const rest = cipher.final();
  const ct = Buffer.concat([body, rest, cipher.getAuthTag()], body.length + rest.length + TAG_BYTES);
  const stored = publicFields(data, policy);
  stored['sealed'] = { v: 1, kid: key.id, iv: ivText, ct: ct.toString('base64') } satisfies SealedBox;
  return { ...event, data: stored };
}

/**
 * The event as the code reads it: a sealed one opened with its stream's key (`key`), or read as
 * erased when that key is gone or is not the one that sealed it (the stream's identity was erased
 * and made again); an event without a box (written before sealing, or not personal) as it is.
 */
export function openEvent(event: RecordedEvent, key: SealingKey | undefined): RecordedEvent {
  const data: unknown = event.data;
  if (!isSealedData(data)) return event;
  return withOpenedData(event, data, openedDataText(event, data, key));
}

/**
 * The first half of `openEvent`: the JSON text a sealed event's data was sealed from, or null
 * when it reads as erased (its key gone, or not the one that sealed it). With `withOpenedData`,
 * one thread can open the events and hand the text to others (the rebuild's).
 */
export function openedDataText(event: RecordedEvent, data: SealedData, key: SealingKey | undefined): string | null {
  const { sealed } = data;
  if (!key || key.id !== sealed.kid) return null;
  return openSealedBox(event.streamName, event.id, sealed, key);
}

/**
 * The JSON text sealed in a box of the event `eventId` of `streamName`, under `key` (the one its
 * `kid` names): for a reader that finds the box's fields in the stored text without decoding the
 * event (the rebuild's). A box that does not open is a `SealedEventError`.
 */
export function openSealedBox(streamName: string, eventId: string, sealed: Pick<SealedBox, 'iv' | 'ct'>, key: SealingKey): string {
  const box = Buffer.from(sealed.ct, 'base64');
  if (box.length < TAG_BYTES) throw new SealedEventError(eventId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(associatedData(streamName, eventId));
    decipher.setAuthTag(box.subarray(box.length - TAG_BYTES));
    return Buffer.concat([decipher.update(box.subarray(0, box.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedEventError(eventId);
  }
}

/** The second half of `openEvent`: the sealed event with the data its `openedDataText` gave (null: read as erased). */
export function withOpenedData(event: RecordedEvent, data: SealedData, text: string | null): RecordedEvent {
  if (text === null) {
    const { sealed: _sealed, ...rest } = data;
    const erased: ErasedData = { ...rest, erased: true };
    return { ...event, data: erased };
  }
  try {
    return { ...event, data: JSON.parse(text) as JsonValue };
  } catch {
    throw new SealedEventError(event.id);
  }
}
