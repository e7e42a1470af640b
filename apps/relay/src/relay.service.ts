import { Relay, type EventStore } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { EventStoreDbEventStore, eventStoreConnectionStringProblem } from '@flagline/event-store-eventstoredb';
import { checkKafkaReachable, KAFKA_RECONNECT_RETRY, KafkaEventBus } from '@flagline/message-bus-kafka';
import { createOpsHttpApp, EnvReader, PinoNestLogger, reach, readKafkaTopicSettings, ServiceMetrics, type HealthReport, type KafkaTopicSettings } from '@flagline/observability';
import { RedisCheckpointStore } from '@flagline/read-model-redis';
import { KafkaAdminSession } from '@flagline/message-bus-kafka';
import { HealthChecks, reasonOf, watchConnection } from '@flagline/observability';
import type { EventBus } from '@flagline/event-sourcing';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface RelayConfig {
  readonly port: number;
  readonly host: string;
  readonly eventStore:
    | { readonly kind: 'eventstoredb'; readonly connectionString: string }
    | { readonly kind: 'embedded'; readonly dataDir: string; readonly pollIntervalMs: number };
  readonly kafkaBrokers: string[];
  readonly topic: string;
  readonly topics: KafkaTopicSettings;
  readonly redisUrl: string;
  readonly checkpointName: string;
}

export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const read = new EnvReader(env);
  const kind = read.string('EVENT_STORE', 'eventstoredb');
  if (kind !== 'embedded' && kind !== 'eventstoredb') read.problem(`EVENT_STORE must be "eventstoredb" or "embedded", got "${kind}"`);
  const config: RelayConfig = {
    port: read.integer('PORT', 8003, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    eventStore:
      kind === 'embedded'
        ? { kind, dataDir: read.string('DATA_DIR'), pollIntervalMs: read.integer('FOLLOW_POLL_INTERVAL_MS', 100, 1, 10_000) }
        : { kind: 'eventstoredb', connectionString: read.connectionString('EVENTSTORE_CONNECTION_STRING', eventStoreConnectionStringProblem) },
    kafkaBrokers: read.hostPorts('KAFKA_BROKERS'),
    topic: read.string('KAFKA_TOPIC', 'flagline.events'),
    topics: readKafkaTopicSettings(read),
    redisUrl: read.url('REDIS_URL', ['redis', 'rediss']),
    checkpointName: read.string('RELAY_CHECKPOINT', 'relay'),
  };
  read.done();
  return config;
}

/** The embedded log is followed read-only (its writer is the command service); EventStoreDB is shared. */
async function openEventStore(config: RelayConfig['eventStore']): Promise<EventStore> {
  return config.kind === 'embedded'
    ? // New records are read when the file system reports a write; the poll is the fallback.
      reach('embedded event log', join(config.dataDir, 'events'), () => EmbeddedEventStore.openFollower({ directory: join(config.dataDir, 'events'), pollIntervalMs: config.pollIntervalMs }))
    : reach('EventStoreDB', config.connectionString, () => EventStoreDbEventStore.connect(config.connectionString));
}

