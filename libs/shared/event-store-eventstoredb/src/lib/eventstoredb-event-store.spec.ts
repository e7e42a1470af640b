import { AccessDeniedError, ANY, NO_STREAM } from '@kurrent/kurrentdb-client';
import { ConcurrencyError, DuplicateEventIdError, type RecordedEvent } from '@flagline/event-sourcing';
import { aNewEvent, describeEventStoreContract } from '@flagline/event-sourcing/testing';
import { FakeEventStoreDbClient, type FakeServerBehaviour } from '../testing/fake-eventstoredb.client';
import { SubscriptionEndedError } from './catch-up.subscription';
import { EventStoreDbClosedError, EventStoreDbEventStore } from './eventstoredb-event-store';

function withFake(behaviour: FakeServerBehaviour = {}) {
  const client = new FakeEventStoreDbClient(behaviour);
  const store = new EventStoreDbEventStore(client, { ownsClient: true });
  return { client, store, dispose: () => store.close() };
}

// The adapter's control flow over a fake client (see FakeEventStoreDbClient); the real server is
// exercised by eventstoredb-event-store.int.spec.ts.
describeEventStoreContract('EventStoreDB adapter over a fake client', () => Promise.resolve(withFake()));
describeEventStoreContract('EventStoreDB adapter over a fake client (server before 23.10: no caughtUp, no append positions)', () =>
  Promise.resolve(withFake({ sendsCaughtUp: false, reportsAppendPosition: false })),
);
describeEventStoreContract('EventStoreDB adapter over a fake client (subscriptions starting at the position itself)', () =>
  Promise.resolve(withFake({ subscriptionIncludesStart: true })),
);

let sequence = 0;
const uniqueStream = (category = 'feature'): string => `${category}-${++sequence}`;

