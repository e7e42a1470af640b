import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  BACKWARDS,
  END,
  NO_STREAM,
  STREAM_EXISTS,
  START,
  STREAM_NAME,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamJSONRecordedEvent,
  type AllStreamResolvedEvent,
  type AppendResult,
  type AppendStreamState,
  type AppendToStreamOptions,
  type EventData,
  type Filter,
  type JSONType,
  type MetadataType,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';
import type { CatchUpSubscriptionStream, EventStoreDbClient } from '../lib/eventstoredb-client.types';

/**
 * How the fake server behaves where real servers differ or where a test needs a failure.
 * Defaults follow a current KurrentDB.
 */
export interface FakeServerBehaviour {
  /** A subscription from a position also delivers the event at it (real servers start after it). */
  readonly subscriptionIncludesStart?: boolean;
  /** Servers before 23.10 never send `caughtUp` on subscriptions. */
  readonly sendsCaughtUp?: boolean;
  /** Some servers answer an append without its position. */
  readonly reportsAppendPosition?: boolean;
  /** After each append, write what system projections write: `$>` links and a `Result` in a `$` stream. */
  readonly systemNoise?: boolean;
}

interface StoredEvent {
  readonly streamId: string;
  readonly id: string;
  readonly type: string;
  readonly revision: bigint;
  readonly created: Date;
  readonly data: string;
  readonly metadata: string;
  readonly position: bigint;
}

type SubscriptionMessage = { readonly kind: 'event'; readonly resolved: AllStreamResolvedEvent } | { readonly kind: 'caughtUp' };

/**
 * Like the client's Subscription: a transform in object mode whose events are pushed in order
 * and whose `caughtUp` is emitted when the server's signal passes through, possibly while events
 * before it still wait in the readable buffer.
 */
export class FakeSubscriptionStream extends Transform implements CatchUpSubscriptionStream {
  cancelled = false;

  constructor() {
    super({ objectMode: true });
  }

  override _transform(message: SubscriptionMessage, _encoding: BufferEncoding, next: TransformCallback): void {
    if (message.kind === 'caughtUp') {
      this.emit('caughtUp', {});
      next();
      return;
    }
    next(null, message.resolved);
  }

  /** Like cancelling the gRPC call: the source ends, and so does this stream once drained. */
  unsubscribe(): Promise<void> {
    if (!this.cancelled) {
      this.cancelled = true;
      setImmediate(() => this.end());
    }
    return Promise.resolve();
  }
}

interface Subscriber {
  readonly stream: FakeSubscriptionStream;
  readonly filter: Filter | undefined;
  /** Position of the last event sent; later events go out live. */
  cursor: bigint;
  live: boolean;
}

function matches(filter: Filter | undefined, event: StoredEvent): boolean {
  if (!filter) return true;
  const subject = filter.filterOn === STREAM_NAME ? event.streamId : event.type;
  if ('regex' in filter) return new RegExp(filter.regex).test(subject);
  return filter.prefixes.some((prefix) => subject.startsWith(prefix));
}

function toClientEvent(event: StoredEvent): AllStreamJSONRecordedEvent {
  const position: Position = { commit: event.position, prepare: event.position };
  return {
    streamId: event.streamId,
    id: event.id,
    isJson: true,
    revision: event.revision,
    type: event.type,
    created: event.created,
    // Parsed afresh on every read, as the client does with the bytes it receives.
    data: JSON.parse(event.data) as JSONType,
    metadata: JSON.parse(event.metadata) as MetadataType,
    position,
  };
}

/**
 * An in-memory stand-in for the KurrentDB client, modelled on the server's documented behaviour:
 * byte-offset positions (increasing, not dense), inclusive `fromPosition` on reads, exclusive on
 * subscriptions, idempotent appends, `WrongExpectedVersionError` / `StreamNotFoundError` as the
 * client builds them, and system events in `$all`. It checks the adapter's control flow; only a
 * real server checks the adapter.
 */
