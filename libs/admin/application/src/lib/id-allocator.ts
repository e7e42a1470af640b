import { ID_SEQUENCE_STREAM, sequenceDecider, type Sequence, type SequenceCommand, type SequenceEvent } from '@flagline/admin-domain';
import { CommandHandler, type EventStore } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';

/**
 * Hands out numeric ids from blocks reserved on the event-sourced sequence. Callers take ids
 * only after a command passed validation, so a rejected request reserves nothing.
 */
export class IdAllocator {
  private readonly handler: CommandHandler<Sequence, SequenceCommand, SequenceEvent>;
  private pool: number[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    store: EventStore,
    private readonly clock: () => Date,
    private readonly blockSize = 64,
  ) {
    this.handler = new CommandHandler(store, sequenceDecider, { maxRetries: 20 });
  }

  take(count: number): Promise<number[]> {
    if (count === 0) return Promise.resolve([]);
    const next = this.queue.then(() => this.takeNow(count));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async takeNow(count: number): Promise<number[]> {
    if (this.pool.length < count) {
      const { events } = await this.handler.handle(
        ID_SEQUENCE_STREAM,
        { type: 'ReserveIds', count: Math.max(this.blockSize, count - this.pool.length) },
        { commandId: randomUUID(), actor: { kind: 'system', id: 'id-allocator' }, now: this.clock(), correlationId: randomUUID() },
      );
      for (const event of events) for (let id = event.data.from; id < event.data.from + event.data.count; id++) this.pool.push(id);
    }
    return this.pool.splice(0, count);
  }
}
