import type { BusHandler, BusSubscription, RecordedEvent } from '@flagline/event-sourcing';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { type DeadLetter, type DeadLetterReason, describeError } from './dead-letter.codec';
import { EnvelopeDecodeError, decodeEventEnvelope } from './event-envelope.codec';
import { type HandlerRetryOptions, decideRetry } from './handler-retry.policy';

/**
 * Handles several events of one partition, in log order, as one unit: it resolves once all of
 * them are applied, or throws with none of them applied (atomically, as a batching projector
 * does). A throw the retry policy counts as transient retries the batch whole; any other makes
 * the consumer hand the batch's events to the per-event handler one by one, so a poison event is
 * dead-lettered on its own and the others applied.
 */
export type BusBatchHandler = (events: readonly RecordedEvent[]) => Promise<void>;

export interface KafkaBatchHandling {
  readonly handler: BusBatchHandler;
  /** Most events handed to the batch handler at once (a fetch may hold more); default 1000. */
  readonly maxEvents?: number;
}

export interface KafkaGroupConsumerConfig {
  readonly consumer: Consumer;
  readonly group: string;
  readonly topic: string;
  readonly handler: BusHandler;
  /** When set, messages go to the batch handler a slice of the fetch at a time (see BusBatchHandler). */
  readonly batch?: KafkaBatchHandling;
  readonly fromBeginning: boolean;
  readonly partitionsConsumedConcurrently: number;
  readonly joinTimeoutMs: number;
  readonly retry: HandlerRetryOptions;
  readonly sendDeadLetter: (message: KafkaMessage, letter: DeadLetter) => Promise<void>;
  /**
   * The consumer's heartbeat interval (as given to kafkajs): while a batch handler runs, the
   * member keeps heartbeating at this pace, so a long batch does not cost it its session.
   */
  readonly heartbeatIntervalMs: number;
  /** The first crash of an outage (later ones, until the member is back in its group, are counted, not reported). */
  readonly onError?: (error: unknown) => void;
  /** The member is back in its group after an outage: how long since its first crash, and how many crashes. */
  readonly onRecovered?: (recovery: KafkaRecovery) => void;
}

export interface KafkaRecovery {
  readonly downMs: number;
  readonly crashes: number;
}

/** A consumer whose session timeout the broker refuses (outside group.min/max.session.timeout.ms). */
export class KafkaSessionTimeoutError extends Error {
  constructor(cause: unknown) {
    super(
      `The broker refused the consumer's session timeout (${cause instanceof Error ? cause.message : String(cause)}): ` +
        "it must lie within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms",
    );
    this.name = 'KafkaSessionTimeoutError';
  }
}

type Outcome = 'handled' | 'dead-lettered' | 'stopped';

/**
 * First delay before a member kafkajs gave up on runs again; it doubles on each failure, to the
 * limit. The limit is what a recovered broker may wait for the member to come back: 1 s, not
 * kafkajs's 30 s. Each delay is drawn between half and all of it, so members that crashed
 * together do not all reconnect at the same instant.
 */
export const REVIVAL_FIRST_DELAY_MS = 200;
export const REVIVAL_MAX_DELAY_MS = 1000;

/** The revival delay after `failures` failed attempts: exponential from the first delay, capped, with jitter. */
export function revivalDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(REVIVAL_FIRST_DELAY_MS * 2 ** Math.max(0, failures), REVIVAL_MAX_DELAY_MS);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/** The offset to commit after `offset` was dealt with: Kafka stores the next one to read. */
const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();

/**
 * One member of a consumer group. Kafka hands each partition to one member at a time, and the
 * member handles a partition's messages one after another, so a project's events (one key, one
 * partition) reach the handler in log order and never concurrently.
 *
 * Offsets are committed per message, only after the handler resolved or the message was parked
 * in the dead-letter topic: whatever a crash or a rebalance interrupts is delivered again
 * (at least once), never skipped.
 */
export class KafkaGroupConsumer implements BusSubscription {
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Wakes backoff sleeps, so a stop does not wait out a retry delay. */
  private readonly wakeUps = new Set<() => void>();
  /** Set once the first join succeeded: from then on the member keeps itself running. */
  private started = false;
  private revival: ReturnType<typeof setTimeout> | null = null;
  /** From a revival's scheduling until its run started or failed. */
  private reviving = false;
  private crashedWhileReviving = false;
  /** Failed revivals since the member was last in its group: the next delay grows with them. */
  private revivalFailures = 0;
  /** Since the first crash after the member was last in its group, and the crashes since. */
  private outage: { since: number; crashes: number } | null = null;