export class FakeEventStoreDbClient implements EventStoreDbClient {
  readonly log: StoredEvent[] = [];
  readonly appendCalls: { streamName: string; streamState: AppendStreamState | undefined }[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly subscribers = new Set<Subscriber>();
  private nextPosition = 4096n;
  private readonly behaviour: Required<FakeServerBehaviour>;
  private nextAppendFailure: Error | null = null;
  disposed = false;

  constructor(
    behaviour: FakeServerBehaviour = {},
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.behaviour = {
      subscriptionIncludesStart: behaviour.subscriptionIncludesStart ?? false,
      sendsCaughtUp: behaviour.sendsCaughtUp ?? true,
      reportsAppendPosition: behaviour.reportsAppendPosition ?? true,
      systemNoise: behaviour.systemNoise ?? true,
    };
  }

  /** The next append fails with this error, as a transport or server failure would. */
  failNextAppend(error: Error): void {
    this.nextAppendFailure = error;
  }

  /** Writes an event as the server or a system projection would (no checks). */
  writeSystemEvent(streamId: string, type: string, data: unknown = {}): StoredEvent {
    const stream = this.streams.get(streamId) ?? [];
    return this.store(streamId, stream, [{ id: randomUUID(), type, data: JSON.stringify(data), metadata: '{}' }])[0] as StoredEvent;
  }

  /** Fails every open subscription, as a dropped connection does. */
  failSubscriptions(error: Error): void {
    for (const subscriber of this.subscribers) {
      subscriber.stream.cancelled = true;
      subscriber.stream.emit('error', error);
    }
  }

  /** Ends every open subscription, as a server shutting down does. */
  endSubscriptions(): void {
    for (const subscriber of this.subscribers) {
      subscriber.stream.cancelled = true;
      subscriber.stream.end();
    }
  }

  get openSubscriptions(): number {
    return [...this.subscribers].filter((subscriber) => !subscriber.stream.cancelled).length;
  }

  appendToStream(streamName: string, events: EventData[], options: AppendToStreamOptions = {}): Promise<AppendResult> {
    this.appendCalls.push({ streamName, streamState: options.streamState });
    const failure = this.nextAppendFailure;
    if (failure) {
      this.nextAppendFailure = null;
      return Promise.reject(failure);
    }
    const streamState = options.streamState ?? 'any';
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length === 0 ? null : BigInt(stream.length - 1);
    const wrong = (): Promise<AppendResult> =>
      Promise.reject(new WrongExpectedVersionError(undefined, { streamName, expected: streamState, current: current ?? NO_STREAM }));

    const idempotent = this.findIdempotentAppend(stream, events, streamState, current);
    if (idempotent === 'corrupted') return wrong();
    if (idempotent) return Promise.resolve(this.result(idempotent));
    if (streamState === NO_STREAM && current !== null) return wrong();
    if (streamState === STREAM_EXISTS && current === null) return wrong();
    if (typeof streamState === 'bigint' && streamState !== current) return wrong();

    const stored = this.store(
      streamName,
      stream,
      events.map((event) => ({ id: event.id, type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata ?? {}) })),
    );
    const last = stored.at(-1) as StoredEvent;
    if (this.behaviour.systemNoise) {
      this.writeSystemEvent(`$ce-${streamName.split('-')[0] ?? streamName}`, '$>', `${last.revision}@${streamName}`);
      this.writeSystemEvent('$projections-counter-result', 'Result', { count: this.log.length });
    }
    return Promise.resolve(this.result(last));
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<ResolvedEvent> {
    const stream = this.streams.get(streamName);
    const { fromRevision = START, direction, maxCount = Number.MAX_SAFE_INTEGER } = options;
    return (async function* () {
      await Promise.resolve();
      if (!stream) throw new StreamNotFoundError(undefined, streamName);
      let selected: StoredEvent[];
      if (direction === BACKWARDS) {
        const top = fromRevision === END || fromRevision === START ? stream.length - 1 : Number(fromRevision);
        selected = stream.slice(0, top + 1).reverse();
      } else {
        const from = fromRevision === START ? 0 : fromRevision === END ? stream.length : Number(fromRevision);
        selected = stream.slice(from);
      }
      for (const event of selected.slice(0, Number(maxCount))) yield { event: toClientEvent(event), commitPosition: event.position };
    })();
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<AllStreamResolvedEvent> {
    const { fromPosition = START, direction, maxCount = Number.MAX_SAFE_INTEGER, filter } = options;
    const log = [...this.log];
    return (async function* () {
      await Promise.resolve();
      let selected: StoredEvent[];
      if (direction === BACKWARDS) {
        if (fromPosition !== END) throw new Error('the fake reads $all backwards only from END');
        selected = log.reverse();
      } else {
        // Inclusive, as the server's forward reads of $all are.
        const from = fromPosition === START ? 0n : fromPosition === END ? BigInt(Number.MAX_SAFE_INTEGER) : fromPosition.commit;
        selected = log.filter((event) => event.position >= from);
      }
      let sent = 0;
      for (const event of selected) {
        if (sent >= Number(maxCount)) return;
        if (!matches(filter, event)) continue;
        sent++;
        yield { event: toClientEvent(event), commitPosition: event.position };
      }
    })();
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): FakeSubscriptionStream {
    const { fromPosition = START, filter } = options;
    const stream = new FakeSubscriptionStream();
    const start = fromPosition === START ? -1n : fromPosition === END ? (this.log.at(-1)?.position ?? -1n) : fromPosition.commit;
    const subscriber: Subscriber = {
      stream,
      filter,
      cursor: this.behaviour.subscriptionIncludesStart ? start - 1n : start,
      live: false,
    };
    this.subscribers.add(subscriber);
    stream.on('end', () => this.subscribers.delete(subscriber));
    // The server starts after the call returns: catch-up, the caughtUp signal, then live events.
    setImmediate(() => {
      if (stream.cancelled) return;
      this.send(subscriber, this.log);
      if (this.behaviour.sendsCaughtUp) stream.write({ kind: 'caughtUp' } satisfies SubscriptionMessage);
      subscriber.live = true;
    });
    return stream;
  }

  dispose(): Promise<void> {
    this.disposed = true;
    for (const subscriber of this.subscribers) void subscriber.stream.unsubscribe();
    return Promise.resolve();
  }

  private result(last: StoredEvent): AppendResult {
    return {
      success: true,
      nextExpectedRevision: last.revision,
      ...(this.behaviour.reportsAppendPosition ? { position: { commit: last.position, prepare: last.position } } : {}),
    };
  }

  /**
   * The server's idempotency check: the same ids already stored at the expected place (or, with
   * ANY / STREAM_EXISTS, anywhere in the stream) acknowledge the earlier append.
   */
  private findIdempotentAppend(
    stream: readonly StoredEvent[],
    events: readonly EventData[],
    streamState: AppendStreamState,
    current: bigint | null,
  ): StoredEvent | 'corrupted' | null {
    if (streamState === 'any' || streamState === STREAM_EXISTS) {
      const stored = events.map((event) => stream.find((candidate) => candidate.id === event.id));
      if (stored[0] === undefined) return null;
      return stored.every((event) => event !== undefined) ? (stored.at(-1) as StoredEvent) : 'corrupted';
    }
    const expected = streamState === NO_STREAM ? -1n : streamState;
    if (current === null || expected >= current) return null;
    const stored = events.map((event, index) => {
      const candidate = stream[Number(expected) + 1 + index];
      return candidate?.id === event.id ? candidate : undefined;
    });
    if (stored[0] === undefined) return null;
    return stored.every((event) => event !== undefined) ? (stored.at(-1) as StoredEvent) : 'corrupted';
  }

  private store(
    streamId: string,
    stream: StoredEvent[],
    events: readonly { id: string; type: string; data: string; metadata: string }[],
  ): StoredEvent[] {
    const created = this.clock();
    const stored = events.map((event) => {
      const record: StoredEvent = { streamId, ...event, revision: BigInt(stream.length), created, position: this.nextPosition };
      // Positions are byte offsets of the records in the log.
      this.nextPosition += 64n + BigInt(Buffer.byteLength(event.data) + Buffer.byteLength(event.metadata));
      stream.push(record);
      this.log.push(record);
      return record;
    });
    this.streams.set(streamId, stream);
    for (const subscriber of this.subscribers) if (subscriber.live) this.send(subscriber, stored);
    return stored;
  }

  private send(subscriber: Subscriber, events: readonly StoredEvent[]): void {
    if (subscriber.stream.cancelled) return;
    for (const event of events) {
      if (event.position <= subscriber.cursor || !matches(subscriber.filter, event)) continue;
      subscriber.cursor = event.position;
      subscriber.stream.write({ kind: 'event', resolved: { event: toClientEvent(event), commitPosition: event.position } } satisfies SubscriptionMessage);
    }
  }
}
