import type { BusHandler, BusSubscription, EventBus, RecordedEvent } from '@flagline/event-sourcing';
import { type Admin, type ITopicConfig, type Kafka, type KafkaMessage, type Producer, type RetryOptions, KafkaJSError, Partitioners } from 'kafkajs';
import { type DeadLetter, deadLetterHeaders } from './dead-letter.codec';
import { encodeEventEnvelope, messageKeyOf } from './event-envelope.codec';
import type { HandlerRetryOptions } from './handler-retry.policy';
import { type KafkaBatchHandling, KafkaGroupConsumer, type KafkaRecovery } from './kafka-group-consumer';

/**
 * Retries of Kafka requests and reconnections, for the client (`new Kafka({ retry })`) and for
 * what the bus creates on it. kafkajs's default doubles the wait up to 30 s, so a broker that
 * came back after a long outage waited up to 30 s for its clients; here no wait exceeds 1 s
 * (below the cap kafkajs draws each within ±20 %), which keeps an outage at one attempt a
 * second per client. A request fails only after 120 retries (about two minutes): through a
 * shorter outage a consumer keeps retrying inside kafkajs with its group membership, so that
 * when the broker is back it goes on as the member it was. A consumer that crashed instead comes
 * back as a new member, and the group (reloaded by the restarted broker with the old member in
 * it) waits out the old member's session before it hands out partitions. Past two minutes a
 * publish rejects (the relay starts again from its checkpoint) and a consumer crashes and is
 * run again.
 */
export const KAFKA_RECONNECT_RETRY: Readonly<RetryOptions> = { initialRetryTime: 100, maxRetryTime: 1000, factor: 0.2, multiplier: 2, retries: 120 };

/** kafkajs's heartbeat interval when none is given. */
const KAFKAJS_HEARTBEAT_INTERVAL_MS = 3000;

export interface KafkaEventBusOptions {
  /** The client (brokers, client id, logging, connection retries). The bus does not own it. */
  readonly kafka: Kafka;
  /** Default `flagline.events`; dead letters go to `<topic>.dlq`. */
  readonly topic?: string;
  /** Create the topics when missing (default true); false where operators manage topics. */
  readonly createTopics?: boolean;
  /** Partitions of a topic this bus creates; default 6. It bounds a group's parallelism. */
  readonly partitions?: number;
  /** Replicas of a topic this bus creates; default: the broker's default. */
  readonly replicationFactor?: number;
  /**
   * Where a group without committed offsets starts. Default: the earliest retained event, so a
   * new projector (or one rebuilding under a new name) sees everything the topic holds.
   */
  readonly fromBeginning?: boolean;
  readonly handlerRetry?: HandlerRetryOptions;
  /** Retries of the consumers, producer and admin client the bus creates; default KAFKA_RECONNECT_RETRY. */
  readonly retry?: RetryOptions;
  readonly consumer?: {
    readonly sessionTimeoutMs?: number;
    readonly heartbeatIntervalMs?: number;
    /**
     * Longest wait of a fetch for new messages; also bounds how long a stop waits. kafkajs
     * heartbeats between fetches, so an idle member learns of a rebalance only after its fetch
     * returns. Default: the heartbeat interval, at most 1000.
     */
    readonly maxWaitTimeMs?: number;
    /** Most bytes one fetch returns per partition (kafkajs default 1 MiB); it bounds a batch handler's batches. */
    readonly maxBytesPerPartition?: number;
    /** Partitions one member handles at the same time (each still in order); default 1. */
    readonly partitionsConsumedConcurrently?: number;
    /** How long `subscribe` waits for the group join; default 60 s. */
    readonly joinTimeoutMs?: number;
  };
  /** Called after a message was written to the dead-letter topic. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /**
   * A consumer's first crash of an outage (kafkajs restarts retriable ones by itself, the bus
   * the others); further crashes until it is back in its group are only counted.
   */
  readonly onError?: (error: unknown) => void;
  /** A consumer is back in its group after an outage (see onError). */
  readonly onRecovered?: (recovery: KafkaRecovery) => void;
}

