import { upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { EnvironmentProjector, type ProjectionOutcome } from '@flagline/admin-projections';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventOpener } from '@flagline/event-sealing';
import { RedisSealingKeyStore } from '@flagline/key-store';
import { checkKafkaReachable, KAFKA_RECONNECT_RETRY, KafkaEventBus, KafkaSessionTimeoutError } from '@flagline/message-bus-kafka';
import { ConfigError, createOpsHttpApp, EnvReader, PinoNestLogger, reach, readKafkaTopicSettings, ServiceMetrics, type HealthReport, type KafkaTopicSettings } from '@flagline/observability';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { ConsumerLagTracker, KafkaAdminSession, trackConsumerLag } from '@flagline/message-bus-kafka';
import { HealthChecks, failing, PASSING, PROPAGATION_BUCKETS, reasonOf, watchConnection } from '@flagline/observability';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BatchProjection } from './batch-projection';

export interface ProjectorConfig {
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: string[];
  readonly topic: string;
  /** Partitions, replication and creation of the topics, should this member create them; unset, the bus's defaults. */
  readonly topics?: KafkaTopicSettings;
  readonly groupId: string;
  readonly redisUrl: string;
  readonly readModelPrefix: string;
  /**
   * How long the group waits for a member that stopped heartbeating (a killed projector) before
   * giving its partitions to the others. The broker must allow it: group.min.session.timeout.ms
   * (Kafka's default 6000) at or below it.
   */
  readonly sessionTimeoutMs: number;
  /** How often a member heartbeats (and, idle, how long its fetches wait); at most a third of the session timeout, which is the default. */
  readonly heartbeatIntervalMs?: number;
  /** Events applied per atomic batch commit (default 8000); 0 applies each event on its own (one Lua step each). */
  readonly batchEvents: number;
  /** Where the command service keeps the keys that seal identities' personal data (`SEALING_KEY_PREFIX`). */
  readonly sealingKeyPrefix?: string;
}

export function loadProjectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const read = new EnvReader(env);
  const sessionTimeoutMs = read.integer('KAFKA_SESSION_TIMEOUT_MS', 1000, 500, 300_000);
  const heartbeatIntervalMs = read.integer('KAFKA_HEARTBEAT_INTERVAL_MS', Math.min(300, Math.floor(sessionTimeoutMs / 3)), 50, 100_000);
  if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
    read.problem(
      `KAFKA_HEARTBEAT_INTERVAL_MS (${heartbeatIntervalMs}) must be at most a third of KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}): one late heartbeat must not end a member's session`,
    );
  }
  const config: ProjectorConfig = {
    port: read.integer('PORT', 8004, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    kafkaBrokers: read.hostPorts('KAFKA_BROKERS'),
    topic: read.string('KAFKA_TOPIC', 'flagline.events'),
    topics: readKafkaTopicSettings(read),
    groupId: read.string('KAFKA_GROUP_ID', 'flagline-projector'),
    redisUrl: read.url('REDIS_URL', ['redis', 'rediss']),
    readModelPrefix: read.string('READ_MODEL_PREFIX', 'flagline:rm:v1:'),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    batchEvents: read.integer('PROJECTOR_BATCH_EVENTS', 8000, 0, 20_000),
    sealingKeyPrefix: read.string('SEALING_KEY_PREFIX', 'flagline:sealing-key:'),
  };
  read.done();
  return config;
}

/** Errors of an unreachable Redis: retried without limit, never dead-lettered (that would leave a hole). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable|LOADING|READONLY|MASTERDOWN/.test(error.message)
  );
}

export interface RunningProjector {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Consumes the event topic in a consumer group and keeps the per-environment read models in
 * Redis. A slice of a Kafka fetch (up to `batchEvents` events of one partition) is applied as one
 * Lua step together with every project checkpoint it moves (see BatchProjection), so
 * redeliveries are no-ops and a crash leaves no batch half-applied; a batch that fails for any
 * reason but Redis being away is applied again event by event, each its own Lua step, so that a
 * poison event is dead-lettered alone. Instances in the group share the partitions.
 */