  constructor(private readonly config: KafkaGroupConsumerConfig) {}

  /** Resolves once the member joined its group and got its partitions. */
  async start(): Promise<void> {
    const { consumer } = this.config;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.crashed(payload.error);
      // kafkajs restarts after retriable crashes; after any other it leaves the consumer stopped.
      if (!payload.restart && this.started) this.scheduleRevival();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => this.joined());
    try {
      const joined = this.firstJoin();
      // Awaited below; until then a rejection must not count as unhandled.
      joined.catch(() => undefined);
      await this.run();
      await joined;
      this.started = true;
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  private async run(): Promise<void> {
    const { consumer, topic } = this.config;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: this.config.fromBeginning });
    await consumer.run({
      // Manual offsets: kafkajs would otherwise resolve a whole batch and commit on a timer.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Reports the first crash of an outage; the rest of it only counts, so a long outage logs one line, not one per attempt. */
  private crashed(error: unknown): void {
    if (this.outage) {
      this.outage.crashes++;
      return;
    }
    this.outage = { since: Date.now(), crashes: 1 };
    this.config.onError?.(error);
  }

  private joined(): void {
    this.revivalFailures = 0;
    const outage = this.outage;
    if (!outage) return;
    this.outage = null;
    this.config.onRecovered?.({ downMs: Date.now() - outage.since, crashes: outage.crashes });
  }

  /**
   * A subscription never ends on its own: a member whose consumer kafkajs gave up on (a crash it
   * does not count as retriable, such as an unexpected answer while a broker restarts) runs it
   * again after a backoff, from the group's committed offsets, until it is stopped.
   */
  private scheduleRevival(): void {
    if (this.stopping) return;
    // One revival at a time. A crash while one runs (kafkajs reports a failed join from inside
    // `run`) makes it go round again once it is over.
    if (this.reviving) {
      this.crashedWhileReviving = true;
      return;
    }
    this.reviving = true;
    const delay = revivalDelayMs(this.revivalFailures++);
    this.revival = setTimeout(() => {
      this.revival = null;
      if (this.stopping) return;
      this.crashedWhileReviving = false;
      this.run().then(
        () => this.revived(),
        async (error: unknown) => {
          this.crashed(error);
          await this.config.consumer.disconnect().catch(() => undefined);
          this.crashedWhileReviving = true;
          this.revived();
        },
      );
    }, delay);
  }

  private revived(): void {
    this.reviving = false;
    if (this.crashedWhileReviving) this.scheduleRevival();
  }

  private firstJoin(): Promise<void> {
    const { consumer, group, joinTimeoutMs } = this.config;
    return new Promise<void>((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        removeJoin();
        removeCrash();
        outcome();
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`Consumer group ${group} not joined within ${joinTimeoutMs} ms`))), joinTimeoutMs);
      const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => settle(resolve));
      // A crash kafkajs restarts from (a coordinator moving, say) only delays the join.
      const removeCrash = consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) settle(() => reject(isSessionTimeoutRefused(payload.error) ? new KafkaSessionTimeoutError(payload.error) : payload.error));
      });
    });
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    if (this.config.batch) return this.onBatchAtOnce(payload, this.config.batch);
    const { topic, partition, messages } = payload.batch;
    for (const message of messages) {
      if (this.stopping || !payload.isRunning() || payload.isStale()) return;
      const outcome = await this.process(partition, message, () => payload.heartbeat());
      // Not committed: the next owner of the partition starts at this message.
      if (outcome === 'stopped') return;
      payload.resolveOffset(message.offset);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset(message.offset) }] }] });
      await payload.heartbeat();
    }
  }

  /**
   * A fetch in slices of at most `maxEvents` messages: undecodable ones are dead-lettered at once,
   * the rest go to the batch handler together, and the slice's last offset is committed only once
   * the handler resolved (or, after a non-transient failure, every event was handled or
   * dead-lettered one by one). What a crash interrupts is delivered again whole; the handler's
   * checkpoints make the applied part a no-op.
   */
  private async onBatchAtOnce(payload: EachBatchPayload, batch: KafkaBatchHandling): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const size = Math.max(1, batch.maxEvents ?? 1000);
    for (let start = 0; start < messages.length; start += size) {
      if (this.stopping || !payload.isRunning() || payload.isStale()) return;
      const slice = messages.slice(start, start + size);
      const decoded: { message: KafkaMessage; event: RecordedEvent }[] = [];
      for (const message of slice) {
        const event = await this.decode(partition, message);
        if (event) decoded.push({ message, event });
      }
      if (decoded.length > 0) {
        const outcome = await this.handleBatch(partition, decoded, batch.handler, heartbeat);
        if (outcome === 'stopped') return;
      }
      const last = slice[slice.length - 1] as KafkaMessage;
      payload.resolveOffset(last.offset);
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset(last.offset) }] }] });
      await heartbeat();
    }
  }

  private async handleBatch(
    partition: number,
    decoded: readonly { message: KafkaMessage; event: RecordedEvent }[],
    handler: BusBatchHandler,
    heartbeat: () => Promise<void>,
  ): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.keepingSessionAlive(heartbeat, () => handler(decoded.map(({ event }) => event)));
        return 'handled';
      } catch (error) {
        if (this.stopping) return 'stopped';
        if (!this.config.retry.isTransient?.(error)) break;
        const decision = decideRetry(attempt, error, this.config.retry);
        if (!decision.retry) break;
        await this.sleep(decision.delayMs);
        if (this.stopping) return 'stopped';
        await heartbeat();
      }
    }
    // Something in the batch is not transient: find it one event at a time, each with its retries.
    for (const { message, event } of decoded) {
      if (this.stopping) return 'stopped';
      if ((await this.handle(partition, message, event, heartbeat)) === 'stopped') return 'stopped';
      // One by one takes far longer than the batch would: keep the group session alive (kafkajs
      // sends a heartbeat only when the interval has passed).
      await heartbeat();
    }
    return 'handled';
  }

  /**
   * Runs `work` while heartbeating at the configured pace: kafkajs heartbeats only between
   * fetches and when asked, and one batch (thousands of events in one Redis step) can outlast a
   * short session. kafkajs sends a heartbeat only when the interval has passed since its last
   * request, so asking twice per interval costs nothing in between. A heartbeat that fails
   * (the group is rebalancing) is left to the commit after the batch, which then fails the same
   * way and makes kafkajs rejoin; the handler's checkpoints make the redelivery a no-op.
   */
  private async keepingSessionAlive<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      heartbeat().catch(() => undefined);
    }, Math.max(50, Math.floor(this.config.heartbeatIntervalMs / 2)));
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** The message's event, or null when it cannot be read and was dead-lettered. */
  private async decode(partition: number, message: KafkaMessage): Promise<RecordedEvent | null> {
    try {
      return decodeEventEnvelope(message.value);
    } catch (error) {
      if (!(error instanceof EnvelopeDecodeError)) throw error;
      // No retry can make a message readable: park it at once and go on.
      await this.deadLetter(partition, message, error.reason, error, 0);
      return null;
    }
  }

  private async process(partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<Outcome> {
    const event = await this.decode(partition, message);
    if (!event) return 'dead-lettered';
    return this.handle(partition, message, event, heartbeat);
  }

  private async handle(partition: number, message: KafkaMessage, event: RecordedEvent, heartbeat: () => Promise<void>): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.keepingSessionAlive(heartbeat, async () => this.config.handler(event));
        return 'handled';
      } catch (error) {
        if (this.stopping) return 'stopped';
        const decision = decideRetry(attempt, error, this.config.retry);
        if (!decision.retry) {
          await this.deadLetter(partition, message, 'handler-failed', error, attempt);
          return 'dead-lettered';
        }
        // The partition waits for this message: handling a later one first would break the order.
        await this.sleep(decision.delayMs);
        if (this.stopping) return 'stopped';
        await heartbeat();
      }
    }
  }

  private async deadLetter(partition: number, message: KafkaMessage, reason: DeadLetterReason, error: unknown, attempts: number): Promise<void> {
    await this.config.sendDeadLetter(message, {
      reason,
      error: describeError(error),
      topic: this.config.topic,
      partition,
      offset: message.offset,
      group: this.config.group,
      attempts,
      failedAt: new Date().toISOString(),
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeUps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeUps.add(wake);
    });
  }

  /**
   * Leaves the group: the message in hand finishes (and is committed), nothing further starts,
   * and the group hands the partitions to the remaining members at once.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      if (this.revival !== null) clearTimeout(this.revival);
      this.revival = null;
      for (const wake of [...this.wakeUps]) wake();
      await this.config.consumer.disconnect();
    })();
    return this.stopped;
  }
}

/** kafkajs's error for a JoinGroup the broker answered with INVALID_SESSION_TIMEOUT. */
function isSessionTimeoutRefused(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = (current as Error & { cause?: unknown }).cause) {
    if ((current as Error & { type?: unknown }).type === 'INVALID_SESSION_TIMEOUT') return true;
  }
  return false;
}