/**
 * The event bus on Kafka. One topic carries every event, keyed by project (see messageKeyOf),
 * so each project's events stay in one partition in log order; a consumer group per projector
 * shares the partitions among its members.
 */
export class KafkaEventBus implements EventBus {
  readonly topic: string;
  readonly deadLetterTopic: string;
  private readonly kafka: Kafka;
  private topicsReady: Promise<void> | null = null;
  private producerReady: Promise<Producer> | null = null;
  private producer: Producer | null = null;
  private readonly subscriptions = new Set<KafkaGroupConsumer>();
  private closed = false;

  constructor(private readonly options: KafkaEventBusOptions) {
    this.kafka = options.kafka;
    this.topic = options.topic ?? 'flagline.events';
    this.deadLetterTopic = `${this.topic}.dlq`;
  }

  /**
   * Resolves once every partition leader wrote the events to all in-sync replicas (acks -1).
   * The producer is idempotent: a batch its own retries resend is written once. One request in
   * flight per broker keeps a partition's batches in the order sent.
   */
  async publish(events: readonly RecordedEvent[]): Promise<void> {
    this.assertOpen();
    if (events.length === 0) return;
    const producer = await this.connectedProducer();
    try {
      await producer.send({
        topic: this.topic,
        acks: -1,
        messages: events.map((event) => ({ key: messageKeyOf(event), value: encodeEventEnvelope(event) })),
      });
    } catch (error) {
      this.discardProducer(producer);
      throw error;
    }
  }

  subscribe(group: string, handler: BusHandler): Promise<BusSubscription> {
    return this.join(group, handler);
  }

  /**
   * Like `subscribe`, but hands the batch handler up to `batch.maxEvents` events of a partition
   * at once (see BusBatchHandler); `handler` takes them one by one when a batch failed for a
   * reason the retry policy does not count as transient, so that a poison event is
   * dead-lettered alone and the rest applied.
   */
  subscribeBatches(group: string, handler: BusHandler, batch: KafkaBatchHandling): Promise<BusSubscription> {
    return this.join(group, handler, batch);
  }

