import { describeEventStoreContract } from '../testing';
import type { NewEvent, RecordedEvent } from './event';
import { InMemoryEventStore } from './in-memory-event-store';
import { UpcastingEventStore } from './upcasting-event-store';

// With an upcaster that changes nothing it recognises, the wrapped store is still an event store.
describeEventStoreContract('in-memory behind the upcasting read boundary', () => {
  const store = new UpcastingEventStore(new InMemoryEventStore(), (event) => event);
  return Promise.resolve({ store, dispose: () => store.close() });
});

/** Version 1 of `Renamed` carried `title`; version 2 calls it `name`. */
const upcastRenamed = (event: RecordedEvent): RecordedEvent => {
  const data = event.data as Record<string, unknown>;
  if (event.type !== 'Renamed' || data['version'] === 2) return event;
  return { ...event, data: { version: 2, name: data['title'] } };
};

const metadata = { actor: { kind: 'user' as const, id: 'user-1', name: 'ada@example.com' }, occurredAt: '2026-12-05T00:00:00.000Z', correlationId: 'c-1' };
const event = (id: string, type: string, data: Record<string, string | number>): NewEvent => ({ id, type, data, metadata });

describe('UpcastingEventStore', () => {
  let inner: InMemoryEventStore;
  let store: UpcastingEventStore;

  beforeEach(async () => {
    inner = new InMemoryEventStore();
    store = new UpcastingEventStore(inner, upcastRenamed);
    await inner.appendToStream('thing-1', [
      event('00000000-0000-4000-8000-000000000001', 'Renamed', { title: 'old shape' }),
      event('00000000-0000-4000-8000-000000000002', 'Renamed', { version: 2, name: 'new shape' }),
      event('00000000-0000-4000-8000-000000000003', 'Other', { title: 'left alone' }),
    ]);
  });
  afterEach(() => store.close());

  it('upcasts events read by stream, keeping their order, ids and revisions', async () => {
    const { events, currentRevision } = await store.readStream('thing-1');
    expect(currentRevision).toBe(2);
    expect(events.map((e) => [e.id.slice(-1), e.streamRevision, e.data])).toEqual([
      ['1', 0, { version: 2, name: 'old shape' }],
      ['2', 1, { version: 2, name: 'new shape' }],
      ['3', 2, { title: 'left alone' }],
    ]);
  });

  it('upcasts events read in log order and through a subscription', async () => {
    expect((await store.readAll()).map((e) => e.data)).toEqual([{ version: 2, name: 'old shape' }, { version: 2, name: 'new shape' }, { title: 'left alone' }]);
    const seen: unknown[] = [];
    const subscription = store.subscribeToAll({}, (e) => {
      seen.push(e.data);
    });
    await subscription.caughtUp;
    await subscription.stop();
    expect(seen[0]).toEqual({ version: 2, name: 'old shape' });
  });

  it('stores appends as given: the log keeps what was written', async () => {
    await store.appendToStream('thing-2', [event('00000000-0000-4000-8000-000000000004', 'Renamed', { title: 'written old' })]);
    expect((await inner.readStream('thing-2')).events[0]?.data).toEqual({ title: 'written old' });
    expect((await store.readStream('thing-2')).events[0]?.data).toEqual({ version: 2, name: 'written old' });
  });
});
