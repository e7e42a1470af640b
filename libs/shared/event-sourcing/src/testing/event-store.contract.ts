import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent, RecordedEvent } from '../lib/event';
import { ConcurrencyError, type EventStore } from '../lib/event-store.port';

export interface EventStoreHarness {
  readonly store: EventStore;
  /** Closes the store and removes whatever the adapter created. */
  dispose(): Promise<void>;
}

const metadata: EventMetadata = {
  actor: { kind: 'user', id: 'user-1', name: 'ada@example.com' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'corr-1',
  projectId: 'project-1',
};

export function aNewEvent(type = 'ThingHappened', data: NewEvent['data'] = { n: 1 }): NewEvent {
  return { id: randomUUID(), type, data, metadata };
}

function uniqueStream(category = 'contract'): string {
  return `${category}-${randomUUID().replace(/-/g, '')}`;
}

async function collect(store: EventStore, after: number, count: number, timeoutMs = 5000): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  let release!: () => void;
  const enough = new Promise<void>((resolve) => (release = resolve));
  const subscription = store.subscribeToAll({ after }, (event) => {
    seen.push(event);
    if (seen.length >= count) release();
  });
  const timer = setTimeout(release, timeoutMs);
  await enough;
  clearTimeout(timer);
  await subscription.stop();
  return seen;
}

/**
 * The behaviour every event-store adapter must show. Run it with a factory per adapter:
 * in-memory, embedded file log, EventStoreDB. Tests use fresh stream names and positions
 * relative to the head, so a shared server works too.
 */
