import { BACKWARDS, END, FORWARDS, KurrentDBClient } from '@kurrent/kurrentdb-client';
import {
  ConcurrencyError,
  assertExpectedRevision,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
} from '@flagline/event-sourcing';
import { toSafeNumber } from './bigint.conversion';
import { followCatchUpSubscription } from './catch-up.subscription';
import { isStreamNotFound, translateAppendError } from './error.translation';
import type { EventStoreDbClient } from './eventstoredb-client.types';
import { toStreamState } from './expected-revision.mapping';
import { toEventData } from './new-event.mapping';
import { isStrictlyAfter, toGlobalPosition, toStartPosition } from './position.mapping';
import { UnsupportedRecordedEventError, toRecordedEvent } from './recorded-event.mapping';
import { isSystemEvent, systemEventsExcluded } from './system-event.filter';

/** The store was closed; it accepts nothing more. */
export class EventStoreDbClosedError extends Error {
  override readonly name = 'EventStoreDbClosedError';
  constructor() {
    super('The EventStoreDB event store is closed');
  }
}

export interface EventStoreDbEventStoreOptions {
  /** Dispose the client when the store closes. Stores made by `connect` own their client. */
  readonly ownsClient?: boolean;
}

// headPosition reads $all backwards in growing pages until it meets an event of ours.
const FIRST_HEAD_PAGE = 16;

