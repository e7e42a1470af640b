import type { Admin, Consumer, ConsumerConfig, Kafka } from 'kafkajs';

/** How far one partition this member owns is behind the partition's end. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** High watermark minus the next offset to process (messages not yet handled). */
  readonly lag: number;
}

/** Whether the member is in its group, and if not why. */
export type Membership = { readonly joined: true } | { readonly joined: false; readonly reason: string };

interface Position {
  /** The partition's high watermark as last seen (next offset to be written). */
  high?: bigint;
  /** The next offset this member will process (the last one committed). */
  next?: bigint;
}

const maxOf = (a: bigint | undefined, b: bigint): bigint => (a === undefined || b > a ? b : a);

/**
 * Follows group consumers through kafkajs's instrumentation events, to report consumer lag per
 * owned partition and whether the member is in its group (for readiness), without reaching into
 * how the bus consumes: assignments from GROUP_JOIN, high watermarks from each fetched batch,
 * processed offsets from each commit (the bus commits after handling). A batch is fetched only
 * when messages arrive, so `refresh` also reads the watermarks and committed offsets from the
 * brokers, which keeps the lag true while the member is idle or held back (a handler retrying).
 */
export class ConsumerLagTracker {
  /** topic → partition → position, for the partitions this member owns. */
  private readonly owned = new Map<string, Map<number, Position>>();
  private state: Membership = { joined: false, reason: 'not joined yet' };
  /** topic → partitions the topic has, as the brokers last said. */
  private readonly counts = new Map<string, number>();

  /** Starts following a consumer (one member per tracker). */
  watch(consumer: Consumer): void {
    const { events } = consumer;
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.owned.clear();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        this.owned.set(topic, new Map(partitions.map((partition) => [partition, {}])));
      }
      this.state = { joined: true };
    });
    consumer.on(events.REBALANCING, () => this.leave('rebalancing'));
    consumer.on(events.CRASH, ({ payload }) => this.leave(`consumer crashed${payload.restart ? ' (restarting)' : ''}: ${payload.error.message}`));
    consumer.on(events.STOP, () => this.leave('consumer stopped'));
    consumer.on(events.DISCONNECT, () => this.leave('consumer disconnected'));
    consumer.on(events.START_BATCH_PROCESS, ({ payload }) => {
      const position = this.position(payload.topic, payload.partition);
      if (position === undefined) return;
      position.high = maxOf(position.high, BigInt(payload.highWatermark));
      position.next ??= BigInt(payload.firstOffset);
    });
    consumer.on(events.COMMIT_OFFSETS, ({ payload }) => {
      for (const { topic, partitions } of payload.topics) {
        for (const { partition, offset } of partitions) {
          const position = this.position(topic, partition);
          if (position !== undefined) position.next = maxOf(position.next, BigInt(offset));
        }
      }
    });
  }

  private leave(reason: string): void {
    this.owned.clear();
    this.state = { joined: false, reason };
  }

  private position(topic: string, partition: number): Position | undefined {
    return this.owned.get(topic)?.get(partition);
  }

  membership(): Membership {
    return this.state;
  }

  /** Lag of each owned partition whose position is known. */
  lag(): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const [topic, partitions] of this.owned) {
      for (const [partition, { high, next }] of partitions) {
        if (high === undefined || next === undefined) continue;
        lags.push({ topic, partition, lag: Number(high > next ? high - next : 0n) });
      }
    }
    return lags;
  }

  /** How many partitions each topic had at the last refresh (the topics owned, and those `refresh` was asked about). */
  partitionCounts(): { topic: string; partitions: number }[] {
    return [...this.counts].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /**
   * Reads the owned partitions' high watermarks and the group's committed offsets from the
   * brokers, and the partition count of those topics and of `topics` (asked even when this member
   * owns none of their partitions, so the count of partitions no member owns can be told).
   */
  async refresh(admin: Admin, groupId: string, topics: readonly string[] = []): Promise<void> {
    for (const topic of new Set([...this.owned.keys(), ...topics])) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      this.counts.set(topic, ends.length);
      const start = new Map(ends.map(({ partition, low }) => [partition, BigInt(low)]));
      for (const { partition, high } of ends) {
        const position = this.position(topic, partition);
        if (position !== undefined) position.high = maxOf(position.high, BigInt(high));
      }
      for (const { partition, offset } of committed?.partitions ?? []) {
        const position = this.position(topic, partition);
        // -1: nothing committed yet; the group starts at the earliest retained offset.
        if (position !== undefined) position.next = maxOf(position.next, offset === '-1' ? (start.get(partition) ?? 0n) : BigInt(offset));
      }
    }
  }
}

/**
 * The same Kafka client, except that `tracker` follows the consumers made with it: give it to
 * the bus in place of the plain one. The tracker follows one member, so the bus should subscribe once.
 */
export function trackConsumerLag(kafka: Kafka, tracker: ConsumerLagTracker): Kafka {
  const consumer = (config: ConsumerConfig): Consumer => {
    const made = kafka.consumer(config);
    tracker.watch(made);
    return made;
  };
  return new Proxy(kafka, {
    get: (target, property) => {
      if (property === 'consumer') return consumer;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * One admin connection for periodic queries (lag, reachability), each bounded by a deadline:
 * kafkajs retries a lost broker for seconds before failing, and a probe must answer sooner. A
 * failed query drops the connection, so the next one connects afresh.
 */
export class KafkaAdminSession {
  private readonly admin: Admin;
  private connected: Promise<void> | null = null;

  constructor(
    kafka: Kafka,
    private readonly timeoutMs = 4000,
  ) {
    this.admin = kafka.admin();
  }

  async run<T>(query: (admin: Admin) => Promise<T>): Promise<T> {
    const connected = (this.connected ??= this.admin.connect());
    try {
      return await withDeadline(
        connected.then(() => query(this.admin)),
        this.timeoutMs,
        `Kafka did not answer within ${this.timeoutMs} ms`,
      );
    } catch (error) {
      this.connected = null;
      await this.admin.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.connected = null;
    await this.admin.disconnect().catch(() => undefined);
  }
}

/** Rejects after `ms` with `message`, unless `work` settles first; kafkajs retries a lost broker for seconds before it fails. */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
