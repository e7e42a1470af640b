import { upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { openEvent, SealedEventError, sealEvent, SealingEventStore, type SealingKey, type SealingPolicy } from '@flagline/event-sealing';
import type { NewEvent, RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore, EventLogCorruptedError, recordedEventsOf, scanLogPayloads } from '@flagline/event-store-embedded';
import { newSealingKey } from '@flagline/event-sealing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openedPayloadText, type KeyFor } from './opened-payload';
import { eventsOfBatch, feedBatchOf } from './rebuild-parts';
import { LogOrderKeys, openKeyStore } from './sealing';

const policy: SealingPolicy = { sealsStream: (name) => name.startsWith('person-'), personalFields: ['name'] };
const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'rebuild-feed' };
let sequence = 0;
const event = (data: NewEvent['data']): NewEvent => ({ id: `e-${++sequence}`, type: 'PersonSeen', data, metadata });
/** A stream's first event as `LogOrderKeys` is asked for it. */
const firstOf = (streamName: string): RecordedEvent => ({ id: 'x', type: 'PersonSeen', data: {}, metadata, streamName, streamRevision: 0, globalPosition: 1, recordedAt: metadata.occurredAt });

// 5,000 keys made and made durable: seconds on a loaded host.
jest.setTimeout(60_000);

describe('the rebuild feed', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'flagline-rebuild-feed-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finds the key the store holds for every stream, in the order keys were made or not, past the pages it keeps, and none for a destroyed one', async () => {
    const keys = openKeyStore(dataDir);
    try {
      const owners = Array.from({ length: 5_000 }, (_, index) => `person-${index}`);
      const made = await Promise.all(owners.map((owner) => keys.ensure(owner, newSealingKey())));
      expect(await keys.destroy('person-2500')).toBe(true);
      const inOrder = new LogOrderKeys(keys);
      owners.forEach((owner, index) => expect(inOrder.keyFor(firstOf(owner))).toEqual(index === 2500 ? undefined : made[index]));
      // Asked again out of order (a stream's later events, streams far behind the pages kept, and an unknown one).
      const later = new LogOrderKeys(keys);
      for (const index of [4_999, 0, 17, 4_000, 2_500]) expect(later.keyFor({ ...firstOf(`person-${index}`), streamRevision: 3 })).toEqual(index === 2500 ? undefined : made[index]);
      expect(later.keyFor(firstOf('person-none'))).toBeUndefined();
    } finally {
      await keys.close();
    }
  });

  it('hands each worker records that decode to the events as the app reads them: opened, erased once their key is gone, unsealed ones as they are, cut at the head', async () => {
    const log = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
    const keys = openKeyStore(dataDir);
    try {
      const sealing = new SealingEventStore(log, keys, policy);
      await sealing.appendToStream('person-1', [event({ personId: 1, name: 'Ada' }), event({ personId: 1, name: 'Ada L.' })]);
      await sealing.appendToStream('project-1', [event({ name: 'Storefront' })]);
      await sealing.appendToStream('person-2', [event({ personId: 2, name: 'Grace', tags: ['a', 'é'] })]);
      await sealing.appendToStream('person-3', [event({ personId: 3, name: 'Alan' }), event({ personId: 3, name: 'Turing' })]);
      await keys.destroy('person-2');
      const expected = (await log.readAll()).map((stored) => upcastRecordedAdminEvent(openEvent(stored, keys.getNow(stored.streamName))));
      expect(expected.map((opened) => opened.data)).toContainEqual({ personId: 2, tags: ['a', 'é'], erased: true });
      expect(expected.map((opened) => opened.data)).toContainEqual({ personId: 1, name: 'Ada' });

      const order = new LogOrderKeys(keys);
      const keyFor: KeyFor = (stream) => order.keyFor(stream);
      const fed: RecordedEvent[] = [];
      for await (const payloads of scanLogPayloads({ directory: join(dataDir, 'events'), upTo: 5, batchRecords: 2 })) {
        const batch = feedBatchOf(payloads, keyFor);
        // The project's record is not sealed: handed on as the log holds it.
        for (const payload of payloads) if (payload.text.startsWith('{"streamName":"project-1"')) expect(batch.records.split('\n')).toContain(payload.text);
        fed.push(...eventsOfBatch(batch, 5, fed.at(-1)?.globalPosition ?? 0));
      }
      expect(fed).toEqual(expected.slice(0, 5));
      expect(JSON.stringify(fed)).not.toContain('"sealed"');
    } finally {
      await keys.close();
      await log.close();
    }
  });

  it('reads lots whose positions do not continue as a corrupted log', () => {
    const stream = (streamName: string, firstPosition: number, count: number): string =>
      JSON.stringify({ streamName, firstRevision: 0, firstPosition, recordedAt: metadata.occurredAt, events: Array.from({ length: count }, () => ({ id: `e-${++sequence}`, type: 'PersonSeen', data: {}, metadata })) });
    const keyFor: KeyFor = () => undefined;
    const lot = feedBatchOf([{ text: stream('project-1', 1, 2) }, { text: stream('project-2', 3, 1) }], keyFor);
    expect(eventsOfBatch(lot, 10, 0).map((read) => read.globalPosition)).toEqual([1, 2, 3]);
    // Cut at the head, inside a record.
    expect(eventsOfBatch(lot, 2, 0).map((read) => read.globalPosition)).toEqual([1, 2]);
    expect(() => eventsOfBatch(lot, 10, 1)).toThrow(EventLogCorruptedError);
    expect(() => eventsOfBatch(feedBatchOf([{ text: stream('project-1', 1, 2) }, { text: stream('project-2', 4, 1) }], keyFor), 10, 0)).toThrow(/position 4 after 2/);
  });

  it('keeps one record to a line when a payload holds line breaks between its tokens', () => {
    const text = JSON.stringify({ streamName: 'project-1', firstRevision: 0, firstPosition: 1, recordedAt: metadata.occurredAt, events: [{ id: 'e-n', type: 'PersonSeen', data: { note: 'a\nb' }, metadata }] }, null, 2);
    expect(text).toContain('\n');
    const lot = feedBatchOf([{ text }, { text: text.replace('"firstPosition": 1', '"firstPosition": 2').replace('e-n', 'e-m') }], () => undefined);
    expect(lot.records.split('\n')).toHaveLength(2);
    expect(eventsOfBatch(lot, 2, 0).map((read) => read.data)).toEqual([{ note: 'a\nb' }, { note: 'a\nb' }]);
  });
});

