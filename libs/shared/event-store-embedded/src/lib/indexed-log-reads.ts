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
import type { EventLogIndex } from './event-log-index';
import { EventStoreClosedError } from './event-store.errors';

/** What the reads need from the store or follower that owns the index. */
export interface IndexedLogSource {
  readonly index: EventLogIndex;
  /** Notified whenever the index grows or the source fails. */
  readonly signal: LogSignal;
  isClosing(): boolean;
  /** Why the source stopped taking in events, if it did. */
  failure(): Error | null;
}

/**
 * The read side of the event-store port over an in-memory index of the log, shared by the
 * writer and the follower: reads, catch-up-then-live subscriptions and the head position.
 */
export class IndexedLogReads {
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly source: IndexedLogSource) {}

  readStream(streamName: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    if (this.source.isClosing()) return Promise.reject(new EventStoreClosedError());
    return Promise.resolve(this.source.index.readStream(streamName, options));
  }

  readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    if (this.source.isClosing()) return Promise.reject(new EventStoreClosedError());
    return Promise.resolve(this.source.index.readAll(options));
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    if (this.source.isClosing()) throw new EventStoreClosedError();
    const { index, signal } = this.source;
    const subscription = subscribeToLog(
      {
        readAfter: (after, max) => {
          const events = index.readAll({ after, maxCount: max });
          // After a failure, subscribers still get every event already indexed, then the failure.
          const failure = events.length === 0 ? this.source.failure() : null;
          if (failure) throw failure;
          return events;
        },
        head: () => index.head,
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
    return Promise.resolve(this.source.index.head);
  }

  /** Stops every live subscription. */
  async stopSubscriptions(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }
}