export interface RunningRelay {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Publishes every committed event to Kafka, in log order, keyed by project. The checkpoint
 * (in Redis) advances only after the broker acknowledged, so a crash loses nothing; what gets
 * published twice is ignored by the projectors.
 */
export async function startRelay(config: RelayConfig, logger: Logger): Promise<RunningRelay> {
  const store = await openEventStore(config.eventStore);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis'));
  await reach('Redis', config.redisUrl, () => redis.ping());
  await reach('Kafka', config.kafkaBrokers.join(','), () => checkKafkaReachable(config.kafkaBrokers, 'flagline-relay'));
  const kafka = new Kafka({ clientId: 'flagline-relay', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING, retry: KAFKA_RECONNECT_RETRY });
  const bus = new KafkaEventBus({ kafka, topic: config.topic, ...config.topics, onError: (error) => logger.warn({ err: error }, 'kafka') });
  const metrics = new ServiceMetrics('relay');
  const published = metrics.counter('flagline_relay_published_events_total', 'Events published to Kafka and acknowledged');
  const publishErrors = metrics.counter('flagline_relay_publish_errors_total', 'Publish attempts Kafka did not acknowledge (the relay retries from its checkpoint)');
  // Progress needs the log, Kafka (brokers reachable, publishes acknowledged) and Redis (the checkpoint).
  const health = new HealthChecks('relay')
    .add('eventstore', 'not read yet', { dependency: 'eventstore' })
    .add('kafka', 'not probed yet', { dependency: 'kafka' })
    .add('kafka-publish', 'nothing published yet', { dependency: 'kafka' })
    .add('redis', 'not connected yet', { dependency: 'redis' });
  health.up('eventstore'); // opened above
  health.up('kafka-publish'); // fails only once a publish did
  watchConnection(redis, health, 'redis');
  health.exportTo(metrics);
  const observedBus: EventBus = {
    publish: async (events) => {
      try {
        await bus.publish(events);
      } catch (error) {
        publishErrors.inc();
        health.down('kafka-publish', `publish failed: ${reasonOf(error)}`);
        throw error;
      }
      published.inc(events.length);
      health.up('kafka-publish');
    },
    subscribe: (group, handler) => bus.subscribe(group, handler),
    close: () => bus.close(),
  };
  const relay = new Relay(store, observedBus, new RedisCheckpointStore({ redis }), {
    name: config.checkpointName,
    // The id-sequence streams stay off the topic; the relay drops them at publish time.
    filter: (event) => !event.streamName.startsWith('sequence-'),
    onError: (error) => logger.warn({ err: error }, 'relay stopped; resuming from its checkpoint'),
  });
  await relay.start();

  let head = 0;
  const kafkaAdmin = new KafkaAdminSession(kafka, 4000);
  let probing = false;
  // Every 2 s, and once now: readiness reflects the brokers from the start.
  const check = (): void => {
    store.headPosition().then(
      (position) => {
        head = position;
        health.up('eventstore');
      },
      (error: unknown) => health.down('eventstore', `log head not readable: ${reasonOf(error)}`),
    );
    // An idle relay publishes nothing: ask the brokers whether they answer (one question at a time).
    if (probing) return;
    probing = true;
    kafkaAdmin
      .run((admin) => admin.describeCluster())
      .then(
        () => health.up('kafka'),
        (error: unknown) => health.down('kafka', `brokers ${config.kafkaBrokers.join(',')} not answering: ${reasonOf(error)}`),
      )
      .finally(() => (probing = false));
  };
  check();
  const headTimer = setInterval(check, 2000);
  headTimer.unref();

  metrics.gauge('flagline_relay_position', 'Global log position published and acknowledged by Kafka', [], (gauge) => gauge.set(relay.progress.position));
  // Positions are event numbers on the embedded log but commit positions (byte offsets in the
  // transaction log) on EventStoreDB: the lag in positions is exposed for both, and as a count of
  // events only where it is one.
  const unit = config.eventStore.kind === 'embedded' ? "the embedded log's positions (event numbers)" : 'EventStoreDB commit positions (bytes of its transaction log, not events)';
  metrics.gauge('flagline_relay_lag_positions', `Log head minus the relay position, in ${unit}`, [], (gauge) => gauge.set(Math.max(0, head - relay.progress.position)));
  if (config.eventStore.kind === 'embedded') {
    metrics.gauge('flagline_relay_lag_events', 'Events in the log not yet published (the embedded log\'s head minus the relay position)', [], (gauge) => gauge.set(Math.max(0, head - relay.progress.position)));
  }
  const report = (): HealthReport => health.report({ position: relay.progress.position, head });
  const app = await createOpsHttpApp({ health: report, metrics }, new PinoNestLogger(logger));
  await app.listen(config.port, config.host);
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  logger.info({ port, topic: config.topic, eventStore: config.eventStore.kind }, 'relay running');
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      clearInterval(headTimer);
      await kafkaAdmin.close();
      await relay.stop();
      await app.close();
      await bus.close();
      redis.disconnect();
      await store.close();
    },
  };
}
