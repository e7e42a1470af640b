// Helpers for *.int.spec.ts files run by jest.int.config.ts.
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { type KafkaOptions, type RedisOptions, KafkaBroker, RedisServer, kafkaUnavailableReason, redisUnavailableReason } from './brokers';
import { infraRequired } from './shared-servers';

// The one entry point (alias @flagline/infra-testing) for integration specs in other projects.
export { KafkaBroker, RedisServer, findFreePort, terminate, kafkaUnavailableReason, redisUnavailableReason, startKafka, startRedis } from './brokers';
export type { KafkaOptions, KafkaProperties, RedisOptions } from './brokers';

/** Long enough for a cold JVM on two busy cores; passed to the hooks that start servers. */
export const SERVER_HOOK_TIMEOUT_MS = 120_000;

/** Why the shared servers are not available to this run, or undefined when they are. */
export function infraUnavailableReason(): string | undefined {
  const reason = process.env['FLAGLINE_INFRA_UNAVAILABLE'];
  if (reason) return reason;
  if (!process.env['REDIS_URL'] || !process.env['KAFKA_BROKERS']) {
    return 'REDIS_URL / KAFKA_BROKERS are not set (run integration tests with: npx jest -c jest.int.config.ts)';
  }
  return undefined;
}

/** The shared Redis server, e.g. `redis://127.0.0.1:41234`. */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error(infraUnavailableReason() ?? 'REDIS_URL is not set');
  return url;
}

/** The shared Kafka broker's bootstrap servers. */
export function kafkaBrokers(): string[] {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  if (brokers.length === 0) throw new Error(infraUnavailableReason() ?? 'KAFKA_BROKERS is not set');
  return brokers;
}

const KAFKAJS_LOG_LEVELS: Record<string, logLevel> = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

/**
 * A kafkajs client for tests. Silent by default: kafkajs logs every retried coordinator or
 * leader error at ERROR level although it recovers from them, and real failures surface as
 * rejected calls. FLAGLINE_KAFKAJS_LOG_LEVEL=error|warn|info|debug turns the logs back on.
 */
export function kafkaClient(brokers: string[] = kafkaBrokers(), config: Partial<KafkaConfig> = {}): Kafka {
  const level = KAFKAJS_LOG_LEVELS[(process.env['FLAGLINE_KAFKAJS_LOG_LEVEL'] ?? 'nothing').toLowerCase()] ?? logLevel.NOTHING;
  return new Kafka({ clientId: 'flagline-int-test', logLevel: level, ...config, brokers });
}

export interface InfraNeeds {
  /** Servers the suite starts privately (withOwnRedis / withOwnKafka): their binaries must exist here. */
  own?: readonly ('redis' | 'kafka')[];
}

function ownUnavailableReason(needs: InfraNeeds): string | undefined {
  const reasons = (needs.own ?? []).map((what) => (what === 'redis' ? redisUnavailableReason() : kafkaUnavailableReason()));
  const missing = reasons.filter((r): r is string => r !== undefined);
  return missing.length > 0 ? missing.join('; ') : undefined;
}

const announced = new Set<string>();

/**
 * `describe` when the integration servers are available; otherwise the suite is reported as
 * skipped, with the reason in its name and on stderr. In CI (or with FLAGLINE_REQUIRE_INFRA=1)
 * missing servers fail the run instead: jest.global-setup.ts throws before any suite runs, and a
 * suite needing binaries for its own servers fails here.
 */
export function describeWithInfra(name: string, fn: () => void, needs: InfraNeeds = {}): void {
  const reason = infraUnavailableReason() ?? ownUnavailableReason(needs);
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  if (infraRequired()) {
    describe(name, () => {
      it('has its integration servers', () => {
        throw new Error(`missing integration infrastructure: ${reason}`);
      });
    });
    return;
  }
  if (!announced.has(reason)) {
    announced.add(reason);
    console.warn(`[infra] integration suites in this file are SKIPPED: ${reason}`);
  }
  describe.skip(`${name} (skipped: ${reason})`, fn);
}

function ownServer<T extends { dispose(): Promise<void> }>(what: string, start: () => Promise<T>): () => T {
  let server: T | undefined;
  beforeAll(async () => {
    server = await start();
  }, SERVER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await server?.dispose();
    server = undefined;
  }, SERVER_HOOK_TIMEOUT_MS);
  return () => {
    if (!server) throw new Error(`${what} is started in beforeAll: call the accessor inside a test or a later hook`);
    return server;
  };
}

/**
 * A private Redis server for the enclosing describe block (started in beforeAll, removed in
 * afterAll), for tests that stop, kill or restart it. Returns an accessor.
 */
export function withOwnRedis(options?: RedisOptions): () => RedisServer {
  return ownServer('withOwnRedis()', () => RedisServer.start(options));
}

/**
 * A private Kafka broker for the enclosing describe block (started in beforeAll, removed in
 * afterAll), for tests that stop, kill or restart it. Returns an accessor.
 */
export function withOwnKafka(options?: KafkaOptions): () => KafkaBroker {
  return ownServer('withOwnKafka()', () => KafkaBroker.start(options));
}
