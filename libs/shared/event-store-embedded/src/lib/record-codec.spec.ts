import type { EventMetadata, JsonValue, NewEvent } from '@flagline/event-sourcing';
import { decodeAppend, encodeAppend, FRAME_HEADER_BYTES, payloadHead, recordedEventsOf, recordedEventsOfPlain, type StoredAppend } from './record-codec';

const metadata: EventMetadata = {
  actor: { kind: 'environment-key', id: 'ser.', name: 'server-side key' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'c-1',
  organisationId: '1',
};

function anAppend(events: readonly NewEvent[], freshIds = false): StoredAppend {
  return { streamName: 'identity-ab"c', firstRevision: 3, firstPosition: 17, recordedAt: '2026-01-01T00:00:01.000Z', events, ...(freshIds ? { freshIds: true as const } : {}) };
}

/** A deep copy made in this realm (structuredClone's objects come from Node's own, whose Object.prototype differs under jest). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const plainData = { identifier: 'ada', set: { plan: 'pro', age: 36, beta: true, ratio: 0.5, __note: null }, removed: ['old'], floats: [], nested: [[1, 'two'], { deep: { er: 'é😀' } }] };

describe('record codec', () => {
  it("reads a payload's stream, first revision and first position from its head, the name only when it has no escape", () => {
    const event: NewEvent = { id: 'e-1', type: 'Seen', data: {}, metadata };
    expect(payloadHead(encodeAppend({ ...anAppend([event]), streamName: 'identity-abc' }).text)).toEqual({ streamName: 'identity-abc', firstRevision: 3, firstPosition: 17 });
    // 'identity-ab"c' is written with an escape: the positions are read, the name is left to decoding.
    expect(payloadHead(encodeAppend(anAppend([event])).text)).toEqual({ streamName: null, firstRevision: 3, firstPosition: 17 });
    // Another writer's order of fields: not read.
    expect(payloadHead(JSON.stringify({ firstPosition: 17, streamName: 'identity-abc', firstRevision: 3 }))).toBeNull();
  });

  it('serves a fresh append of plain JSON from its own objects, frozen, equal to what is read back from its text', () => {
    const data = copy(plainData) as JsonValue;
    const meta = copy(metadata);
    const append = anAppend([{ id: 'e-1', type: 'IdentityCreated', data: { createdAt: 'x' }, metadata: meta }, { id: 'e-2', type: 'IdentityTraitsChanged', data, metadata: meta }], true);
    const served = recordedEventsOfPlain(append);
    expect(served).toEqual(recordedEventsOf(encodeAppend(append).text));
    expect(served?.[1]?.data).toBe(data);
    expect(Object.isFrozen(data)).toBe(true);
    expect(Object.isFrozen((data as { set: object }).set)).toBe(true);
    expect(Object.isFrozen(meta.actor)).toBe(true);
    expect(() => {
      'use strict';
      (data as { identifier: string }).identifier = 'changed';
    }).toThrow(TypeError);
    // What a reopen decodes from the frame.
    expect(decodeAppend(encodeAppend(append).frame.subarray(FRAME_HEADER_BYTES)).events.map((event) => event.data)).toEqual([{ createdAt: 'x' }, data]);
  });

  it.each([
    ['an undefined member', { a: undefined }],
    ['a date', { at: new Date(0) }],
    ['a class instance', { value: new (class Boxed { constructor(readonly n = 1) {} })() }],
    ['NaN', { n: Number.NaN }],
    ['an infinity', [Number.POSITIVE_INFINITY]],
    ['minus zero', { n: -0 }],
    ['an array hole', [1, , 3]],
    ['a function', { f: () => 1 }],
    ['a bigint', { n: BigInt(1) }],
  ])('reads back (null, nothing frozen) data JSON would change: %s', (_name, value) => {
    const data = value as unknown as JsonValue;
    const append = anAppend([{ id: 'e-1', type: 'A', data, metadata: copy(metadata) }], true);
    expect(recordedEventsOfPlain(append)).toBeNull();
    expect(Object.isFrozen(data)).toBe(false);
  });

  it('reads back metadata that is not a plain object', () => {
    const append = anAppend([{ id: 'e-1', type: 'A', data: 1, metadata: { ...metadata, at: new Date(0) } as unknown as EventMetadata }], true);
    expect(recordedEventsOfPlain(append)).toBeNull();
    expect(recordedEventsOfPlain(anAppend([{ id: 'e-1', type: 'A', data: 1, metadata: [] as unknown as EventMetadata }], true))).toBeNull();
  });
});
