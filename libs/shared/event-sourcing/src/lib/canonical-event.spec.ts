import type { RecordedEvent } from './event';
import { canonicalEventBytes } from './canonical-event';

const event = {
  id: 'e-1',
  type: 'FeatureCreated',
  streamName: 'project-1',
  streamRevision: 3,
  globalPosition: 42,
  recordedAt: '2026-12-06T10:00:00.000Z',
  data: { name: 'banner', value: 1.5, projectId: 1, nested: { z: 'é', a: [2, 1] } },
  metadata: { actor: { kind: 'user', id: '7' }, occurredAt: '2026-12-06T10:00:00.000Z', correlationId: 'c' },
} as unknown as RecordedEvent;

describe('canonicalEventBytes', () => {
  it('writes RFC 8785 JSON: keys sorted at every level, no whitespace, UTF-8, without the global position', () => {
    expect(canonicalEventBytes(event).toString('utf8')).toBe(
      '{"data":{"name":"banner","nested":{"a":[2,1],"z":"é"},"projectId":1,"value":1.5},"id":"e-1",' +
        '"metadata":{"actor":{"id":"7","kind":"user"},"correlationId":"c","occurredAt":"2026-12-06T10:00:00.000Z"},' +
        '"recordedAt":"2026-12-06T10:00:00.000Z","streamName":"project-1","streamRevision":3,"type":"FeatureCreated"}',
    );
  });

  it('does not depend on the order the fields were written in, and changes with any byte of the event', () => {
    const reordered = { metadata: event.metadata, data: { nested: { a: [2, 1], z: 'é' }, value: 1.5, projectId: 1, name: 'banner' }, recordedAt: event.recordedAt, type: event.type, streamRevision: 3, streamName: 'project-1', id: 'e-1' };
    expect(canonicalEventBytes(reordered).equals(canonicalEventBytes(event))).toBe(true);
    expect(canonicalEventBytes({ ...reordered, streamRevision: 4 }).equals(canonicalEventBytes(event))).toBe(false);
    expect(canonicalEventBytes({ ...reordered, data: { ...reordered.data, name: 'Banner' } }).equals(canonicalEventBytes(event))).toBe(false);
  });
});
