// Starts one Redis server and one Kafka broker for the whole integration run and hands them to
// the tests through REDIS_URL and KAFKA_BROKERS. Servers named by those variables are used as-is.
import { KafkaBroker, RedisServer, INSTALL_COMMAND, kafkaUnavailableReason, redisUnavailableReason } from './brokers';
import { infraRequired, setSharedServers } from './shared-servers';

export default async function globalSetup(): Promise<void> {
  delete process.env['FLAGLINE_INFRA_UNAVAILABLE'];
  const needRedis = !process.env['REDIS_URL'];
  const needKafka = !process.env['KAFKA_BROKERS'];
  const missing = [needRedis ? redisUnavailableReason() : undefined, needKafka ? kafkaUnavailableReason() : undefined].filter(
    (reason): reason is string => reason !== undefined,
  );
  if (missing.length > 0) {
    const reason = missing.join('; ');
    if (infraRequired()) {
      throw new Error(
        `Integration tests need a real Redis and Kafka: ${reason}.\n` +
          `Install them with: ${INSTALL_COMMAND} (or point REDIS_URL / KAFKA_BROKERS at running servers).\n` +
          'Missing infrastructure fails the run because CI=true or FLAGLINE_REQUIRE_INFRA=1.',
      );
    }
    process.env['FLAGLINE_INFRA_UNAVAILABLE'] = reason;
    process.stderr.write(`\n[infra] integration tests that need Redis/Kafka will be SKIPPED: ${reason}\n\n`);
    return;
  }

  const started = Date.now();
  const [redisStart, kafkaStart] = await Promise.allSettled([
    // Persistent, as a deployment's Redis is: a drill that restarts the shared Redis keeps read
    // models and checkpoints. Fsync once a second (see RedisOptions.appendFsync): a process
    // restart or kill keeps what was acknowledged, and the run's writes do not each wait for the
    // disk; the suites about durability start their own Redis with appendFsync 'always'.
    needRedis ? RedisServer.start({ appendOnly: true, appendFsync: 'everysec' }) : undefined,
    needKafka ? KafkaBroker.start() : undefined,
  ]);
  if (redisStart.status === 'rejected' || kafkaStart.status === 'rejected') {
    const startedOnes = [redisStart, kafkaStart].flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    await Promise.all(startedOnes.map((server) => server.dispose()));
    const failure: unknown = redisStart.status === 'rejected' ? redisStart.reason : kafkaStart.status === 'rejected' ? kafkaStart.reason : undefined;
    throw failure instanceof Error ? failure : new Error(String(failure));
  }
  const redis = redisStart.value;
  const kafka = kafkaStart.value;
  setSharedServers({ redis, kafka });
  if (redis) process.env['REDIS_URL'] = redis.url;
  if (kafka) process.env['KAFKA_BROKERS'] = kafka.brokers.join(',');
  if (redis || kafka) {
    const what = [redis && `Redis ${redis.url}`, kafka && `Kafka ${kafka.brokers.join(',')} (log ${kafka.logFile})`].filter(Boolean).join(', ');
    process.stderr.write(`\n[infra] started ${what} in ${Date.now() - started} ms\n`);
  }
}