describe('openedPayloadText', () => {
  const key: SealingKey = newSealingKey();
  const streamName = 'person-7';
  const sealedPolicy: SealingPolicy = { sealsStream: () => true, personalFields: ['name', 'traits'] };
  /** A payload as the store writes it (`encodeAppend`'s fields and order, and `freshIds`, which the decoding path does not write again). */
  const payloadOf = (events: readonly NewEvent[], name = streamName): string =>
    JSON.stringify({ streamName: name, firstRevision: 0, firstPosition: 1, recordedAt: metadata.occurredAt, events: events.map(({ id, type, data, metadata: meta }) => ({ id, type, data, metadata: meta })), freshIds: true });
  const plain = [event({ personId: 7, name: 'Ada', traits: { plan: 'pro', seats: 3, note: '"sealed":{"v":1,' } }), event({ personId: 7, name: 'Ada L.' }), event({ personId: 7 })];
  const sealed = plain.map((one, index) => (index === 2 ? one : sealEvent(one, streamName, key, sealedPolicy)));
  const keyOf = (found: SealingKey | undefined): KeyFor => (stream) => (stream.streamName === streamName ? found : undefined);
  const decoded = (text: string): unknown[] => recordedEventsOf(text).map((read) => read.data);

  it('opens every sealed event of a payload in its text, and leaves the rest of the text as it was', () => {
    const text = payloadOf(sealed);
    expect(text.split('"sealed":{"v":1,')).toHaveLength(3);
    const opened = openedPayloadText(text, keyOf(key));
    expect(decoded(opened)).toEqual(plain.map((one) => one.data));
    // Opened in place: what the decoding path would not write again is still there.
    expect(opened.endsWith(',"freshIds":true}')).toBe(true);
    expect(opened.startsWith(text.slice(0, text.indexOf('"data":')))).toBe(true);
  });

  it('hands a payload without a sealed box on as it is', () => {
    const text = payloadOf(plain.slice(2));
    expect(openedPayloadText(text, keyOf(key))).toBe(text);
  });

  it('reads events whose key is gone, or was made again, as erased (decoding the payload)', () => {
    const text = payloadOf(sealed);
    for (const found of [undefined, newSealingKey()]) {
      expect(decoded(openedPayloadText(text, keyOf(found)))).toEqual([{ personId: 7, erased: true }, { personId: 7, erased: true }, { personId: 7 }]);
    }
  });

  it('reports a box whose ciphertext was altered, or which was moved to another event', () => {
    const text = payloadOf(sealed);
    const ct = /"ct":"([^"]*)"/.exec(text)?.[1] as string;
    const altered = text.replace(ct, `${ct.slice(0, 10)}${ct[10] === 'A' ? 'B' : 'A'}${ct.slice(11)}`);
    expect(() => openedPayloadText(altered, keyOf(key))).toThrow(SealedEventError);
    // The first event's box under the second event's id: its associated data no longer matches.
    const [first, second] = sealed as [NewEvent, NewEvent];
    const swapped = payloadOf([{ ...second, data: first.data }, first]);
    expect(() => openedPayloadText(swapped, keyOf(key))).toThrow(SealedEventError);
  });

  it('decodes a payload whose text it does not read in place, with the same result', () => {
    // A stream name with an escape, and a public field that looks like a box.
    const escaped = 'person-"7"';
    const escapedEvents = plain.slice(0, 1).map((one) => sealEvent(one, escaped, key, sealedPolicy));
    expect(decoded(openedPayloadText(payloadOf(escapedEvents, escaped), (stream) => (stream.streamName === escaped ? key : undefined)))).toEqual([plain[0]?.data]);
    const lookAlike = sealEvent(event({ personId: 7, name: 'Ada', extra: { sealed: { v: 1, kid: 'x', iv: 'y', ct: 'z' } } }), streamName, key, sealedPolicy);
    const opened = openedPayloadText(payloadOf([lookAlike]), keyOf(key));
    expect(decoded(opened)).toEqual([{ personId: 7, name: 'Ada', extra: { sealed: { v: 1, kid: 'x', iv: 'y', ct: 'z' } } }]);
  });
});

