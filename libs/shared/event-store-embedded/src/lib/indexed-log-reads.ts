import {
  subscribeToLog,
  type LogSignal,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from '@flagline/event-sourcing';
import { EventStoreClosedError } from './event-store.errors';

/** Events strictly after `after`, in order, at most `max`. */
export type ReadAfter = (after: number, max: number) => readonly RecordedEvent[] | Promise<readonly RecordedEvent[]>;

/** The stored events as a store or follower indexes them: in memory, or persisted beside the log. */
export interface LogView {
  /** Position of the last event readers may see. */
  readonly head: number;
  readStream(streamName: string, options?: ReadStreamOptions): ReadStreamResult | Promise<ReadStreamResult>;
  readAll(options?: ReadAllOptions): readonly RecordedEvent[] | Promise<readonly RecordedEvent[]>;
  /** Reads for one subscription, which may keep its place in the log from one call to the next. */
  reader(): ReadAfter;
}

/** What the reads need from the store or follower that owns the index. */
export interface IndexedLogSource {
  readonly view: LogView;
  /** Notified whenever the index grows or the source fails. */
  readonly signal: LogSignal;
  isClosing(): boolean;
  /** Why the source stopped taking in events, if it did. */
  failure(): Error | null;
}

/**
 * The read side of the event-store port over an index of the log, shared by the writer and the
 * follower: reads, catch-up-then-live subscriptions and the head position.
 */
export class IndexedLogReads {
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly source: IndexedLogSource) {}

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    if (this.source.isClosing()) throw new EventStoreClosedError();
    return this.source.view.readStream(streamName, options);
  }

  async readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    if (this.source.isClosing()) throw new EventStoreClosedError();
    return this.source.view.readAll(options);
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    if (this.source.isClosing()) throw new EventStoreClosedError();
    const { view, signal } = this.source;
    const readAfter = view.reader();
    const subscription = subscribeToLog(
      {
        readAfter: async (after, max) => {
          const events = await readAfter(after, max);
          // After a failure, subscribers still get every event already indexed, then the failure.
          const failure = events.length === 0 ? this.source.failure() : null;
          if (failure) throw failure;
          return events;
        },
        head: () => view.head,
        signal,
      },
      options.after ?? 0,
      handler,
    );
    this.subscriptions.add(subscription);
    const forget = (): void => {
      this.subscriptions.delete(subscription);
    };
    subscription.done.then(forget, forget);
    return subscription;
  }

  headPosition(): Promise<number> {
    if (this.source.isClosing()) return Promise.reject(new EventStoreClosedError());
    return Promise.resolve(this.source.view.head);
  }

  /** Stops every live subscription. */
  async stopSubscriptions(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }
}
