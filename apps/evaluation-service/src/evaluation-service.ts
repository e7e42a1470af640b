import { EnvironmentRegistry, FlagsmithSdkService, OfrepService } from '@flagline/evaluation-application';
import { EvaluationHttpHandler, HttpIdentityWriter, SdkIncomingMessage } from '@flagline/evaluation-http';
import { answerClientErrors, MAX_HEADER_BYTES } from '@flagline/http-edge';
import { EnvReader, ServiceMetrics } from '@flagline/observability';
import { RedisFlagAnalyticsStore, RedisReadModelStore } from '@flagline/read-model-redis';
import { Redis } from 'ioredis';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

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
    onResubscribed: () => {
      notificationsLostAt = null;
      resync();
    },
    onNotificationsLost: () => {
      notificationsLostAt ??= Date.now();
    },
  });
  const registry = new EnvironmentRegistry(store, {
    identityTtlMs: config.identityTtlMs,
    onError: (error) => logger.warn({ err: error }, 'read-model sync failed'),
  });
  const resync = (): void => {
    if (registry.ready) registry.refreshAll().catch(() => undefined);
  };
  let disconnectedAt: number | null = Date.now();
  /** Since when changes may have gone unheard because the notification connection is down. */
  let notificationsLostAt: number | null = null;
  let firstLoad: Promise<void> | null = null;
  const load = (): void => {
    firstLoad ??= registry.start().then(
      () => logger.info({ environments: registry.environmentCount }, 'read models loaded'),
      (error: unknown) => {
        firstLoad = null;
        logger.warn({ err: error }, 'first load failed; retrying');
      },
    );
  };
  redis.on('ready', () => {
    disconnectedAt = null;
    // Notifications sent while disconnected are lost: reload everything on reconnect.
    if (registry.ready) resync();
    else load();
  });
  redis.on('close', () => {
    disconnectedAt ??= Date.now();
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis'));
  redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'redis not reachable yet'));
  const poller = setInterval(() => {
    if (registry.ready && disconnectedAt === null) registry.refreshEnvironments().catch(() => undefined);
    else if (!registry.ready && redis.status === 'ready') load();
  }, config.pollIntervalMs);
  poller.unref();

  // The copy may have missed changes since the earliest of: the command connection dropping, the
  // notification connection dropping (while the copy was last synced before either).
  const stalenessMs = (): number => {
    const since = [disconnectedAt, notificationsLostAt].filter((at): at is number => at !== null);
    if (since.length === 0) return 0;
    const earliest = Math.min(...since);
    return Date.now() - Math.min(earliest, registry.syncedAt ?? earliest);
  };
  const metrics = new ServiceMetrics('evaluation-service');
  metrics.gauge('flagline_evaluation_read_model_staleness_seconds', 'How long the in-memory copy may have missed changes (0 while connected)', [], (gauge) =>
    gauge.set(stalenessMs() / 1000),
  );
  metrics.gauge('flagline_evaluation_environments', 'Environments held in memory', [], (gauge) => gauge.set(registry.environmentCount));
  metrics.gauge('flagline_evaluation_ready', '1 once the read models were loaded', [], (gauge) => gauge.set(registry.ready ? 1 : 0));
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

  const health = () => {
    const staleness = stalenessMs();
    return { status: !registry.ready ? 'starting' : staleness > 0 ? 'degraded' : 'ok', ready: registry.ready, service: 'evaluation-service', environments: registry.environmentCount, redis: redis.status, stalenessMs: staleness };
  };
  const json = (response: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };
  const server = createServer({ IncomingMessage: SdkIncomingMessage, maxHeaderSize: MAX_HEADER_BYTES }, (request: IncomingMessage, response: ServerResponse) => {
    if (handler.handle(request, response)) return;
    switch (request.url ?? '') {
      case '/health':
        return json(response, 200, health());
      case '/health/live':
        return json(response, 200, { status: 'ok' });
      case '/health/ready': {
        const report = health();
        return json(response, report.ready ? 200 : 503, report);
      }
      case '/metrics':
        metrics.render().then(
          ({ contentType, body }) => {
            response.writeHead(200, { 'content-type': contentType });
            response.end(body);
          },
          () => json(response, 500, { detail: 'metrics unavailable' }),
        );
        return;
      default:
        return json(response, 404, { detail: 'Not found', statusCode: 404, code: 'ROUTE_NOT_FOUND' });
    }
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      registry.stop();
      await store.close();
      redis.disconnect();
    },
  };
}
