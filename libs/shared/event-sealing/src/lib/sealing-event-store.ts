import type {
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
} from '@flagline/event-sourcing';
import { LRUCache } from 'lru-cache';
import { isSealedData, newSealingKey, openEvent, sealEvent, type SealingPolicy } from './event-sealer';
import type { SealingKey, SealingKeyStore } from './sealing-key.store';

/**
 * Opens sealed events read from the log, or from a bus carrying them as stored (the distributed
 * projector's Kafka topic): each stream's key looked up once per batch.
 */
export class EventOpener {
  constructor(private readonly keys: Pick<SealingKeyStore, 'get'>) {}

  async open(events: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
    const owners = [...new Set(events.filter((event) => isSealedData(event.data)).map((event) => event.streamName))];
    if (owners.length === 0) return [...events];
    const keys = new Map(await Promise.all(owners.map(async (owner) => [owner, await this.keys.get(owner)] as const)));
    return events.map((event) => (keys.has(event.streamName) ? openEvent(event, keys.get(event.streamName)) : event));
  }

  async openOne(event: RecordedEvent): Promise<RecordedEvent> {
    return isSealedData(event.data) ? openEvent(event, await this.keys.get(event.streamName)) : event;
  }
}

/**
 * Opens each delivered event once for every subscriber: a store delivers the same recorded event
 * to each of its subscriptions (the catalog's and the relay's), so the second one finds it opened;
 * and an event this process has just sealed is not opened at all, its data taken as it was given
 * to the append (kept only until the event is first delivered, or the append fails). Only for
 * events delivered live: an erasure destroys the key after the subscribers have applied it.
 */
class OpenedOnce {
  private readonly opened = new WeakMap<RecordedEvent, Promise<RecordedEvent>>();
  /** The data of events being appended, by id, until their first delivery (bounded: a retried append is not delivered again). */
  private readonly appending = new LRUCache<string, Exclude<NewEvent['data'], null>>({ max: 10_000 });

  constructor(private readonly keys: Pick<SealingKeyStore, 'get'>) {}

  /** Remembers what the events carry in the clear; `forget` them if their append fails. */
  sealing(events: readonly NewEvent[]): void {
    for (const event of events) if (event.data !== null) this.appending.set(event.id, event.data);
  }

  forget(events: readonly NewEvent[]): void {
    for (const event of events) this.appending.delete(event.id);
  }

  open(event: RecordedEvent): Promise<RecordedEvent> {
    let opened = this.opened.get(event);
    if (!opened) {
      opened = this.openFirst(event);
      this.opened.set(event, opened);
    }
    return opened;
  }

  private async openFirst(event: RecordedEvent): Promise<RecordedEvent> {
    const data = this.appending.get(event.id);
    this.appending.delete(event.id);
    const key = await this.keys.get(event.streamName);
    // Taken as given only while the key that sealed it is there: once destroyed, it reads as erased as it would from the log.
    const sealedWith = isSealedData(event.data) ? event.data.sealed.kid : undefined;
    return data !== undefined && key !== undefined && key.id === sealedWith ? ({ ...event, data }) : openEvent(event, key);
  }
}

/**
 * Seals personal data on its way into the log and opens it on its way out, so the code above
 * (deciders, catalogs, projections) reads plaintext while the log holds only ciphertext under a
 * key per stream kept in a `SealingKeyStore`. A stream's key is made with its first sealed
 * append and is durable before that append is made, so no acknowledged event is unreadable; once
 * the key is destroyed, the stream's events read as erased and their stored bytes are unchanged.
 * Events written before sealing (no box) read as they are.
 */
export class SealingEventStore implements EventStore {
  private readonly opener: EventOpener;
  private readonly delivered: OpenedOnce;

  constructor(
    private readonly inner: EventStore,
    private readonly keys: SealingKeyStore,
    private readonly policy: SealingPolicy,
  ) {
    this.opener = new EventOpener(keys);
    this.delivered = new OpenedOnce(keys);
  }

  async appendToStream(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    if (events.length === 0 || !this.policy.sealsStream(streamName)) return this.inner.appendToStream(streamName, events, options);
    // A stream the append expects to be new has no key worth looking up: `ensure` and `commit`
    // answer the stored one if an earlier attempt made it.
    const existing = options?.expectedRevision === 'no_stream' ? undefined : await this.keys.get(streamName);
    try {
      return await this.appendSealed(streamName, events, options, existing);
    } catch (error) {
      this.delivered.forget(events);
      throw error;
    }
  }

  private async appendSealed(streamName: string, events: readonly NewEvent[], options: AppendOptions | undefined, existing: SealingKey | undefined): Promise<AppendResult> {
    if (existing) return this.inner.appendToStream(streamName, this.sealAll(events, streamName, existing), options);
    if (!this.keys.commit) {
      const made = await this.keys.ensure(streamName, newSealingKey());
      return this.inner.appendToStream(streamName, this.sealAll(events, streamName, made), options);
    }
    // A new stream's key: its flush and the append's overlap, and the append is acknowledged only
    // once both are done. A crash between them can leave an unacknowledged event without its key,
    // which reads as erased (its write is lost, as an unacknowledged write may be), never an
    // acknowledged one.
    const { key, durable } = await this.keys.commit(streamName, newSealingKey());
    const [result] = await Promise.all([this.inner.appendToStream(streamName, this.sealAll(events, streamName, key), options), durable]);
    return result;
  }

  private sealAll(events: readonly NewEvent[], streamName: string, key: SealingKey): NewEvent[] {
    this.delivered.sealing(events);
    return events.map((event) => sealEvent(event, streamName, key, this.policy));
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    const result = await this.inner.readStream(streamName, options);
    if (!result.events.some((event) => isSealedData(event.data))) return result;
    const key = await this.keys.get(streamName);
    return { ...result, events: result.events.map((event) => openEvent(event, key)) };
  }

  async readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return this.opener.open(await this.inner.readAll(options));
  }

  /** Opens one event read from the raw log elsewhere. */
  openOne(event: RecordedEvent): Promise<RecordedEvent> {
    return this.opener.openOne(event);
  }

  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    return this.inner.subscribeToAll(options, (event) => (isSealedData(event.data) ? this.delivered.open(event).then(handler) : handler(event)));
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
