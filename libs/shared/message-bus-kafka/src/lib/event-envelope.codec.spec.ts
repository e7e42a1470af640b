import { aRecordedEvent } from '@flagline/event-sourcing/testing';
import { EnvelopeDecodeError, decodeEventEnvelope, encodeEventEnvelope, messageKeyOf } from './event-envelope.codec';

const event = aRecordedEvent({
  id: 'e-1',
  type: 'FeatureCreated',
  streamName: 'feature-42',
  streamRevision: 3,
  globalPosition: 120,
  data: { name: 'zoë 🚀', list: [1, null, true] },
  metadata: { actor: { kind: 'user', id: 'u-1' }, occurredAt: '2026-05-01T10:00:00.000Z', correlationId: 'c-1', projectId: 'project-9' },
});

function decodeFailure(value: string | null): EnvelopeDecodeError {
  try {
    decodeEventEnvelope(value);
  } catch (error) {
    if (error instanceof EnvelopeDecodeError) return error;
    throw error;
  }
  throw new Error('decoded');
}

describe('event envelope codec', () => {
  it('writes a versioned envelope with the stream position and occurrence time', () => {
    expect(JSON.parse(encodeEventEnvelope(event))).toEqual({
      messageType: 'flagline.event',
      schemaVersion: 1,
      id: 'e-1',
      type: 'FeatureCreated',
      streamName: 'feature-42',
      streamRevision: 3,
      globalPosition: 120,
      occurredAt: '2026-05-01T10:00:00.000Z',
      recordedAt: event.recordedAt,
      data: { name: 'zoë 🚀', list: [1, null, true] },
      metadata: event.metadata,
    });
  });

  it('reads back exactly the event it wrote, from text or bytes', () => {
    expect(decodeEventEnvelope(encodeEventEnvelope(event))).toEqual(event);
    expect(decodeEventEnvelope(Buffer.from(encodeEventEnvelope(event)))).toEqual(event);
  });

  it('keeps fields a newer producer added', () => {
    const envelope = { ...JSON.parse(encodeEventEnvelope(event)), traceId: 't-1' };
    envelope.metadata.tenant = 'eu';
    expect(decodeEventEnvelope(JSON.stringify(envelope)).metadata).toMatchObject({ tenant: 'eu' });
  });

  it('keys by project, or by stream outside any project', () => {
    expect(messageKeyOf(event)).toBe('project-9');
    expect(messageKeyOf(aRecordedEvent({ streamName: 'user-7', metadata: { projectId: undefined } }))).toBe('user-7');
  });

  it.each([
    ['no value', null, 'malformed-envelope'],
    ['text that is not JSON', '{"messageType":', 'malformed-envelope'],
    ['a JSON array', '[]', 'malformed-envelope'],
    ['another message type', '{"messageType":"flagline.command","schemaVersion":1}', 'unsupported-message-type'],
    ['a newer schema version', '{"messageType":"flagline.event","schemaVersion":2}', 'unsupported-schema-version'],
  ])('refuses %s', (_case, value, reason) => {
    expect(decodeFailure(value).reason).toBe(reason);
  });

  it.each([
    ['a negative stream revision', { streamRevision: -1 }],
    ['a fractional global position', { globalPosition: 1.5 }],
    ['a numeric id', { id: 7 }],
    ['no stream name', { streamName: undefined }],
    ['no data', { data: undefined }],
    ['metadata without actor', { metadata: { occurredAt: 'x', correlationId: 'c' } }],
    ['a numeric project id', { metadata: { ...event.metadata, projectId: 9 } }],
  ])('refuses an envelope with %s as malformed', (_case, change) => {
    const envelope = JSON.parse(encodeEventEnvelope(event)) as Record<string, unknown>;
    const value = JSON.stringify({ ...envelope, ...change });
    expect(decodeFailure(value).reason).toBe('malformed-envelope');
  });
});