/**
 * The event-store port on EventStoreDB / KurrentDB (distributed mode).
 *
 * Global positions are the server's `$all` log positions (byte offsets: increasing, not dense).
 * Reads and subscriptions of `$all` leave out the server's own events. Every method maps the
 * client's types at the edge, in the small functions next to this file.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly client: EventStoreDbClient,
    private readonly options: EventStoreDbEventStoreOptions = {},
  ) {}

  /**
   * Connects with a connection string such as `kurrentdb://localhost:2113?tls=false` (the
   * deprecated `esdb://` still parses, with a client warning) and checks the server answers, so a
   * wrong address fails at start-up.
   */
  static async connect(connectionString: string): Promise<EventStoreDbEventStore> {
    const client = KurrentDBClient.connectionString(connectionString);
    const store = new EventStoreDbEventStore(client, { ownsClient: true });
    try {
      await store.headPosition();
    } catch (error) {
      await client.dispose().catch(() => undefined);
      throw error;
    }
    return store;
  }

  async appendToStream(streamName: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    if (streamName.length === 0 || streamName.startsWith('$')) {
      throw new RangeError(`Stream names must be non-empty and not start with '$' (reserved for EventStoreDB); got ${JSON.stringify(streamName)}`);
    }
    const streamState = toStreamState(expected);
    const eventData = toEventData(events);
    if (eventData.length === 0) return this.acknowledgeEmptyAppend(streamName, expected);

    let result;
    try {
      result = await this.client.appendToStream(streamName, eventData, { streamState });
    } catch (error) {
      throw translateAppendError(error, streamName, expected);
    }
    if (!result.success) {
      // Only a client built with throwOnAppendFailure=false answers this way, and its reported
      // revision is not reliable for every server path: ask the stream itself.
      throw new ConcurrencyError(streamName, expected, await this.currentRevision(streamName));
    }
    const nextExpectedRevision = toSafeNumber(result.nextExpectedRevision, 'Stream revision');
    // The server answers with the position of the batch's last event (also for a retried batch it
    // recognises); older servers may leave it out, and then the event itself tells.
    const position = result.position
      ? toSafeNumber(result.position.commit, 'EventStoreDB log position')
      : await this.positionOfEvent(streamName, nextExpectedRevision);
    return { nextExpectedRevision, position };
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    this.assertOpen();
    const from = Math.max(0, Math.floor(options.fromRevision ?? 0));
    if (options.maxCount === undefined) {
      // A forward read to the end also finds the stream's last revision: one round trip.
      const events = await this.readStreamEvents(streamName, from, undefined);
      if (events === null) return { currentRevision: null, events: [] };
      const last = events.at(-1);
      if (last) return { currentRevision: last.streamRevision, events };
      return { currentRevision: await this.currentRevision(streamName), events: [] };
    }
    // The revision is read first and the events capped at it, so a caller that folds the events
    // and appends at `currentRevision` never skips an event appended in between.
    const currentRevision = await this.currentRevision(streamName);
    if (currentRevision === null) return { currentRevision: null, events: [] };
    const count = Math.min(Math.floor(options.maxCount), currentRevision - from + 1);
    if (count <= 0) return { currentRevision, events: [] };
    return { currentRevision, events: (await this.readStreamEvents(streamName, from, count)) ?? [] };
  }

  async readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    this.assertOpen();
    const wanted = options.maxCount === undefined ? Number.POSITIVE_INFINITY : Math.floor(options.maxCount);
    const events: RecordedEvent[] = [];
    let cursor = options.after;
    while (events.length < wanted) {
      // One more than still needed: the read includes the event at `cursor`, which is dropped.
      const pageSize = Number.isFinite(wanted) ? wanted - events.length + 1 : undefined;
      const page = await this.readAllPage(cursor, pageSize, wanted - events.length);
      events.push(...page.events);
      // A short page is the end of $all. A full one may have lost events to the client-side
      // filter, so reading goes on after the last event the server returned.
      if (pageSize === undefined || page.returned < pageSize || page.lastPosition === undefined) break;
      if (cursor !== undefined && page.lastPosition <= cursor) break;
      cursor = page.lastPosition;
    }
    return events;
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen();
    const head = this.headPosition();
    const stream = this.client.subscribeToAll({ fromPosition: toStartPosition(options.after), filter: systemEventsExcluded() });
    const subscription = followCatchUpSubscription({ stream, after: options.after, handler, head });
    this.subscriptions.add(subscription);
    const forget = (): void => {
      this.subscriptions.delete(subscription);
    };
    subscription.done.then(forget, forget);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    for (let pageSize = FIRST_HEAD_PAGE; ; pageSize *= 16) {
      let returned = 0;
      for await (const resolved of this.client.readAll({
        direction: BACKWARDS,
        fromPosition: END,
        maxCount: pageSize,
        filter: systemEventsExcluded(),
      })) {
        returned++;
        const event = resolved.event;
        if (event && !isSystemEvent(event)) return toGlobalPosition(event.position);
      }
      if (returned < pageSize) return 0;
    }
  }

  /** Stops the subscriptions, then releases the client if this store owns it. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    if (this.options.ownsClient) await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closing) throw new EventStoreDbClosedError();
  }

  private async readAllPage(
    after: number | undefined,
    pageSize: number | undefined,
    wanted: number,
  ): Promise<{ events: RecordedEvent[]; returned: number; lastPosition: number | undefined }> {
    const events: RecordedEvent[] = [];
    let returned = 0;
    let lastPosition: number | undefined;
    for await (const resolved of this.client.readAll({
      direction: FORWARDS,
      fromPosition: toStartPosition(after),
      filter: systemEventsExcluded(),
      ...(pageSize === undefined ? {} : { maxCount: pageSize }),
    })) {
      returned++;
      const event = resolved.event;
      if (!event) continue;
      lastPosition = toSafeNumber(event.position.commit, 'EventStoreDB log position');
      if (isSystemEvent(event) || !isStrictlyAfter(toGlobalPosition(event.position), after)) continue;
      events.push(toRecordedEvent(event));
      if (events.length >= wanted) break;
    }
    return { events, returned, lastPosition };
  }

  /** Events from revision `from`, at most `count`; null when the stream does not exist. */
  private async readStreamEvents(streamName: string, from: number, count: number | undefined): Promise<RecordedEvent[] | null> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamName, {
        direction: FORWARDS,
        fromRevision: BigInt(from),
        ...(count === undefined ? {} : { maxCount: count }),
      })) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event));
      }
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
    return events;
  }

  /** Revision of the stream's last event, or null when the stream does not exist. */
  private async currentRevision(streamName: string): Promise<number | null> {
    try {
      for await (const resolved of this.client.readStream(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        if (resolved.event) return toSafeNumber(resolved.event.revision, 'Stream revision');
      }
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
    return null;
  }

  private async positionOfEvent(streamName: string, revision: number): Promise<number> {
    const [event] = (await this.readStreamEvents(streamName, revision, 1)) ?? [];
    if (!event) throw new UnsupportedRecordedEventError(streamName, `#${revision}`, 'the append was acknowledged but the event cannot be read');
    return event.globalPosition;
  }

  /**
   * The server would write a marker record for an empty append; the port only asks that the
   * expected revision be checked, so that is done with a read and nothing is written.
   */
  private async acknowledgeEmptyAppend(streamName: string, expected: ExpectedRevision): Promise<AppendResult> {
    const current = await this.currentRevision(streamName);
    assertExpectedRevision(streamName, expected, current);
    return { nextExpectedRevision: current ?? -1, position: await this.headPosition() };
  }
}
