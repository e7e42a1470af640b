// The distributed tier on one machine: Redis and Kafka from tools/infra (data kept under the data
// directory), the command service, relay, projector and N evaluation instances as Node
// processes, and a balancer in this process that sends SDK traffic to ready instances only.
import { findFreePort, KafkaBroker, RedisServer } from '@flagline/infra-testing';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ReadyBalancer } from './balancer';
import { chooseServiceSource, ServiceChild, type ServiceApp, type ServiceExit, type ServiceSource } from './service-child';

export interface TopologyOptions {
  /** The repository root (where dist/ and apps/ are). */
  readonly root: string;
  /** Everything persistent: brokers' data, the event log, secrets, logs. */
  readonly dir: string;
  readonly evaluationInstances: number;
  /** Ports from this base (see portsFrom); 0 takes free ports. */
  readonly portBase: number;
  /** Forces where services start from; default: dist/ when it is current, else the sources. */
  readonly source?: ServiceSource;
  /** The runner's environment: passed to every service, so any variable of the table can be set. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** A service exited without being asked to; `fatal` when the tier cannot go on without it. */
  readonly onServiceExit: (label: string, exit: ServiceExit, fatal: boolean) => void;
}

export interface Ports {
  readonly command: number;
  readonly balancer: number;
  readonly relay: number;
  readonly projector: number;
  readonly evaluation: readonly number[];
  readonly redis: number;
  readonly kafka: number;
  readonly kafkaController: number;
}

/**
 * The port plan from a base B: command service B+1, balancer (SDK API, OFREP) B+2, relay B+3,
 * projector B+4, evaluation instances B+10…, Redis B+79, Kafka B+92 (controller B+93). The
 * default base, 8000, gives the ports of docker-compose (8001 admin, 8002 SDK).
 */
export async function portsFrom(base: number, instances: number): Promise<Ports> {
  if (instances > 60) throw new Error('at most 60 evaluation instances');
  if (base === 0) {
    const taken = new Set<number>();
    const free = async (): Promise<number> => {
      for (;;) {
        const port = await findFreePort();
        if (!taken.has(port)) {
          taken.add(port);
          return port;
        }
      }
    };
    return {
      command: await free(),
      balancer: await free(),
      relay: await free(),
      projector: await free(),
      evaluation: await Promise.all(Array.from({ length: instances }, free)),
      redis: await free(),
      kafka: await free(),
      kafkaController: await free(),
    };
  }
  if (base < 1 || base + 93 > 65535) throw new Error(`--port-base must be 0 or from 1 to ${65535 - 93}`);
  return {
    command: base + 1,
    balancer: base + 2,
    relay: base + 3,
    projector: base + 4,
    evaluation: Array.from({ length: instances }, (_, i) => base + 10 + i),
    redis: base + 79,
    kafka: base + 92,
    kafkaController: base + 93,
  };
}

/** The variable's value when the operator set it, else the one kept in `file` (made at the first start, readable by the owner only). */
function secret(file: string, configured: string | undefined): string {
  if (configured) return configured;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = randomBytes(32).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return value;
}

/** Without these the runner's environment reaches a service only through the runner's choices. */
const SECRET_VARIABLES = ['ADMIN_API_KEY', 'INTERNAL_API_TOKEN', 'IDENTITY_ID_KEY', 'TRANSPARENCY_SIGNING_KEY'];

function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of SECRET_VARIABLES) delete out[name];
  return out;
}

export interface ServiceView {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly metrics: string;
}

export interface TopologyView {
  readonly adminApi: string;
  readonly adminDocs: string;
  readonly sdkApi: string;
  readonly ofrep: string;
  readonly adminKeyFile: string;
  readonly services: readonly ServiceView[];
  readonly instances: readonly ServiceView[];
  readonly redis: { readonly url: string; readonly pid: number | undefined };
  readonly kafka: { readonly brokers: string; readonly pid: number | undefined };
  readonly eventStore: string;
  readonly source: ServiceSource;
  readonly logs: string;
}

