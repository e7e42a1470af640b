import type { RecordedEvent } from './event';
import type { BusHandler, BusSubscription, CheckpointStore, EventBus } from './event-bus.port';

/**
 * The in-process bus: publishing hands each event to every group's handler and resolves when
 * they are done, so the publisher's progress is the consumers' progress. A handler error
 * rejects the publish, and the relay retries from its checkpoint.
 */
export class InProcessEventBus implements EventBus {
  /** Each group's handlers, and whose turn it is: one handler per group takes each event, as one consumer of a Kafka group would. */
  private readonly groups = new Map<string, { handlers: BusHandler[]; turn: number }>();

  async publish(events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      for (const group of this.groups.values()) {
        const { handlers } = group;
        if (handlers.length === 0) continue;
        group.turn = (group.turn + 1) % handlers.length;
        // A handler that finishes synchronously costs no extra turn of the microtask queue.
        const handled = (handlers[group.turn] as BusHandler)(event);
        if (handled) await handled;
      }
    }
  }

  subscribe(group: string, handler: BusHandler): Promise<BusSubscription> {
    let entry = this.groups.get(group);
    if (!entry) this.groups.set(group, (entry = { handlers: [], turn: -1 }));
    const { handlers } = entry;
    if (!handlers.includes(handler)) handlers.push(handler);
    return Promise.resolve({
      stop: () => {
        const at = handlers.indexOf(handler);
        if (at >= 0) handlers.splice(at, 1);
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    this.groups.clear();
    return Promise.resolve();
  }
}

export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, number>();

  load(name: string): Promise<number> {
    return Promise.resolve(this.positions.get(name) ?? 0);
  }

  save(name: string, position: number): Promise<void> {
    this.positions.set(name, position);
    return Promise.resolve();
  }
}
