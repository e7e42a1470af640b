import type { NewEvent, RecordedEvent } from './event';
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
import { assertExpectedRevision, findRetriedAppend } from './append-rules';
import { LogSignal, subscribeToLog } from './log-subscription';

/** The in-memory twin of the event store: same contract, nothing survives the process. */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byId = new Map<string, RecordedEvent>();
  private readonly signal = new LogSignal();
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  appendToStream(streamName: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      return Promise.resolve(this.append(streamName, events, options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private append(streamName: string, events: readonly NewEvent[], options: AppendOptions): AppendResult {
    const retried = findRetriedAppend(streamName, events, (id) => this.byId.get(id));
    if (retried) return retried;
    const stream = this.streams.get(streamName);
    const current = stream && stream.length > 0 ? stream.length - 1 : null;
    assertExpectedRevision(streamName, options.expectedRevision ?? 'any', current);
    if (events.length === 0) return { nextExpectedRevision: current ?? -1, position: this.log.at(-1)?.globalPosition ?? 0 };
    const target = stream ?? [];
    const recordedAt = this.clock().toISOString();
    for (const event of events) {
      const recorded: RecordedEvent = {
        id: event.id,
        type: event.type,
        data: event.data,
        metadata: event.metadata,
        streamName,
        streamRevision: target.length,
        globalPosition: this.log.length + 1,
        recordedAt,
      };
      target.push(recorded);
      this.log.push(recorded);
      this.byId.set(recorded.id, recorded);
    }
    this.streams.set(streamName, target);
    this.signal.notify();
    return { nextExpectedRevision: target.length - 1, position: this.log.length };
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    const stream = this.streams.get(streamName);
    if (!stream) return Promise.resolve({ currentRevision: null, events: [] });
    const from = options.fromRevision ?? 0;
    const to = options.maxCount === undefined ? stream.length : from + options.maxCount;
    return Promise.resolve({ currentRevision: stream.length - 1, events: stream.slice(from, to) });
  }

  readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const from = options.after ?? 0;
    const to = options.maxCount === undefined ? this.log.length : from + options.maxCount;
    return Promise.resolve(this.log.slice(from, to));
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    const subscription = subscribeToLog(
      {
        readAfter: (after, max) => this.log.slice(after, after + max),
        head: () => this.log.length,
        signal: this.signal,
      },
      options.after ?? 0,
      handler,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  headPosition(): Promise<number> {
    return Promise.resolve(this.log.length);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }
}