async function waitReady(child: ServiceChild, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not asked yet';
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.label} exited while starting (log: ${child.options.logFile})`);
    for (const path of ['/health/ready', '/health']) {
      try {
        const response = await fetch(url + path, { signal: AbortSignal.timeout(2000) });
        const body = await response.text();
        last = `${path} answered ${response.status} ${body.slice(0, 200)}`;
        if (response.status === 200) return;
        if (response.status !== 404) break;
      } catch (error: unknown) {
        last = `${path}: ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.label} not ready within ${timeoutMs} ms (${last}; log: ${child.options.logFile})`);
}

export class DistributedTopology {
  private redis: RedisServer | undefined;
  private kafka: KafkaBroker | undefined;
  private readonly children: ServiceChild[] = [];
  private readonly instances: ServiceChild[] = [];
  private balancer: ReadyBalancer | undefined;
  private stopping = false;

  constructor(private readonly options: TopologyOptions) {}

  async start(): Promise<TopologyView> {
    const { root, dir, log, env } = this.options;
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const ports = await portsFrom(this.options.portBase, this.options.evaluationInstances);
    const apps: ServiceApp[] = ['command-service', 'relay', 'projector', 'evaluation-service'];
    const chosen = this.options.source ? { source: this.options.source, reason: 'chosen with --from-sources or --from-dist' } : await chooseServiceSource(root, apps);
    log.info({ source: chosen.source, reason: chosen.reason }, 'services start from ' + chosen.source);

    const brokersStarted = Date.now();
    // Both settle before a failure is thrown, so stop() finds whichever did start.
    const brokers = await Promise.allSettled([
      // Sealing keys live in this Redis: every write reaches the disk before it is answered.
      RedisServer.start({ dir: join(dir, 'redis'), appendOnly: true, appendFsync: 'always', port: ports.redis }).then((redis) => (this.redis = redis)),
      KafkaBroker.start({ dir: join(dir, 'kafka'), port: ports.kafka, controllerPort: ports.kafkaController }).then((kafka) => (this.kafka = kafka)),
    ]);
    for (const result of brokers) if (result.status === 'rejected') throw result.reason;
    if (!this.redis || !this.kafka) throw new Error('the brokers did not start');
    log.info({ redis: this.redis.url, kafka: this.kafka.brokers.join(','), ms: Date.now() - brokersStarted }, 'brokers started');

    const adminKeyFile = join(dir, 'admin-api-key');
    const adminApiKey = secret(adminKeyFile, env['ADMIN_API_KEY']);
    const internalToken = secret(join(dir, 'internal-api-token'), env['INTERNAL_API_TOKEN']);
    const eventStoreDb = env['EVENTSTORE_CONNECTION_STRING'];
    const eventStore: NodeJS.ProcessEnv = eventStoreDb
      ? { EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: eventStoreDb, CATALOG_DIR: join(dir, 'command') }
      : { EVENT_STORE: 'embedded', DATA_DIR: join(dir, 'command') };
    const common: NodeJS.ProcessEnv = {
      ...withoutSecrets(env),
      LOG_LEVEL: env['LOG_LEVEL'] ?? 'info',
      HOST: '127.0.0.1',
      REDIS_URL: this.redis.url,
      KAFKA_BROKERS: this.kafka.brokers.join(','),
    };
    const url = (port: number): string => `http://127.0.0.1:${port}`;
    const spawnService = (app: ServiceApp, label: string, port: number, extra: NodeJS.ProcessEnv): ServiceChild => {
      const child = new ServiceChild({
        root,
        app,
        label,
        source: chosen.source,
        env: { ...common, ...extra, PORT: String(port) },
        logFile: join(logs, `${label}.log`),
        onExit: (exit) => this.exitedUnasked(child, exit),
      });
      this.children.push(child);
      child.start();
      return child;
    };

    const servicesStarted = Date.now();
    const command = spawnService('command-service', 'command-service', ports.command, { ...eventStore, ADMIN_API_KEY: adminApiKey, INTERNAL_API_TOKEN: internalToken });
    // The relay follows the log the command service creates: start it once the log exists.
    await waitReady(command, url(ports.command), 180_000);
    const relay = spawnService('relay', 'relay', ports.relay, eventStore);
    const projector = spawnService('projector', 'projector', ports.projector, {});
    ports.evaluation.forEach((port, i) => {
      this.instances.push(
        spawnService('evaluation-service', `evaluation-service-${i + 1}`, port, { COMMAND_SERVICE_URL: url(ports.command), INTERNAL_API_TOKEN: internalToken }),
      );
    });
    await Promise.all([
      waitReady(relay, url(ports.relay), 180_000),
      waitReady(projector, url(ports.projector), 180_000),
      ...this.instances.map((instance, i) => waitReady(instance, url(ports.evaluation[i] ?? 0), 180_000)),
    ]);
    log.info({ ms: Date.now() - servicesStarted }, 'services ready');

    this.balancer = new ReadyBalancer({
      upstreams: this.instances.map((instance, i) => ({ name: instance.label, url: url(ports.evaluation[i] ?? 0) })),
      onReadinessChange: (upstream, ready, reason) =>
        this.stopping ? undefined : log[ready ? 'info' : 'warn']({ instance: upstream.name, url: upstream.url, ready, reason }, `${upstream.name} ${ready ? 'takes' : 'no longer takes'} traffic`),
    });
    await this.balancer.listen(ports.balancer, '127.0.0.1');

    const view = (child: ServiceChild, port: number): ServiceView => ({ name: child.label, url: url(port), pid: child.pid, metrics: `${url(port)}/metrics` });
    return {
      adminApi: `${url(ports.command)}/admin/v1`,
      adminDocs: `${url(ports.command)}/docs`,
      sdkApi: `${url(ports.balancer)}/api/v1`,
      ofrep: `${url(ports.balancer)}/ofrep/v1`,
      adminKeyFile: env['ADMIN_API_KEY'] ? '(ADMIN_API_KEY as set)' : adminKeyFile,
      services: [view(command, ports.command), view(relay, ports.relay), view(projector, ports.projector)],
      instances: this.instances.map((instance, i) => view(instance, ports.evaluation[i] ?? 0)),
      redis: { url: this.redis.url, pid: this.redis.pid },
      kafka: { brokers: this.kafka.brokers.join(','), pid: this.kafka.pid },
      eventStore: eventStoreDb ? 'eventstoredb' : `embedded (${join(dir, 'command', 'events')})`,
      source: chosen.source,
      logs,
    };
  }

  /** Requests the balancer sent again to another instance. */
  get balancerRetries(): number {
    return this.balancer?.retried ?? 0;
  }

  private exitedUnasked(child: ServiceChild, exit: ServiceExit): void {
    if (this.stopping) return;
    // An evaluation instance is one of several behind the balancer: the tier goes on while one is left.
    const fatal = !this.instances.includes(child) || !this.instances.some((instance) => instance.running);
    this.options.onServiceExit(child.label, exit, fatal);
  }

  /** Last resort when the runner exits without stop(): no service outlives it (the brokers have the same hook in tools/infra). */
  killAll(): void {
    for (const child of this.children) child.kill();
  }

  /** Stops everything, services first (SIGTERM, then SIGKILL after 10 s), then the brokers; data stays in the directory. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.balancer?.close();
    const command = this.children.find((child) => child.options.app === 'command-service');
    await Promise.all(this.children.filter((child) => child !== command).map((child) => child.stop()));
    await command?.stop();
    await Promise.all([this.redis?.stop(), this.kafka?.stop()]);
  }
}
