// npm run distributed -- [--evaluation N] [--dir <data dir>] [--port-base N] [--from-sources | --from-dist]
// Runs the distributed tier on this machine until Ctrl-C or SIGTERM; see the README's
// "Running the distributed tier".
import { createLoggerOrExit } from '@flagline/observability';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DistributedTopology, type TopologyView } from './topology';

const ROOT = resolve(__dirname, '..', '..');

interface RunnerArguments {
  readonly evaluation: number;
  readonly dir: string;
  readonly portBase: number;
  readonly source: 'dist' | 'sources' | undefined;
}

function integerOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function parseRunnerArguments(argv: readonly string[]): RunnerArguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      evaluation: { type: 'string' },
      dir: { type: 'string' },
      'port-base': { type: 'string' },
      'from-sources': { type: 'boolean' },
      'from-dist': { type: 'boolean' },
    },
    strict: true,
  });
  if (values['from-sources'] && values['from-dist']) throw new Error('--from-sources and --from-dist exclude each other');
  return {
    evaluation: integerOption('evaluation', values.evaluation, 2, 1, 60),
    dir: resolve(values.dir ?? resolve(ROOT, 'data', 'distributed')),
    portBase: integerOption('port-base', values['port-base'], 8000, 0, 65535 - 93),
    source: values['from-sources'] ? 'sources' : values['from-dist'] ? 'dist' : undefined,
  };
}

function describe(view: TopologyView): string {
  const lines = [
    '',
    `  Admin API        ${view.adminApi}   (OpenAPI docs: ${view.adminDocs}; key: ${view.adminKeyFile})`,
    `  SDK API          ${view.sdkApi}   (through the balancer: ready instances only)`,
    `  OFREP            ${view.ofrep}`,
    ...view.instances.map((instance) => `  ${instance.name.padEnd(20)} ${instance.url}   pid ${instance.pid ?? '?'}`),
    ...[...view.services, ...view.instances].map((service) => `  metrics ${service.name.padEnd(20)} ${service.metrics}`),
    `  Redis            ${view.redis.url}   Kafka ${view.kafka.brokers}   event store: ${view.eventStore}`,
    `  Logs             ${view.logs}/<service>.log   (services start from ${view.source})`,
    '  Ctrl-C stops everything; the data stays in the directory for the next start.',
    '',
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const log = createLoggerOrExit('distributed');
  let args: RunnerArguments;
  try {
    args = parseRunnerArguments(process.argv.slice(2));
  } catch (error: unknown) {
    log.fatal({ argument: true }, error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  let stopping = false;
  let exitCode = 0;
  const topology = new DistributedTopology({
    root: ROOT,
    dir: args.dir,
    evaluationInstances: args.evaluation,
    portBase: args.portBase,
    ...(args.source ? { source: args.source } : {}),
    env: process.env,
    log,
    onServiceExit: (service, exit, fatal) => {
      log[fatal ? 'fatal' : 'error'](
        { service, code: exit.code, signal: exit.signal, lastMessage: exit.lastMessage, fatal },
        fatal ? `${service} exited; stopping the tier` : `${service} exited; the balancer sends its traffic to the instances left`,
      );
      if (fatal) shutdown('service exit', 1);
    },
  });
  const shutdown = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ reason }, 'stopping the distributed tier');
    topology.stop().then(
      () => {
        log.info({ exitCode }, 'stopped');
        process.exit(exitCode);
      },
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('exit', () => topology.killAll());
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));

  const started = Date.now();
  try {
    const view = await topology.start();
    if (stopping) return;
    log.info({ ...view, ms: Date.now() - started }, 'distributed tier ready');
    process.stdout.write(describe(view));
  } catch (error: unknown) {
    log.fatal({ reason: error instanceof Error ? error.message : String(error) }, 'the distributed tier did not start');
    shutdown('start failed', 1);
  }
}

void main();
