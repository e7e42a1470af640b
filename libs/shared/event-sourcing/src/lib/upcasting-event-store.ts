import type { RecordedEvent } from './event';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from './event-store.port';
import type { NewEvent } from './event';

/** Brings a stored event to the shape the code reads (the same object when it is current). */
export type Upcaster = (event: RecordedEvent) => RecordedEvent;

/**
 * The one read boundary of the log: every event read from the wrapped store, by stream, in log
 * order or through a subscription, comes out upcast, so deciders, catalogs, projections and the
 * relay only ever see the shapes the code writes today. Appends pass through untouched.
 */
export class UpcastingEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly upcast: Upcaster,
  ) {}

  appendToStream(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    return this.inner.appendToStream(streamName, events, options);
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    const result = await this.inner.readStream(streamName, options);
    return { ...result, events: result.events.map(this.upcast) };
  }

  async readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return (await this.inner.readAll(options)).map(this.upcast);
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    return this.inner.subscribeToAll(options, (event) => handler(this.upcast(event)));
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
