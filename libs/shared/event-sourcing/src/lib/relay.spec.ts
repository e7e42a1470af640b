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
});
