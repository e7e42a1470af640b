import type { RecordedEvent } from './event';
import type { BusHandler, BusSubscription, CheckpointStore, EventBus } from './event-bus.port';

/**
 * The in-process bus: publishing hands each event to every group's handler and resolves when
 * they are done, so the publisher's progress is the consumers' progress. A handler error
 * rejects the publish, and the relay retries from its checkpoint.
 */
export class InProcessEventBus implements EventBus {
  private readonly groups = new Map<string, Set<BusHandler>>();
  private readonly cursor = new Map<string, number>();

  async publish(events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      for (const [group, handlers] of this.groups) {
        // One handler per group takes each event, as one consumer of a Kafka group would.
        const handler = this.pick(group, handlers);
        if (handler) await handler(event);
      }
    }
  }

  private pick(group: string, handlers: Set<BusHandler>): BusHandler | undefined {
    const list = [...handlers];
    if (list.length === 0) return undefined;
    const next = ((this.cursor.get(group) ?? -1) + 1) % list.length;
    this.cursor.set(group, next);
    return list[next];
  }

  subscribe(group: string, handler: BusHandler): Promise<BusSubscription> {
    const handlers = this.groups.get(group) ?? new Set<BusHandler>();
    handlers.add(handler);
    this.groups.set(group, handlers);
    return Promise.resolve({
      stop: () => {
        handlers.delete(handler);
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