export function describeEventStoreContract(adapterName: string, factory: () => Promise<EventStoreHarness>): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let harness: EventStoreHarness;
    let store: EventStore;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      // The factory may have failed (no server): its own error is the one to report.
      await (harness as EventStoreHarness | undefined)?.dispose();
    });

    describe('appending', () => {
      it('creates a stream with revisions from 0 and increasing global positions', async () => {
        const stream = uniqueStream();
        const result = await store.appendToStream(stream, [aNewEvent(), aNewEvent(), aNewEvent()], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(2);
        const { events, currentRevision } = await store.readStream(stream);
        expect(currentRevision).toBe(2);
        expect(events.map((e) => e.streamRevision)).toEqual([0, 1, 2]);
        expect(events[0]!.globalPosition).toBeLessThan(events[1]!.globalPosition);
        expect(events[1]!.globalPosition).toBeLessThan(events[2]!.globalPosition);
        expect(result.position).toBe(events[2]!.globalPosition);
      });

      it('keeps type, data and metadata exactly', async () => {
        const stream = uniqueStream();
        const event = aNewEvent('FeatureCreated', { name: 'zoë 🚀', nested: { list: [1, 'two', true, null], n: -1.5 } });
        await store.appendToStream(stream, [event]);
        const [stored] = (await store.readStream(stream)).events;
        expect(stored).toMatchObject({ id: event.id, type: 'FeatureCreated', data: event.data, metadata: event.metadata, streamName: stream });
        expect(Number.isNaN(Date.parse(stored!.recordedAt))).toBe(false);
      });

      it('appends at the expected revision', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'no_stream' });
        const result = await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 0 });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('rejects a stale expected revision with the actual revision and writes nothing', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
        const attempt = store.appendToStream(stream, [aNewEvent()], { expectedRevision: 0 });
        await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
        await expect(attempt).rejects.toMatchObject({ streamName: stream, expected: 0, actual: 1 });
        expect((await store.readStream(stream)).events).toHaveLength(2);
      });

      it('rejects no_stream on an existing stream and stream_exists on a missing one', async () => {
        const stream = uniqueStream();
        await expect(store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(
          ConcurrencyError,
        );
        await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'no_stream' });
        await expect(store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
          ConcurrencyError,
        );
        await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'stream_exists' });
        expect((await store.readStream(stream)).currentRevision).toBe(1);
      });

      it('lets exactly one of two racing appends at the same revision win', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent()]);
        const outcomes = await Promise.allSettled([
          store.appendToStream(stream, [aNewEvent('A')], { expectedRevision: 0 }),
          store.appendToStream(stream, [aNewEvent('B')], { expectedRevision: 0 }),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === 'rejected');
        expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ConcurrencyError);
        expect((await store.readStream(stream)).events).toHaveLength(2);
      });

      it('acknowledges a retried append of the same events without writing them twice', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent()]);
        const batch = [aNewEvent(), aNewEvent()];
        const first = await store.appendToStream(stream, batch, { expectedRevision: 0 });
        const head = await store.headPosition();
        const again = await store.appendToStream(stream, batch, { expectedRevision: 0 });
        expect(again).toEqual(first);
        expect((await store.readStream(stream)).events.map((e) => e.id)).toHaveLength(3);
        expect(await store.headPosition()).toBe(head);
      });

      it('stores an append of fresh ids like any other, still checking the expected revision', async () => {
        const stream = uniqueStream();
        const batch = [aNewEvent('Fresh', { n: 1 }), aNewEvent('Fresh', { n: 2 })];
        const result = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream', freshIds: true });
        expect(result).toEqual({ nextExpectedRevision: 1, position: await store.headPosition() });
        const { events } = await store.readStream(stream);
        expect(events.map(({ id, type, data, streamRevision }) => ({ id, type, data, streamRevision }))).toEqual(
          batch.map(({ id, type, data }, streamRevision) => ({ id, type, data, streamRevision })),
        );
        await expect(store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'no_stream', freshIds: true })).rejects.toBeInstanceOf(ConcurrencyError);
        expect((await store.readStream(stream)).events).toHaveLength(2);
      });
    });

    describe('reading', () => {
      it('reports a missing stream as no stream', async () => {
        expect(await store.readStream(uniqueStream())).toEqual({ currentRevision: null, events: [] });
      });

      it('reads a stream from a revision, at most maxCount events', async () => {
        const stream = uniqueStream();
        await store.appendToStream(stream, [1, 2, 3, 4, 5].map((n) => aNewEvent('N', { n })));
        const { events, currentRevision } = await store.readStream(stream, { fromRevision: 1, maxCount: 3 });
        expect(currentRevision).toBe(4);
        expect(events.map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
      });

      it('reads all streams in global order after a position', async () => {
        const head = await store.headPosition();
        const a = uniqueStream('alpha');
        const b = uniqueStream('beta');
        await store.appendToStream(a, [aNewEvent('A1')]);
        await store.appendToStream(b, [aNewEvent('B1')]);
        await store.appendToStream(a, [aNewEvent('A2')]);
        const all = await store.readAll({ after: head });
        expect(all.map((e) => `${e.streamName === a ? 'a' : 'b'}:${e.type}`)).toEqual(['a:A1', 'b:B1', 'a:A2']);
        const positions = all.map((e) => e.globalPosition);
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
        expect(await store.headPosition()).toBe(positions[2]);
        const page = await store.readAll({ after: positions[0]!, maxCount: 1 });
        expect(page.map((e) => e.type)).toEqual(['B1']);
      });
    });

    describe('subscribing to all', () => {
      it('delivers stored events, then live ones, once each and in order', async () => {
        const head = await store.headPosition();
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent('Old1'), aNewEvent('Old2')]);
        const seen: string[] = [];
        const subscription = store.subscribeToAll({ after: head }, (event) => {
          if (event.streamName === stream) seen.push(event.type);
        });
        await subscription.caughtUp;
        expect(seen).toEqual(['Old1', 'Old2']);
        await store.appendToStream(stream, [aNewEvent('New1')]);
        await store.appendToStream(stream, [aNewEvent('New2'), aNewEvent('New3')]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await subscription.stop();
        expect(seen).toEqual(['Old1', 'Old2', 'New1', 'New2', 'New3']);
      });

      it('starts strictly after the given position', async () => {
        const stream = uniqueStream();
        const first = await store.appendToStream(stream, [aNewEvent('Skipped')]);
        await store.appendToStream(stream, [aNewEvent('Wanted')]);
        const seen = await collect(store, first.position, 1);
        expect(seen.map((e) => e.type)).toEqual(['Wanted']);
      });

      it('waits for each handler call before delivering the next event', async () => {
        const head = await store.headPosition();
        const stream = uniqueStream();
        await store.appendToStream(stream, [aNewEvent('E1'), aNewEvent('E2'), aNewEvent('E3')]);
        let active = 0;
        let maxActive = 0;
        const seen: string[] = [];
        const subscription = store.subscribeToAll({ after: head }, async (event) => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.push(event.type);
          active--;
        });
        await subscription.caughtUp;
        await subscription.stop();
        expect(maxActive).toBe(1);
        expect(seen).toEqual(['E1', 'E2', 'E3']);
      });

      it('stops with the handler error', async () => {
        const head = await store.headPosition();
        await store.appendToStream(uniqueStream(), [aNewEvent()]);
        const subscription = store.subscribeToAll({ after: head }, () => {
          throw new Error('projection failed');
        });
        await expect(subscription.done).rejects.toThrow('projection failed');
      });
    });
  });
}
