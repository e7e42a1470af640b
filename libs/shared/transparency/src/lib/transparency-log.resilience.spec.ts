import { InMemoryEventStore, type EventStore, type NewEvent, type RecordedEvent, type Subscription, type SubscriptionHandler } from '@flagline/event-sourcing';
import { generateKeyPairSync } from 'node:crypto';
import { InMemoryTreeStore } from './in-memory-tree.store';
import { TransparencyLog } from './transparency-log';

const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'c' };
const event = (n: number): NewEvent => ({ id: `event-${n}`, type: 'ThingHappened', data: { n }, metadata });

/** The store's reads and appends as they are, with the subscription given by `subscribe`. */
function withSubscription(store: InMemoryEventStore, subscribe: (options: { after?: number }, handler: SubscriptionHandler) => Subscription): EventStore {
  return {
    appendToStream: store.appendToStream.bind(store),
    readStream: store.readStream.bind(store),
    readAll: store.readAll.bind(store),
    headPosition: store.headPosition.bind(store),
    close: store.close.bind(store),
    subscribeToAll: subscribe,
  };
}

async function appendEvents(store: InMemoryEventStore, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await store.appendToStream(`thing-${n % 3}`, [event(n)]);
}

function expectLeavesInLogOrder(tree: InMemoryTreeStore, stored: readonly RecordedEvent[]): void {
  expect(tree.size).toBe(stored.length);
  expect(tree.leaves(0, stored.length + 5).map((leaf) => [leaf.position, leaf.eventId])).toEqual(stored.map((recorded) => [recorded.globalPosition, recorded.id]));
}

describe('TransparencyLog follower, when the store misbehaves', () => {
  const { privateKey } = generateKeyPairSync('ed25519');

  it('subscribes again after its subscription fails (a dropped connection), from the last event it queued: none lost, none twice', async () => {
    const store = new InMemoryEventStore();
    await appendEvents(store, 1, 4);
    const subscribedAfter: number[] = [];
    let failed = false;
    const flaky = withSubscription(store, (options, handler) => {
      subscribedAfter.push(options.after ?? 0);
      return store.subscribeToAll(options, async (recorded) => {
        // The first subscription dies when the third event arrives, before handing it over.
        if (!failed && recorded.globalPosition === 3) {
          failed = true;
          throw new Error('connection lost');
        }
        await handler(recorded);
      });
    });
    const errors: unknown[] = [];
    const tree = new InMemoryTreeStore();
    const transparency = new TransparencyLog(flaky, tree, { signingKey: privateKey, flushDelayMs: 0, resubscribeDelayMs: 5, onError: (error) => errors.push(error) });
    await transparency.start();
    await transparency.progress.waitFor(4, 2000);
    await appendEvents(store, 5, 7);
    await transparency.progress.waitFor(7, 2000);
    await transparency.stop();
    expect(subscribedAfter).toEqual([0, 2]);
    expectLeavesInLogOrder(tree, await store.readAll());
    expect(errors).toEqual([expect.objectContaining({ message: 'connection lost' })]);
  });

  it('drops an event delivered a second time, so the tree keeps one leaf per event and keeps following', async () => {
    const store = new InMemoryEventStore();
    await appendEvents(store, 1, 3);
    const tree = new InMemoryTreeStore();
    const repeating = withSubscription(store, (options, handler) =>
      store.subscribeToAll(options, async (recorded) => {
        await handler(recorded);
        // Every second event is delivered again, as a resubscription from an earlier position would.
        if (recorded.globalPosition % 2 === 0) await handler(recorded);
      }),
    );
    const errors: unknown[] = [];
    const transparency = new TransparencyLog(repeating, tree, { signingKey: privateKey, batchSize: 2, flushDelayMs: 0, onError: (error) => errors.push(error) });
    await transparency.start();
    await appendEvents(store, 4, 9);
    await transparency.progress.waitFor(9, 2000);
    await transparency.stop();
    expectLeavesInLogOrder(tree, await store.readAll());
    expect(errors).toEqual([]);
    const head = await transparency.treeHead();
    expect(head.treeSize).toBe(9);
  });

  it('checks the log again after a start-up check that could not read it, instead of failing every later call', async () => {
    const store = new InMemoryEventStore();
    await appendEvents(store, 1, 5);
    const tree = new InMemoryTreeStore();
    const first = new TransparencyLog(store, tree, { signingKey: privateKey, flushDelayMs: 0 });
    await first.start();
    await first.progress.waitFor(5, 2000);
    await first.stop();

    let unreachable = true;
    const readAll = store.readAll.bind(store);
    const flaky: EventStore = { ...withSubscription(store, store.subscribeToAll.bind(store)), readAll: (options) => (unreachable ? Promise.reject(new Error('store unreachable')) : readAll(options)) };
    const errors: unknown[] = [];
    const second = new TransparencyLog(flaky, tree, { signingKey: privateKey, flushDelayMs: 0, resubscribeDelayMs: 5, onError: (error) => errors.push(error) });
    await expect(second.start()).rejects.toThrow('store unreachable');
    await expect(second.treeHead()).rejects.toThrow('store unreachable');
    unreachable = false;
    // The retry runs on its own (the follower starts without another call), and later calls succeed.
    await appendEvents(store, 6, 6);
    await second.progress.waitFor(6, 2000);
    expect(second.check.done).toBe(true);
    expect((await second.treeHead()).treeSize).toBe(6);
    await second.stop();
  });
});