describe('EventStoreDbEventStore', () => {
  let client: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;

  beforeEach(() => {
    ({ client, store } = withFake());
  });
  afterEach(() => store.close());

  describe('appending', () => {
    it('sends the expected revision as the client’s stream state', async () => {
      const stream = uniqueStream();
      await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 'no_stream' });
      await store.appendToStream(stream, [aNewEvent()], { expectedRevision: 0 });
      await store.appendToStream(stream, [aNewEvent()]);
      expect(client.appendCalls.map((call) => call.streamState)).toEqual([NO_STREAM, 0n, ANY]);
    });

    it('reports the position of the batch’s last event, the one reads show', async () => {
      const stream = uniqueStream();
      const result = await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      const { events } = await store.readStream(stream);
      expect(result).toEqual({ nextExpectedRevision: 1, position: events[1]?.globalPosition });
    });

    it('reads the position back when the server leaves it out', async () => {
      ({ client, store } = withFake({ reportsAppendPosition: false }));
      const stream = uniqueStream();
      const result = await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      expect(result.position).toBe((await store.readStream(stream)).events[1]?.globalPosition);
    });

    it('translates a wrong expected revision into ConcurrencyError with the actual revision', async () => {
      const stream = uniqueStream();
      await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      await expect(store.appendToStream(stream, [aNewEvent()], { expectedRevision: 5 })).rejects.toEqual(new ConcurrencyError(stream, 5, 1));
      await expect(store.appendToStream(uniqueStream(), [aNewEvent()], { expectedRevision: 0 })).rejects.toMatchObject({ actual: null });
    });

    it('reports a partial retry as a conflict, as the server does', async () => {
      const stream = uniqueStream();
      const first = aNewEvent();
      await store.appendToStream(stream, [first], { expectedRevision: 'no_stream' });
      const attempt = store.appendToStream(stream, [first, aNewEvent()], { expectedRevision: 'no_stream' });
      await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('lets other failures through', async () => {
      const denied = new AccessDeniedError();
      client.failNextAppend(denied);
      await expect(store.appendToStream(uniqueStream(), [aNewEvent()])).rejects.toBe(denied);
    });

    it('refuses an id twice in one batch before calling the server', async () => {
      const event = aNewEvent();
      await expect(store.appendToStream(uniqueStream(), [event, event])).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(client.appendCalls).toHaveLength(0);
    });

    it('refuses stream names reserved for the server', async () => {
      await expect(store.appendToStream('$settings', [aNewEvent()])).rejects.toThrow(RangeError);
      await expect(store.appendToStream('', [aNewEvent()])).rejects.toThrow(RangeError);
    });

    it('checks the expected revision of an empty append without writing', async () => {
      const stream = uniqueStream();
      const written = await store.appendToStream(stream, [aNewEvent()]);
      const logLength = client.log.length;
      await expect(store.appendToStream(stream, [], { expectedRevision: 0 })).resolves.toEqual({
        nextExpectedRevision: 0,
        position: written.position,
      });
      await expect(store.appendToStream(stream, [], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.appendToStream(uniqueStream(), [], { expectedRevision: 'no_stream' })).toMatchObject({ nextExpectedRevision: -1 });
      expect(client.log).toHaveLength(logLength);
    });
  });

  describe('reading a stream', () => {
    it('gives the current revision even when reading from beyond the end', async () => {
      const stream = uniqueStream();
      await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      expect(await store.readStream(stream, { fromRevision: 5 })).toEqual({ currentRevision: 1, events: [] });
      expect(await store.readStream(stream, { fromRevision: 5, maxCount: 2 })).toEqual({ currentRevision: 1, events: [] });
    });

    it('returns no events for maxCount 0 and treats a negative fromRevision as 0', async () => {
      const stream = uniqueStream();
      await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      expect(await store.readStream(stream, { maxCount: 0 })).toEqual({ currentRevision: 1, events: [] });
      expect((await store.readStream(stream, { fromRevision: -3 })).events).toHaveLength(2);
    });
  });

  describe('reading $all', () => {
    it('leaves out system events, also those with ordinary types in $ streams', async () => {
      const head = await store.headPosition();
      await store.appendToStream(uniqueStream(), [aNewEvent('A')]);
      client.writeSystemEvent('$stats-127.0.0.1:2113', '$statsCollected');
      await store.appendToStream(uniqueStream(), [aNewEvent('B')]);
      expect(client.log.some((event) => event.type === 'Result')).toBe(true);
      expect((await store.readAll({ after: head })).map((event) => event.type)).toEqual(['A', 'B']);
    });

    it('fills a page that the client-side filter thinned out', async () => {
      const head = await store.headPosition();
      await store.appendToStream(uniqueStream(), [aNewEvent('A')]);
      for (let i = 0; i < 5; i++) client.writeSystemEvent('$projections-x-result', 'Result');
      await store.appendToStream(uniqueStream(), [aNewEvent('B')]);
      await store.appendToStream(uniqueStream(), [aNewEvent('C')]);
      expect((await store.readAll({ after: head, maxCount: 2 })).map((event) => event.type)).toEqual(['A', 'B']);
    });

    it('returns nothing for maxCount 0', async () => {
      await store.appendToStream(uniqueStream(), [aNewEvent()]);
      expect(await store.readAll({ maxCount: 0 })).toEqual([]);
    });

    it('gives head position 0 when only system events are stored', async () => {
      client.writeSystemEvent('$projections-x-result', 'Result');
      client.writeSystemEvent('$settings', '$settings');
      expect(await store.headPosition()).toBe(0);
    });

    it('finds the head behind more system events than one page holds', async () => {
      const { position } = await store.appendToStream(uniqueStream(), [aNewEvent()]);
      for (let i = 0; i < 40; i++) client.writeSystemEvent('$projections-x-result', 'Result');
      expect(await store.headPosition()).toBe(position);
    });
  });

  describe('subscribing to $all', () => {
    it('settles caughtUp at once on a store without events of ours', async () => {
      client.writeSystemEvent('$settings', '$settings');
      const subscription = store.subscribeToAll({}, () => undefined);
      await expect(subscription.caughtUp).resolves.toBeUndefined();
      await subscription.stop();
    });

    it('skips system events and delivers each event once', async () => {
      const head = await store.headPosition();
      const seen: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ after: head }, (event) => {
        seen.push(event);
      });
      await store.appendToStream(uniqueStream(), [aNewEvent('A'), aNewEvent('B')]);
      client.writeSystemEvent('$projections-x-result', 'Result');
      await store.appendToStream(uniqueStream(), [aNewEvent('C')]);
      await waitFor(() => seen.length >= 3);
      await subscription.stop();
      expect(seen.map((event) => event.type)).toEqual(['A', 'B', 'C']);
      expect(new Set(seen.map((event) => event.globalPosition)).size).toBe(3);
    });

    it('fails when the connection drops, with the client’s error', async () => {
      const subscription = store.subscribeToAll({}, () => undefined);
      await subscription.caughtUp;
      const dropped = new Error('14 UNAVAILABLE: Connection dropped');
      client.failSubscriptions(dropped);
      await expect(subscription.done).rejects.toBe(dropped);
    });

    it('fails when the server ends the subscription', async () => {
      const subscription = store.subscribeToAll({}, () => undefined);
      await subscription.caughtUp;
      client.endSubscriptions();
      await expect(subscription.done).rejects.toBeInstanceOf(SubscriptionEndedError);
    });

    it('releases the server subscription when stopped', async () => {
      const subscription = store.subscribeToAll({}, () => undefined);
      await subscription.caughtUp;
      expect(client.openSubscriptions).toBe(1);
      await subscription.stop();
      await expect(subscription.done).resolves.toBeUndefined();
      expect(client.openSubscriptions).toBe(0);
    });
  });

  describe('closing', () => {
    it('stops subscriptions, disposes an owned client and refuses further calls', async () => {
      const subscription = store.subscribeToAll({}, () => undefined);
      await store.close();
      await expect(subscription.done).resolves.toBeUndefined();
      expect(client.disposed).toBe(true);
      await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreDbClosedError);
      expect(() => store.subscribeToAll({}, () => undefined)).toThrow(EventStoreDbClosedError);
    });

    it('leaves a client it was given open', async () => {
      const shared = new FakeEventStoreDbClient();
      await new EventStoreDbEventStore(shared).close();
      expect(shared.disposed).toBe(false);
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
