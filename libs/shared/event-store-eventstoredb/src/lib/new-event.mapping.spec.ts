import { DuplicateEventIdError, type NewEvent } from '@flagline/event-sourcing';
import { toEventData } from './new-event.mapping';

const metadata: NewEvent['metadata'] = {
  actor: { kind: 'user', id: 'user-1' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'corr-1',
};

function anEvent(id: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return { id, type: 'FeatureCreated', data: { name: 'dark-mode' }, metadata, ...overrides };
}

const ID_1 = '0b0f6f3c-8a3e-4d52-9a57-0e1d3c7f2a11';
const ID_2 = '7d9e2c41-1f0a-4b6e-8c3d-5a2b9e4f6c22';

describe('toEventData', () => {
  it('makes JSON events with the same id, type, data and metadata', () => {
    const [data] = toEventData([anEvent(ID_1)]);
    expect(data).toEqual({ id: ID_1, contentType: 'application/json', type: 'FeatureCreated', data: { name: 'dark-mode' }, metadata });
  });

  it('passes JSON values that are not objects', () => {
    const events = toEventData([anEvent(ID_1, { data: null }), anEvent(ID_2, { data: 42 })]);
    expect(events.map((event) => event.data)).toEqual([null, 42]);
  });

  it('does not hand the caller’s metadata object to the client', () => {
    const event = anEvent(ID_1);
    expect(toEventData([event])[0]?.metadata).not.toBe(event.metadata);
  });

  it.each(['not-a-uuid', ID_1.toUpperCase(), `{${ID_1}}`])('refuses the id %s (the server returns lower-case UUIDs)', (id) => {
    expect(() => toEventData([anEvent(id)])).toThrow(RangeError);
  });

  it('refuses an id repeated within the batch', () => {
    expect(() => toEventData([anEvent(ID_1), anEvent(ID_1)])).toThrow(DuplicateEventIdError);
  });

  it('refuses event types reserved for the server', () => {
    expect(() => toEventData([anEvent(ID_1, { type: '$metadata' })])).toThrow(RangeError);
  });
});
