import { isSealedData, openedDataText, openSealedBox, withOpenedData, type SealingKey } from '@flagline/event-sealing';
import { payloadHead, recordedEventsOf } from '@flagline/event-store-embedded';

/** Finds the key of a stream's sealed events (see `LogOrderKeys`): the revision tells a stream's first event from later ones. */
export type KeyFor = (event: { readonly streamName: string; readonly streamRevision: number }) => SealingKey | undefined;

/** What every sealed box starts with, in the text `encodeAppend` writes: a payload without it has none. */
const SEALED_MARK = '"sealed":{"v":1,';
/** The start of an event, and of its data (an object: a sealed event's always is), read where an event starts. */
const EVENT_START = '{"id":"';
const EVENT_HEAD = /\{"id":"([^"\\]*)","type":"[^"\\]*","data":\{/y;
/**
 * A sealed box, the last field of its event's data (`sealEvent` adds it last), the data's closing
 * brace and the event's next field: the box's end is the data's. Read where a box starts.
 */
const SEALED_BOX = /"sealed":\{"v":1,"kid":"([^"\\]*)","iv":"([^"\\]*)","ct":"([^"\\]*)"\}\},"metadata":/y;
const AFTER_DATA = ',"metadata":'.length;

/**
 * A payload's text with its sealed events opened: each sealed event's data is the text it was
 * sealed from, or what it reads as once erased; a payload without a sealed box is handed on as
 * it is. The rest of the payload is unchanged, so decoding the result gives the events the store
 * would serve opened (`openEvent`).
 *
 * The boxes are found and replaced in the text, without decoding the payload (the rebuild's main
 * thread opens every event of the log, and decoding each was a third of its time). Each box is
 * bound to its event by the event's id in the associated data, so a box taken for another
 * event's does not open; where anything does not match that shape (a key gone or replaced, a
 * stream name with escapes, a box not opening), the payload is decoded and opened event by event,
 * which reads an erased event as erased and reports a box altered.
 */
export function openedPayloadText(text: string, keyFor: KeyFor): string {
  const firstBox = text.indexOf(SEALED_MARK);
  if (firstBox === -1) return text;
  return openedInPlace(text, firstBox, keyFor) ?? openedByDecoding(text, keyFor);
}

/** `openedPayloadText` in the text, from its first box on, or null where the payload is not of the shape it reads. */
function openedInPlace(text: string, firstBox: number, keyFor: KeyFor): string | null {
  const head = payloadHead(text);
  const streamName = head?.streamName;
  if (!head || !streamName) return null;
  // One stream per payload, so one key for all its sealed events.
  const key = keyFor({ streamName, streamRevision: head.firstRevision });
  if (!key) return null;
  let opened = '';
  let copied = 0;
  for (let at = firstBox; at !== -1; at = text.indexOf(SEALED_MARK, copied)) {
    SEALED_BOX.lastIndex = at;
    const box = SEALED_BOX.exec(text);
    if (!box || box[1] !== key.id) return null;
    // The box's event: the nearest event start before it, after the previous box's event.
    const eventAt = text.lastIndexOf(EVENT_START, at);
    if (eventAt < copied) return null;
    EVENT_HEAD.lastIndex = eventAt;
    const event = EVENT_HEAD.exec(text);
    if (!event) return null;
    let plain: string;
    try {
      plain = openSealedBox(streamName, event[1] as string, { iv: box[2] as string, ct: box[3] as string }, key);
    } catch {
      return null;
    }
    opened += text.slice(copied, EVENT_HEAD.lastIndex - 1) + plain;
    copied = SEALED_BOX.lastIndex - AFTER_DATA;
  }
  return opened + text.slice(copied);
}

/** `openedPayloadText` by decoding the payload and writing it again, event by event. */
function openedByDecoding(text: string, keyFor: KeyFor): string {
  const events = recordedEventsOf(text);
  const first = events[0];
  if (!first) return text;
  const texts = events.map((event) => {
    const data: unknown = event.data;
    const opened = isSealedData(data) ? (openedDataText(event, data, keyFor(event)) ?? JSON.stringify(withOpenedData(event, data, null).data)) : JSON.stringify(data);
    return `{"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)},"data":${opened},"metadata":${JSON.stringify(event.metadata)}}`;
  });
  return `{"streamName":${JSON.stringify(first.streamName)},"firstRevision":${first.streamRevision},"firstPosition":${first.globalPosition},"recordedAt":${JSON.stringify(first.recordedAt)},"events":[${texts.join(',')}]}`;
}
