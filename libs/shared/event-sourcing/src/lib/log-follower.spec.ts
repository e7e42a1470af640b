import type { EventStore, Subscription } from './event-store.port';
import { InMemoryEventStore } from './in-memory-event-store';
import { LogFollower } from './log-follower';
import { aNewEvent } from '../testing';

describe('LogFollower', () => {
  it('applies the log, then follows it, resubscribing after a failure without skipping or repeating events', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('thing-1', [aNewEvent('A'), aNewEvent('B')]);
    let failNext = true;
    // A store whose first subscription dies after one event, as a dropped connection would.
    const flaky: EventStore = {
      ...store,
      appendToStream: store.appendToStream.bind(store),
      readStream: store.readStream.bind(store),
      readAll: store.readAll.bind(store),
      headPosition: store.headPosition.bind(store),
      close: store.close.bind(store),
      subscribeToAll: (options, handler): Subscription =>
        store.subscribeToAll(options, async (event) => {
          if (failNext && event.type === 'B') {
            failNext = false;
            throw new Error('connection lost');
          }
          await handler(event);
        }),
    };
    const applied: string[] = [];
    const errors: unknown[] = [];
    const follower = new LogFollower(flaky, (event) => void applied.push(event.type), { retryDelayMs: 5, onError: (error) => errors.push(error) });
    await follower.start();
    expect(applied).toEqual(['A', 'B']);
    await store.appendToStream('thing-1', [aNewEvent('C')]);
    await follower.progress.waitFor(3, 2000);
    await follower.stop();
    expect(applied).toEqual(['A', 'B', 'C']);
    expect(errors).toHaveLength(1);
  });
});