export async function startProjector(config: ProjectorConfig, logger: Logger): Promise<RunningProjector> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis'));
  const store = new RedisReadModelStore({ redis, keyPrefix: config.readModelPrefix, onError: (error) => logger.warn({ err: error }, 'redis subscriber') });
  const projector = new EnvironmentProjector(store);
  // Events come as the log stores them: identities' personal data sealed, opened with the keys the
  // command service keeps in the same Redis (an erased identity's read as erased, which projects nothing).
  const opener = new EventOpener(new RedisSealingKeyStore({ redis, ...(config.sealingKeyPrefix !== undefined ? { keyPrefix: config.sealingKeyPrefix } : {}) }));
  const metrics = new ServiceMetrics('projector');
  const handled = metrics.counter('flagline_projector_events_total', 'Events handled, by outcome', ['outcome']);
  const deadLetters = metrics.counter('flagline_projector_dead_letters_total', 'Events sent to the dead-letter topic', ['reason']);
  let lastPosition = 0;
  metrics.gauge('flagline_projector_last_position', 'Global position of the last event handled', [], (gauge) => gauge.set(lastPosition));
  const retries = metrics.counter('flagline_projector_handler_retries_total', 'Handler failures retried, by cause (redis-unavailable is retried without limit)', ['cause']);
  const propagation = metrics.histogram(
    'flagline_projector_propagation_seconds',
    "From an event's recordedAt to its change committed to the read model in Redis",
    [],
    PROPAGATION_BUCKETS,
  );
  const observePropagation = (events: readonly RecordedEvent[]): void => {
    const now = Date.now();
    for (const event of events) propagation.observe(Math.max(0, now - Date.parse(event.recordedAt)) / 1000);
  };
  // Consumer lag and group membership, followed on the bus's consumer and refreshed from the brokers.
  const lag = new ConsumerLagTracker();
  metrics.gauge('flagline_kafka_consumer_lag', 'Messages of an owned partition not yet projected (high watermark minus next offset)', ['group', 'topic', 'partition'], (gauge) => {
    gauge.reset();
    for (const { topic, partition, lag: behind } of lag.lag()) gauge.set({ group: config.groupId, topic, partition: String(partition) }, behind);
  });
  // With the lag's series per owned partition, tells partitions no member owns (their lag has no series).
  metrics.gauge('flagline_kafka_topic_partitions', 'Partitions of the topic, as the brokers last said (compare with the count of flagline_kafka_consumer_lag series)', ['group', 'topic'], (gauge) => {
    gauge.reset();
    for (const { topic, partitions } of lag.partitionCounts()) gauge.set({ group: config.groupId, topic }, partitions);
  });
  const health = new HealthChecks('projector')
    .probe('kafka', () => {
      const membership = lag.membership();
      return membership.joined ? PASSING : failing(`not in consumer group ${config.groupId}: ${membership.reason}`);
    }, { dependency: 'kafka' })
    // The group membership alone can stay "joined" for a while after the brokers went away.
    .add('kafka-brokers', 'not asked yet', { dependency: 'kafka' })
    .add('redis', 'not connected yet', { dependency: 'redis' });
  health.up('kafka-brokers'); // asked every 2 s from the start (below)
  watchConnection(redis, health, 'redis');
  health.exportTo(metrics);

  await reach('Redis', config.redisUrl, () => redis.ping());
  await reach('Kafka', config.kafkaBrokers.join(','), () => checkKafkaReachable(config.kafkaBrokers, 'flagline-projector'));
  const kafka = new Kafka({ clientId: 'flagline-projector', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING, retry: KAFKA_RECONNECT_RETRY });
  const bus = new KafkaEventBus({
    kafka: trackConsumerLag(kafka, lag),
    topic: config.topic,
    ...config.topics,
    handlerRetry: {
      isTransient: isRedisUnavailable,
      onRetry: (_attempt, error) => retries.inc({ cause: isRedisUnavailable(error) ? 'redis-unavailable' : 'handler-error' }),
    },
    // A crashed member's partitions wait for its session to expire: keep that short (kafkajs: 30 s).
    consumer: {
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs ?? Math.floor(config.sessionTimeoutMs / 3),
      // Room for a whole batch in one fetch (an event's message is about 0.5 KiB).
      ...(config.batchEvents > 0 ? { maxBytesPerPartition: Math.max(1 << 20, config.batchEvents * 1024) } : {}),
    },
    onDeadLetter: (letter) => {
      deadLetters.inc({ reason: letter.reason });
      logger.error({ reason: letter.reason, error: letter.error, partition: letter.partition, offset: letter.offset }, 'event sent to the dead-letter topic');
    },
    onError: (error) => logger.warn({ err: error }, 'kafka consumer crashed; reconnecting every second at most until it is back in its group'),
    onRecovered: ({ downMs, crashes }) => logger.info({ downMs, crashes }, 'kafka consumer back in its group'),
  });
  let ready = false;
  const handleOne = async (event: RecordedEvent): Promise<void> => {
    // Events reach the projector as the log stores them: upcast here, its read boundary.
    const outcome: ProjectionOutcome = await projector.handle(upcastRecordedAdminEvent(await opener.openOne(event)));
    handled.inc({ outcome });
    observePropagation([event]);
    lastPosition = Math.max(lastPosition, event.globalPosition);
  };
  const batches = new BatchProjection(store);
  const handleBatch = async (events: readonly RecordedEvent[]): Promise<void> => {
    const counts = new Map<ProjectionOutcome, number>();
    for (const outcome of await batches.apply((await opener.open(events)).map(upcastRecordedAdminEvent))) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    for (const [outcome, count] of counts) handled.inc({ outcome }, count);
    observePropagation(events);
    for (const event of events) lastPosition = Math.max(lastPosition, event.globalPosition);
  };
  const subscription = await (
    config.batchEvents > 0 ? bus.subscribeBatches(config.groupId, handleOne, { handler: handleBatch, maxEvents: config.batchEvents }) : bus.subscribe(config.groupId, handleOne)
  ).catch((error: unknown) => {
    if (error instanceof KafkaSessionTimeoutError) throw new ConfigError([`KAFKA_SESSION_TIMEOUT_MS (${config.sessionTimeoutMs}): ${error.message}`]);
    throw error;
  });
  ready = true;

  // The lag is refreshed from the brokers every 2 s (a batch is fetched only when messages
  // arrive), which also tells whether they answer.
  const admin = new KafkaAdminSession(kafka, 4000);
  let refreshing = false;
  const lagTimer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    admin
      .run(async (client) => {
        // Asked even when the member owns no partition, so an idle member notices the brokers going away.
        await client.describeCluster();
        await lag.refresh(client, config.groupId, [config.topic]);
      })
      .then(
        () => health.up('kafka-brokers'),
        (error: unknown) => health.down('kafka-brokers', `brokers ${config.kafkaBrokers.join(',')} not answering: ${reasonOf(error)}`),
      )
      .finally(() => (refreshing = false));
  }, 2000);
  lagTimer.unref();
  const report = (): HealthReport => health.report({ group: config.groupId, subscribed: ready, lastPosition });
  const app = await createOpsHttpApp({ health: report, metrics }, new PinoNestLogger(logger));
  await app.listen(config.port, config.host);
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  logger.info({ port, topic: config.topic, group: config.groupId }, 'projector running');
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      clearInterval(lagTimer);
      await subscription.stop();
      await admin.close();
      await app.close();
      await bus.close();
      await store.close();
      redis.disconnect();
    },
  };
}