  private async join(group: string, handler: BusHandler, batch?: KafkaBatchHandling): Promise<BusSubscription> {
    this.assertOpen();
    await this.ensureTopics();
    const consumerOptions = this.options.consumer ?? {};
    const heartbeatIntervalMs = consumerOptions.heartbeatIntervalMs ?? KAFKAJS_HEARTBEAT_INTERVAL_MS;
    const member = new KafkaGroupConsumer({
      consumer: this.kafka.consumer({
        groupId: group,
        allowAutoTopicCreation: false,
        retry: this.retry(),
        maxWaitTimeInMs: consumerOptions.maxWaitTimeMs ?? Math.min(1000, heartbeatIntervalMs),
        ...(consumerOptions.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: consumerOptions.maxBytesPerPartition }),
        ...(consumerOptions.sessionTimeoutMs === undefined ? {} : { sessionTimeout: consumerOptions.sessionTimeoutMs }),
        ...(consumerOptions.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: consumerOptions.heartbeatIntervalMs }),
      }),
      group,
      topic: this.topic,
      handler,
      ...(batch ? { batch } : {}),
      fromBeginning: this.options.fromBeginning ?? true,
      partitionsConsumedConcurrently: consumerOptions.partitionsConsumedConcurrently ?? 1,
      joinTimeoutMs: consumerOptions.joinTimeoutMs ?? 60_000,
      retry: this.options.handlerRetry ?? {},
      sendDeadLetter: (message, letter) => this.sendDeadLetter(message, letter),
      heartbeatIntervalMs,
      ...(this.options.onError ? { onError: this.options.onError } : {}),
      ...(this.options.onRecovered ? { onRecovered: this.options.onRecovered } : {}),
    });
    this.subscriptions.add(member);
    try {
      await member.start();
    } catch (error) {
      this.subscriptions.delete(member);
      throw error;
    }
    return {
      stop: async () => {
        await member.stop();
        this.subscriptions.delete(member);
      },
    };
  }

  /** Parks a message with its original key, value and headers, plus why it was given up on. */
  private async sendDeadLetter(message: KafkaMessage, letter: DeadLetter): Promise<void> {
    const producer = await this.connectedProducer();
    try {
      await producer.send({
        topic: this.deadLetterTopic,
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: deadLetterHeaders(letter, message.headers) }],
      });
    } catch (error) {
      this.discardProducer(producer);
      throw error;
    }
    this.options.onDeadLetter?.(letter);
  }

  private retry(): RetryOptions {
    return { ...KAFKA_RECONNECT_RETRY, ...this.options.retry };
  }

  private ensureTopics(): Promise<void> {
    if (this.options.createTopics === false) return Promise.resolve();
    this.topicsReady ??= this.createTopics().catch((error: unknown) => {
      this.topicsReady = null;
      throw error;
    });
    return this.topicsReady;
  }

  private async createTopics(): Promise<void> {
    const admin = this.kafka.admin({ retry: this.retry() });
    await admin.connect();
    try {
      const replicationFactor = this.options.replicationFactor ?? -1;
      // One call per topic: when one of them exists, kafkajs does not wait for the other's leader.
      await createTopicWithLeaders(admin, { topic: this.topic, numPartitions: this.options.partitions ?? 6, replicationFactor });
      await createTopicWithLeaders(admin, { topic: this.deadLetterTopic, numPartitions: 1, replicationFactor });
    } finally {
      await admin.disconnect();
    }
  }

  private connectedProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      await this.ensureTopics();
      const producer = this.kafka.producer({
        idempotent: true,
        retry: this.retry(),
        // kafkajs guarantees idempotence (and order) only with one request in flight.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error: unknown) => {
      this.producerReady = null;
      throw error;
    });
    return this.producerReady;
  }

  /**
   * After a failed send the broker may or may not have written the batch, and the producer's
   * sequence numbers may no longer match the broker's. The next publish gets a new producer
   * (a new producer id), so a different batch can never be dropped as a "duplicate" of the
   * failed one; the price is that a republished batch may be written twice, which consumers
   * tolerate.
   */
  private discardProducer(producer: Producer): void {
    if (this.producer === producer) {
      this.producer = null;
      this.producerReady = null;
    }
    producer.disconnect().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The Kafka event bus is closed');
  }

  /** Stops every subscription (each finishes its message in hand) and disconnects the producer. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((member) => member.stop()));
    this.subscriptions.clear();
    const producer = this.producerReady;
    this.producerReady = null;
    this.producer = null;
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }
}

/** How long a topic just created (here or by another process) may take to have a leader for every partition. */
const TOPIC_LEADERS_TIMEOUT_MS = 30_000;

/**
 * Creates the topic if missing and waits until every partition has a leader. Right after a
 * creation, ours or that of a service starting at the same time (the relay and the projectors
 * create the same topic), the broker can still answer "unknown topic or partition" to the leader
 * check, which kafkajs's createTopics does not retry; and when the topic already exists kafkajs
 * does not wait for its leaders at all. Retriable errors are tried again until the deadline.
 */
async function createTopicWithLeaders(admin: Admin, topic: ITopicConfig): Promise<void> {
  const deadline = Date.now() + TOPIC_LEADERS_TIMEOUT_MS;
  for (;;) {
    try {
      await admin.createTopics({ topics: [topic], waitForLeaders: true });
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic.topic] })).topics;
      const partitions = metadata?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((partition) => partition.leader >= 0)) return;
      if (Date.now() >= deadline) throw new Error(`Topic ${topic.topic} has partitions without a leader after ${TOPIC_LEADERS_TIMEOUT_MS} ms`);
    } catch (error) {
      if (!(error instanceof KafkaJSError && error.retriable) || Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
