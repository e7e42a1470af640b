import { aRecordedEvent, describeCheckpointStoreContract, describeEventBusContract } from '../testing';
import type { RecordedEvent } from './event';
import { InMemoryCheckpointStore, InProcessEventBus } from './in-process-event-bus';

describeEventBusContract('in-process', () => {
  const bus = new InProcessEventBus();
  return Promise.resolve({ bus, dispose: () => bus.close() });
});

describeCheckpointStoreContract('in-memory', () => Promise.resolve({ checkpoints: new InMemoryCheckpointStore(), dispose: () => Promise.resolve() }), {
  durable: false,
});

describe('InProcessEventBus', () => {
  it('resolves a publish only after every group handled the events', async () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    await bus.subscribe('projector', async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(event.id);
    });
    const events = [aRecordedEvent(), aRecordedEvent()];
    await bus.publish(events);
    expect(seen).toEqual(events.map((event) => event.id));
  });

  it('rejects the publish when a handler fails, so the publisher retries from its checkpoint', async () => {
    const bus = new InProcessEventBus();
    await bus.subscribe('projector', () => {
      throw new Error('read model unavailable');
    });
    await expect(bus.publish([aRecordedEvent()])).rejects.toThrow('read model unavailable');
  });

  it('lets the consumers of one group take turns', async () => {
    const bus = new InProcessEventBus();
    const first: RecordedEvent[] = [];
    const second: RecordedEvent[] = [];
    await bus.subscribe('projector', (event) => void first.push(event));
    await bus.subscribe('projector', (event) => void second.push(event));
    await bus.publish([aRecordedEvent(), aRecordedEvent(), aRecordedEvent(), aRecordedEvent()]);
    expect([first.length, second.length]).toEqual([2, 2]);
  });

  it('keeps nothing for a group that subscribes after the publish', async () => {
    const bus = new InProcessEventBus();
    await bus.publish([aRecordedEvent()]);
    const late: RecordedEvent[] = [];
    await bus.subscribe('late', (event) => void late.push(event));
    expect(late).toEqual([]);
  });
});
