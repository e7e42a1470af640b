import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient } from './http';
import { ServiceProcess, type ServiceApp } from './service-process';

export interface PipelineOptions {
  readonly redisUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** Holds the command service's DATA_DIR (the embedded event log) and the service logs. */
  readonly workDir: string;
  readonly evaluationInstances: number;
  /** The evaluation services' full-refresh interval. */
  readonly pollIntervalMs: number;
}

/** Services start on two busy cores, each compiling its TypeScript on the fly. */
export const START_TIMEOUT_MS = 60_000;

/**
 * The distributed mode on one host: the command service writing the embedded log, the relay
 * following it into Kafka, the projector consumer group writing the Redis read models, and the
 * evaluation services reading them. Topic, consumer group, key prefix and relay checkpoint are
 * unique to the pipeline, so pipelines on shared servers do not see each other.
 */
export class Pipeline {
  readonly namespace = randomBytes(4).toString('hex');
  readonly adminApiKey = `admin-${randomBytes(16).toString('hex')}`;
  readonly internalToken = `internal-${randomBytes(16).toString('hex')}`;
  readonly topic = `flagline.e2e.${this.namespace}.events`;
  readonly groupId = `flagline-e2e-projector-${this.namespace}`;
  readonly readModelPrefix = `flagline:e2e:${this.namespace}:rm:`;
  /** The sealing keys of this pipeline's identities (the command service writes them, the projector reads them). */
  readonly sealingKeyPrefix = `flagline:e2e:${this.namespace}:sealing-key:`;
  readonly relayCheckpoint = `e2e-relay-${this.namespace}`;
  /** Where the relay keeps its position (RedisCheckpointStore's default key prefix). */
  readonly relayCheckpointKey = `flagline:checkpoint:${this.relayCheckpoint}`;
  readonly dataDir: string;
  readonly logDir: string;
  readonly command: ServiceProcess;
  readonly relay: ServiceProcess;
  readonly projector: ServiceProcess;
  readonly evaluations: ServiceProcess[] = [];
  /** Further members of the projector group, made by addProjector. */
  readonly extraProjectors: ServiceProcess[] = [];
  private readonly projectorEnv: Readonly<Record<string, string>>;

  constructor(readonly options: PipelineOptions) {
    this.dataDir = join(options.workDir, 'data');
    this.logDir = join(options.workDir, 'logs');
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    const brokers = options.kafkaBrokers.join(',');
    const service = (app: ServiceApp, label: string, env: Record<string, string>): ServiceProcess => new ServiceProcess({ app, label, env, logDir: this.logDir });
    this.command = service('command-service', 'command-service', {
      EVENT_STORE: 'embedded',
      DATA_DIR: this.dataDir,
      ADMIN_API_KEY: this.adminApiKey,
      INTERNAL_API_TOKEN: this.internalToken,
      REDIS_URL: options.redisUrl,
      READ_MODEL_PREFIX: this.readModelPrefix,
      SEALING_KEY_PREFIX: this.sealingKeyPrefix,
      IDENTITY_ID_KEY: randomBytes(32).toString('base64'),
    });
    this.relay = service('relay', 'relay', {
      EVENT_STORE: 'embedded',
      DATA_DIR: this.dataDir,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: this.topic,
      REDIS_URL: options.redisUrl,
      RELAY_CHECKPOINT: this.relayCheckpoint,
    });
    this.projectorEnv = {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: this.topic,
      KAFKA_GROUP_ID: this.groupId,
      REDIS_URL: options.redisUrl,
      READ_MODEL_PREFIX: this.readModelPrefix,
      SEALING_KEY_PREFIX: this.sealingKeyPrefix,
    };
    this.projector = service('projector', 'projector', this.projectorEnv);
  }

  /** Another projector process in the same consumer group (same topic, Redis and prefixes); not started. */
  addProjector(): ServiceProcess {
    const projector = new ServiceProcess({ app: 'projector', label: `projector-${this.extraProjectors.length + 2}`, env: this.projectorEnv, logDir: this.logDir });
    this.extraProjectors.push(projector);
    return projector;
  }

  get services(): ServiceProcess[] {
    return [this.command, this.relay, this.projector, ...this.extraProjectors, ...this.evaluations];
  }

  get admin(): AdminClient {
    return new AdminClient(this.command.url, this.adminApiKey);
  }

  /**
   * The command service first (the evaluation services need its URL), then the rest together;
   * resolves when every service answers its readiness check.
   */
  async start(): Promise<void> {
    this.command.start();
    this.relay.start();
    this.projector.start();
    await this.command.waitReady(START_TIMEOUT_MS, '/health');
    for (let index = 1; index <= this.options.evaluationInstances; index++) {
      const evaluation = new ServiceProcess({
        app: 'evaluation-service',
        label: `evaluation-service-${index}`,
        logDir: this.logDir,
        env: {
          REDIS_URL: this.options.redisUrl,
          READ_MODEL_PREFIX: this.readModelPrefix,
          COMMAND_SERVICE_URL: this.command.url,
          INTERNAL_API_TOKEN: this.internalToken,
          POLL_INTERVAL_MS: String(this.options.pollIntervalMs),
        },
      });
      this.evaluations.push(evaluation);
      evaluation.start();
    }
    await Promise.all([this.relay.waitReady(START_TIMEOUT_MS), this.projector.waitReady(START_TIMEOUT_MS), ...this.evaluations.map((e) => e.waitReady(START_TIMEOUT_MS))]);
  }

  /** Kills every service (the tests never need a graceful stop at the end). */
  async close(): Promise<void> {
    await Promise.all(this.services.map((service) => service.kill()));
  }

  /** Exits nobody asked for, per service. */
  unexpectedExits(): string[] {
    return this.services.flatMap((service) => service.unexpectedExits.map((exit) => `${service.label}: ${exit}`));
  }

  /** Where to look when something failed. */
  describeLogs(): string {
    return `service logs in ${this.logDir}`;
  }
}
