import { EnvironmentRegistry, FlagsmithSdkService, OfrepService } from '@flagline/evaluation-application';
import { closeServer, EvaluationHttpHandler, HttpIdentityWriter, SdkIncomingMessage } from '@flagline/evaluation-http';
import { answerClientErrors, MAX_HEADER_BYTES } from '@flagline/http-edge';
import { answerOps, EnvReader, failing, FeedStaleness, HealthChecks, PASSING, PROPAGATION_BUCKETS, ServiceMetrics, type OpsEndpoints } from '@flagline/observability';
import { timeServedChanges } from './served-propagation';
import { RedisFlagAnalyticsStore, RedisReadModelStore } from '@flagline/read-model-redis';
import { Redis } from 'ioredis';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { FeedResync } from './feed-resync';

/** The update feeds of the in-memory copy: the command connection to Redis, and its change notifications. */
const CONNECTION = 'redis-connection';
const NOTIFICATIONS = 'redis-notifications';

export interface EvaluationServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  readonly readModelPrefix: string;
  readonly commandServiceUrl: string | undefined;
  readonly internalToken: string | undefined;
  readonly pollIntervalMs: number;
  readonly identityTtlMs: number;
}

export function loadEvaluationServiceConfig(env: NodeJS.ProcessEnv = process.env): EvaluationServiceConfig {
  const read = new EnvReader(env);
  const commandServiceUrl = read.optional('COMMAND_SERVICE_URL') !== undefined ? read.url('COMMAND_SERVICE_URL', ['http', 'https']) : undefined;
  const internalToken = read.secret('INTERNAL_API_TOKEN', { optional: true });
  if (commandServiceUrl && !internalToken) read.problem('INTERNAL_API_TOKEN is required with COMMAND_SERVICE_URL');
  const config: EvaluationServiceConfig = {
    port: read.integer('PORT', 8002, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    redisUrl: read.url('REDIS_URL', ['redis', 'rediss']),
    readModelPrefix: read.string('READ_MODEL_PREFIX', 'flagline:rm:v1:'),
    commandServiceUrl,
    internalToken,
    pollIntervalMs: read.integer('POLL_INTERVAL_MS', 30_000, 100),
    identityTtlMs: read.integer('IDENTITY_TTL_MS', 60_000, 0),
  };
  read.done();
  return config;
}

export interface RunningEvaluationService {
  readonly url: string;
  readonly port: number;
  readonly registry: EnvironmentRegistry;
  close(): Promise<void>;
}

/**
 * The evaluation tier: every environment compiled in memory from the Redis read models, kept
 * current by change notifications (pub/sub). A full resync follows every reconnection (what was
 * published meanwhile is lost); a periodic check reloads environments whose revision moved, and
 * cached identities are trusted for their time to live (IDENTITY_TTL_MS). When Redis is
 * unreachable it keeps answering from its last good copy and reports how stale that copy is; it
 * is not ready until its first load.
 */
export async function startEvaluationService(config: EvaluationServiceConfig, logger: Logger): Promise<RunningEvaluationService> {
  // Commands fail fast while Redis is down (no offline queue), so requests are answered from memory at once.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  const store = new RedisReadModelStore({
    redis,
    keyPrefix: config.readModelPrefix,
    onError: (error) => logger.debug({ err: error }, 'redis subscriber'),
    // Notifications travel on their own connection, which can drop and come back alone: what
    // was published meanwhile is lost, so reload everything once it is subscribed again.
    onResubscribed: () => resync.returned(NOTIFICATIONS),
    onNotificationsLost: () => {
      staleness.lost(NOTIFICATIONS);
      resync.lost(NOTIFICATIONS);
    },
  });
  const metrics = new ServiceMetrics('evaluation-service');
  const propagation = metrics.histogram(
    'flagline_evaluation_propagation_seconds',
    'From a change (its environment document updatedAt, the event time) to this replica serving it, for changes that arrived by notification',
    [],
    PROPAGATION_BUCKETS,
  );
  const registry = new EnvironmentRegistry(timeServedChanges(store, (seconds) => propagation.observe(seconds)), {
    identityTtlMs: config.identityTtlMs,
    onError: (error) => logger.warn({ err: error }, 'read-model sync failed'),
  });
  // The copy is current up to the moment a feed dropped, whenever this replica last reloaded in
  // full: staleness counts from the drop, so replicas that lost Redis together report the same.
  // Until the first load the copy is as stale as the process is old.
  const staleness = new FeedStaleness();
  staleness.lost(CONNECTION);
  // A feed that came back missed what it carried meanwhile: everything is reloaded, and the feed
  // counts as restored once a reload started after its return succeeded (tried again until one
  // does: the subscription can return before the connection the reload reads through).
  const resync = new FeedResync({
    reload: () => registry.refreshAll(),
    canReload: () => registry.ready && redis.status === 'ready',
    restored: (feed) => staleness.restored(feed),
  });
  let firstLoad: Promise<void> | null = null;
  const load = (): void => {
    firstLoad ??= registry.start().then(
      () => {
        staleness.restored(CONNECTION);
        resync.run();
        logger.info({ environments: registry.environmentCount }, 'read models loaded');
      },
      (error: unknown) => {
        firstLoad = null;
        logger.warn({ err: error }, 'first load failed; retrying');
      },
    );
  };
  redis.on('ready', () => {
    // Notifications sent while disconnected are lost: reload everything on reconnect.
    if (registry.ready) resync.returned(CONNECTION);
    else load();
  });
  redis.on('close', () => {
    staleness.lost(CONNECTION);
    resync.lost(CONNECTION);
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis'));
  redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'redis not reachable yet'));
  const poller = setInterval(() => {
    if (registry.ready && redis.status === 'ready') registry.refreshEnvironments().catch(() => undefined);
    else if (!registry.ready && redis.status === 'ready') load();
  }, config.pollIntervalMs);
  poller.unref();

  metrics.gauge('flagline_evaluation_read_model_staleness_seconds', 'How long the in-memory copy may have missed changes (0 while connected)', [], (gauge) =>
    gauge.set(staleness.ms() / 1000),
  );
  metrics.gauge('flagline_evaluation_environments', 'Environments held in memory', [], (gauge) => gauge.set(registry.environmentCount));
  // Stale but consistent data keeps being served: a replica that lost Redis stays ready, degraded.
  const health = new HealthChecks('evaluation-service')
    .probe('read-models', () => (registry.ready ? PASSING : failing('read models not loaded yet')))
    .probe(
      'redis',
      () => {
        const lost = Object.entries(staleness.lostFeeds());
        if (lost.length === 0) return PASSING;
        return failing(`update feed lost (${lost.map(([feed, since]) => `${feed} since ${since}`).join(', ')}); answering from the copy in memory`);
      },
      { effect: 'degrading', dependency: 'redis' },
    );
  health.exportTo(metrics);
  const requests = metrics.requests({
    requests: { name: 'flagline_evaluation_requests_total', help: 'SDK and OFREP requests, by route and status' },
    duration: { name: 'flagline_evaluation_request_duration_seconds', help: 'Time to answer, by route', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25] },
  });
  const writeFailures = metrics.counter('flagline_evaluation_identity_write_failures_total', 'Identify calls whose trait write failed');

  const analytics = new RedisFlagAnalyticsStore({ redis });
  const writer = config.commandServiceUrl && config.internalToken ? new HttpIdentityWriter(config.commandServiceUrl, config.internalToken) : undefined;
  const sdk = new FlagsmithSdkService(registry, {
    analytics,
    ...(writer ? { writer } : {}),
    onWriteError: (error) => {
      writeFailures.inc();
      logger.warn({ err: error }, 'identity write failed');
    },
  });
  const handler = new EvaluationHttpHandler(registry, sdk, new OfrepService(registry), {
    onError: (error) => logger.error({ err: error }, 'request failed'),
    onAnswered: (route, status, startedAt) => requests.record(route, status, (performance.now() - startedAt) / 1000),
  });

  const ops: OpsEndpoints = {
    health: () => health.report({ environments: registry.environmentCount, redis: redis.status, stalenessMs: staleness.ms() }),
    metrics,
  };
  const json = (response: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };
  const server = createServer({ IncomingMessage: SdkIncomingMessage, maxHeaderSize: MAX_HEADER_BYTES }, (request: IncomingMessage, response: ServerResponse) => {
    if (handler.handle(request, response)) return;
    void answerOps(request.url ?? '', ops).then((answer) => {
      if (answer === null) return json(response, 404, { detail: 'Not found', statusCode: 404, code: 'ROUTE_NOT_FOUND' });
      response.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) });
      response.end(answer.body);
    });
  });
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'evaluation service listening');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    registry,
    async close() {
      clearInterval(poller);
      resync.stop();
      await closeServer(server);
      registry.stop();
      await store.close();
      redis.disconnect();
    },
  };
}
