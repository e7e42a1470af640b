// Runs a Redis server and a Kafka broker in the foreground until Ctrl-C, printing the variables
// that make `npx jest -c jest.int.config.ts` reuse them instead of starting its own each run:
//   node -r @swc-node/register tools/infra/serve.ts [--dir <path>]
// Redis is append-only either way (a restart keeps its data); with --dir the data also survives
// between sessions (Kafka in <path>/kafka, Redis in <path>/redis).
import { join, resolve } from 'node:path';
import { KafkaBroker, RedisServer } from './brokers';

function dirArgument(): string | undefined {
  const index = process.argv.indexOf('--dir');
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  return value ? resolve(value) : undefined;
}

async function main(): Promise<void> {
  const dir = dirArgument();
  const started = Date.now();
  const [redis, kafka] = await Promise.all([
    RedisServer.start({ ...(dir ? { dir: join(dir, 'redis') } : {}), appendOnly: true, appendFsync: 'everysec' }),
    KafkaBroker.start(dir ? { dir: join(dir, 'kafka') } : {}),
  ]);
  process.stdout.write(
    [
      `# started in ${Date.now() - started} ms; logs: ${redis.logFile}, ${kafka.logFile}`,
      `export REDIS_URL=${redis.url}`,
      `export KAFKA_BROKERS=${kafka.brokers.join(',')}`,
      '# Ctrl-C stops both',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    const stop = dir ? Promise.all([redis.stop(), kafka.stop()]) : Promise.all([redis.dispose(), kafka.dispose()]);
    stop.then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
