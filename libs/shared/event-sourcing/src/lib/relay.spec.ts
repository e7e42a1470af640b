import type { RecordedEvent } from './event';
import type { EventBus } from './event-bus.port';
import { InMemoryEventStore } from './in-memory-event-store';
import { InMemoryCheckpointStore, InProcessEventBus } from './in-process-event-bus';
import { Relay } from './relay';
import { aNewEvent } from '../testing';

describe('Relay', () => {
  it('publishes stored and live events in log order and checkpoints after the bus acknowledged', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('thing-1', [aNewEvent('A'), aNewEvent('B')]);
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    await bus.subscribe('projector', (event) => void seen.push(event.type));
    const checkpoints = new InMemoryCheckpointStore();
    const relay = new Relay(store, bus, checkpoints);
    await relay.start();
    await store.appendToStream('thing-2', [aNewEvent('C')]);
    await relay.progress.waitFor(3, 2000);
    expect(seen).toEqual(['A', 'B', 'C']);
    expect(await checkpoints.load('relay')).toBe(3);
    await relay.stop();
  });

  it('resumes from its checkpoint without losing an event the bus refused', async () => {
    const store = new InMemoryEventStore();
    const delivered: RecordedEvent[] = [];
    let failures = 2;
    const flaky: EventBus = {
      publish: (events) => {
        if (failures-- > 0) return Promise.reject(new Error('broker unavailable'));
        delivered.push(...events);
        return Promise.resolve();
      },
      subscribe: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    const errors: unknown[] = [];
    const relay = new Relay(store, flaky, new InMemoryCheckpointStore(), { retryDelayMs: 10, onError: (error) => errors.push(error) });
    await relay.start();
    for (const type of ['E1', 'E2', 'E3']) await store.appendToStream('thing-1', [aNewEvent(type)]);
    await relay.progress.waitFor(3, 3000);
    await relay.stop();
    expect(errors.length).toBeGreaterThan(0);
    const types = delivered.map((event) => event.type);
    expect([...new Set(types)]).toEqual(['E1', 'E2', 'E3']);
    expect(types.indexOf('E1')).toBeLessThan(types.indexOf('E2'));
  });

  it('starts after the saved checkpoint', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('thing-1', [aNewEvent('Old'), aNewEvent('New')]);
    const checkpoints = new InMemoryCheckpointStore();
    await checkpoints.save('relay', 1);
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    await bus.subscribe('g', (event) => void seen.push(event.type));
    const relay = new Relay(store, bus, checkpoints);
    await relay.start();
    await relay.progress.waitFor(2, 2000);
    await relay.stop();
    expect(seen).toEqual(['New']);
  });

  it('does not move its checkpoint past a skipped event while earlier events are still being published', async () => {
    const store = new InMemoryEventStore();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const published: string[] = [];
    const slowBus: EventBus = {
      publish: async (events) => {
        await held;
        published.push(...events.map((event) => event.type));
      },
      subscribe: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    const checkpoints = new InMemoryCheckpointStore();
    const relay = new Relay(store, slowBus, checkpoints, { filter: (event) => !event.streamName.startsWith('sequence-') });
    await relay.start();
    await store.appendToStream('thing-1', [aNewEvent('Kept')]);
    await store.appendToStream('sequence-ids', [aNewEvent('Skipped')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await checkpoints.load('relay')).toBe(0);
    release();
    await relay.progress.waitFor(2, 2000);
    await relay.stop();
    expect(published).toEqual(['Kept']);
    expect(await checkpoints.load('relay')).toBe(2);
  });

  it('publishes the events of one live append in one bus call, checkpointed once', async () => {
    const store = new InMemoryEventStore();
    const calls: string[][] = [];
    const bus: EventBus = {
      publish: (events) => {
        calls.push(events.map((event) => event.type));
        return Promise.resolve();
      },
      subscribe: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    const saved: number[] = [];
    const checkpoints = new InMemoryCheckpointStore();
    const relay = new Relay(store, bus, {
      load: (name) => checkpoints.load(name),
      save: (name, position) => {
        saved.push(position);
        return checkpoints.save(name, position);
      },
    });
    await relay.start();
    await store.appendToStream('thing-1', [aNewEvent('A'), aNewEvent('B'), aNewEvent('C')]);
    await relay.progress.waitFor(3, 2000);
    await store.appendToStream('thing-2', [aNewEvent('D')]);
    await relay.progress.waitFor(4, 2000);
    await relay.stop();
    expect(calls).toEqual([['A', 'B', 'C'], ['D']]);
    expect(saved).toEqual([3, 4]);
  });

  it('holds the subscription back while a full batch is being published', async () => {
    const store = new InMemoryEventStore();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const calls: string[][] = [];
    const bus: EventBus = {
      publish: async (events) => {
        calls.push(events.map((event) => event.type));
        await held;
      },
      subscribe: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    const relay = new Relay(store, bus, new InMemoryCheckpointStore(), { batchSize: 2 });
    await relay.start();
    await store.appendToStream('thing-1', [aNewEvent('A'), aNewEvent('B'), aNewEvent('C'), aNewEvent('D'), aNewEvent('E')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The first full batch is out and unacknowledged: nothing more was taken from the log meanwhile.
    expect(calls).toEqual([['A', 'B']]);
    expect(relay.progress.position).toBe(0);
    release();
    await relay.progress.waitFor(5, 2000);
    await relay.stop();
    expect(calls.flat()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(Math.max(...calls.map((batch) => batch.length))).toBe(2);
  });
});
