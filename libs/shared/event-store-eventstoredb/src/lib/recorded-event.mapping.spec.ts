import { UUID, StreamIdentifier } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb';
import { ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
// The client's own decoders: reads go through the native bridge (convertRustRecord),
// subscriptions through gRPC (convertGrpcRecord). The events below are decoded exactly as in use.
import { convertGrpcRecord } from '@kurrent/kurrentdb-client/dist/utils/convertGrpcEvent';
import { convertRustRecord } from '@kurrent/kurrentdb-client/dist/utils/convertRustEvent';
import type { EventMetadata } from '@flagline/event-sourcing';
import { UnsupportedPositionError } from './position.mapping';
import { UnsupportedRecordedEventError, toRecordedEvent } from './recorded-event.mapping';

const metadata: EventMetadata = {
  actor: { kind: 'user', id: 'user-1', name: 'ada@example.com' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'corr-1',
  projectId: 'project-1',
};
const data = { name: 'zoë 🚀', nested: { list: [1, 'two', true, null], n: -1.5 } };
const id = '0b0f6f3c-8a3e-4d52-9a57-0e1d3c7f2a11';
const created = new Date('2026-03-04T05:06:07.089Z');
const json = (value: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));

interface BridgeRecordOverrides {
  isJson?: boolean;
  data?: Uint8Array;
  metadata?: Uint8Array;
  position?: { commit: bigint; prepare: bigint } | undefined;
  revision?: bigint;
}

/** A record as the native bridge hands it to the client for readStream / readAll. */
function fromBridge(overrides: BridgeRecordOverrides = {}) {
  return convertRustRecord({
    streamId: 'feature-1',
    id,
    type: 'FeatureCreated',
    isJson: overrides.isJson ?? true,
    revision: overrides.revision ?? 3n,
    created: created.getTime(),
    data: overrides.data ?? json(data),
    metadata: overrides.metadata ?? json(metadata),
    ...('position' in overrides ? { position: overrides.position } : { position: { commit: 123_456n, prepare: 123_456n } }),
  });
}

/** A record as the server sends it on a $all subscription. */
function fromGrpc(position: { commit: string; prepare: string }) {
  const record = new ReadResp.ReadEvent.RecordedEvent()
    .setId(new UUID().setString(id))
    .setStreamIdentifier(new StreamIdentifier().setStreamName(Buffer.from('feature-1', 'utf8')))
    .setStreamRevision('3')
    .setCommitPosition(position.commit)
    .setPreparePosition(position.prepare)
    .setData(json(data))
    .setCustomMetadata(json(metadata));
  record.getMetadataMap().set('type', 'FeatureCreated');
  record.getMetadataMap().set('content-type', 'application/json');
  // .NET ticks (100 ns) since the Unix epoch, as the server writes them.
  record.getMetadataMap().set('created', (BigInt(created.getTime()) * 10_000n).toString());
  return convertGrpcRecord(record);
}

describe('toRecordedEvent', () => {
  const expected = {
    id,
    type: 'FeatureCreated',
    data,
    metadata,
    streamName: 'feature-1',
    streamRevision: 3,
    globalPosition: 123_456,
    recordedAt: '2026-03-04T05:06:07.089Z',
  };

  it('maps an event read through the native bridge', () => {
    expect(toRecordedEvent(fromBridge())).toEqual(expected);
  });

  it('maps an event received on a gRPC subscription', () => {
    expect(toRecordedEvent(fromGrpc({ commit: '123456', prepare: '123456' }))).toEqual(expected);
  });

  it('keeps JSON data that is not an object', () => {
    expect(toRecordedEvent(fromBridge({ data: json([1, 2]) })).data).toEqual([1, 2]);
    expect(toRecordedEvent(fromBridge({ data: json('text') })).data).toBe('text');
  });

  it('refuses binary data', () => {
    expect(() => toRecordedEvent(fromBridge({ isJson: false }))).toThrow(UnsupportedRecordedEventError);
  });

  it('refuses events without a JSON metadata object', () => {
    expect(() => toRecordedEvent(fromBridge({ metadata: new Uint8Array() }))).toThrow('its metadata is not a JSON object');
    expect(() => toRecordedEvent(fromBridge({ metadata: new Uint8Array(Buffer.from('not json')) }))).toThrow(UnsupportedRecordedEventError);
    expect(() => toRecordedEvent(fromBridge({ metadata: json([metadata]) }))).toThrow(UnsupportedRecordedEventError);
  });

  it('refuses an event whose position the server did not report', () => {
    expect(() => toRecordedEvent(fromBridge({ position: undefined }))).toThrow('did not report its $all position');
  });

  it('refuses an event of a legacy explicit transaction', () => {
    expect(() => toRecordedEvent(fromGrpc({ commit: '2000', prepare: '1500' }))).toThrow(UnsupportedPositionError);
  });

  it('throws rather than rounding unsafe positions and revisions', () => {
    const beyond = 2n ** 53n;
    expect(() => toRecordedEvent(fromBridge({ position: { commit: beyond, prepare: beyond } }))).toThrow(RangeError);
    expect(() => toRecordedEvent(fromBridge({ revision: beyond }))).toThrow(RangeError);
  });
});
