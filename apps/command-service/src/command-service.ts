import { AdminApplication } from '@flagline/admin-application';
import { createAdminHttpApp } from '@flagline/admin-api';
import { answerClientErrors, MAX_HEADER_BYTES } from '@flagline/http-edge';
import { AdminCatalog } from '@flagline/admin-projections';
import { ConflictError, IDENTITY_SEALING, identityIdsWith, upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { projectCheckpointKey } from '@flagline/admin-projections';
import type { PersonalDataErasure } from '@flagline/admin-application';
import { SealingEventStore, type SealingKeyStore } from '@flagline/event-sealing';
import { RedisSealingKeyStore } from '@flagline/key-store';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { LogFollower, UpcastingEventStore, type EventStore } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { EventStoreDbEventStore, eventStoreConnectionStringProblem } from '@flagline/event-store-eventstoredb';
import { EvaluationExplainer } from '@flagline/evaluation-application';
import { EnvReader, PinoNestLogger, reach, ServiceMetrics } from '@flagline/observability';
import { CatchUpWindow, HealthChecks, httpRequestMetrics, opsMiddleware, reasonOf, watchConnection, type OpsEndpoints } from '@flagline/observability';
import { RedisFlagAnalyticsStore } from '@flagline/read-model-redis';
import { SqliteCatalogStore, SqliteSnapshotArchive } from '@flagline/state-store-sqlite';
import type { TransparencyLog } from '@flagline/transparency';
import { startTransparency, transparencyHealth } from '@flagline/transparency-store';
import { Redis } from 'ioredis';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export type EventStoreConfig = { readonly kind: 'eventstoredb'; readonly connectionString: string } | { readonly kind: 'embedded'; readonly dataDir: string };

export interface CommandServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly eventStore: EventStoreConfig;
  readonly adminApiKey: string;
  readonly adminEmail: string;
  readonly internalToken: string;
  readonly redisUrl: string | undefined;
  /**
   * Where the admin catalog persists (identities, identifiers, the audit index, event ids and
   * snapshots, with their checkpoint): `DATA_DIR/catalog.sqlite` on the embedded log; on
   * EventStoreDB `CATALOG_DIR/catalog.sqlite`, a local cache resuming from its commit position.
   * Null (EventStoreDB without `CATALOG_DIR`): a file in the OS temporary directory, removed at
   * close, so memory stays bounded but every start reads the whole log.
   */
  readonly catalogPath: string | null;
  /** `SEALING_KEY_PREFIX`: where in Redis the keys sealing identities' personal data live (the projector reads them). */
  readonly sealingKeyPrefix?: string;
  /** `READ_MODEL_PREFIX`: the projector's read models, whose checkpoints an erasure waits for. */
  readonly readModelPrefix?: string;
  /**
   * `IDENTITY_ID_KEY` (32 bytes in base64): identity ids are keyed with it (HMAC-SHA-256), so the
   * log does not let whoever holds it confirm a guessed identifier. Set it before the first
   * identity is stored and never change it (identities are found by it); unset, ids are unkeyed.
   */
  readonly identityIdKey?: Buffer;
  /**
   * Where the log's Merkle tree persists (`transparency.sqlite`, and the generated signing key):
   * `TRANSPARENCY_DIR`, else `DATA_DIR` on the embedded log or `CATALOG_DIR` on EventStoreDB. Null: a
   * temporary directory removed at close, the tree rebuilt from `$all` at every start.
   */
  readonly transparencyDir: string | null;
  /** `TRANSPARENCY_SIGNING_KEY`: the Ed25519 key tree heads are signed with (PEM, or a file's path). */
  readonly transparencySigningKey?: string;
}

/**
 * `EVENTSTORE_CONNECTION_STRING` (EventStoreDB/KurrentDB), or `EVENT_STORE=embedded` with
 * `DATA_DIR` for a single-host deployment whose relay follows the same log file.
 */
export function loadCommandServiceConfig(env: NodeJS.ProcessEnv = process.env): CommandServiceConfig {
  const read = new EnvReader(env);
  const kind = read.string('EVENT_STORE', 'eventstoredb');
  const eventStore: EventStoreConfig =
    kind === 'embedded'
      ? { kind, dataDir: read.string('DATA_DIR') }
      : { kind: 'eventstoredb', connectionString: read.connectionString('EVENTSTORE_CONNECTION_STRING', eventStoreConnectionStringProblem) };
  if (kind !== 'embedded' && kind !== 'eventstoredb') read.problem(`EVENT_STORE must be "eventstoredb" or "embedded", got "${kind}"`);
  const adminApiKey = read.secret('ADMIN_API_KEY') ?? '';
  const internalToken = read.secret('INTERNAL_API_TOKEN') ?? '';
  const config: CommandServiceConfig = {
    port: read.integer('PORT', 8001, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    eventStore,
    adminApiKey,
    adminEmail: read.string('ADMIN_EMAIL', 'admin@flagline.local'),
    internalToken,
    redisUrl: read.optional('REDIS_URL') !== undefined ? read.url('REDIS_URL', ['redis', 'rediss']) : undefined,
    catalogPath: catalogPathOf(eventStore, read.optional('CATALOG_DIR')),
    sealingKeyPrefix: read.string('SEALING_KEY_PREFIX', 'flagline:sealing-key:'),
    readModelPrefix: read.string('READ_MODEL_PREFIX', 'flagline:rm:v1:'),
    ...identityIdKeyOf(read),
    transparencyDir: read.optional('TRANSPARENCY_DIR') ?? (eventStore.kind === 'embedded' ? eventStore.dataDir : (read.optional('CATALOG_DIR') ?? null)),
    ...(read.optional('TRANSPARENCY_SIGNING_KEY') !== undefined ? { transparencySigningKey: read.optional('TRANSPARENCY_SIGNING_KEY') } : {}),
  };
  read.done();
  return config;
}

function catalogPathOf(eventStore: EventStoreConfig, catalogDir: string | undefined): string | null {
  if (catalogDir !== undefined) return join(catalogDir, 'catalog.sqlite');
  return eventStore.kind === 'embedded' ? join(eventStore.dataDir, 'catalog.sqlite') : null;
}

/**
 * The admin catalog over its persisted store, checked against the log: it resumes after its
 * checkpoint (a file that is torn, foreign or ahead of the log is rebuilt from the log instead).
 */
async function openCatalog(store: EventStore, path: string | null, logger: Logger): Promise<{ catalog: AdminCatalog; release: () => void }> {
  const directory = path === null ? mkdtempSync(join(tmpdir(), 'flagline-catalog-')) : dirname(path);
  mkdirSync(directory, { recursive: true });
  const catalogStore = SqliteCatalogStore.open(path ?? join(directory, 'catalog.sqlite'), {
    onDiscarded: (reason) => logger.warn({ reason }, 'admin catalog file unusable; rebuilding it from the event log'),
  });
  const catalog = await AdminCatalog.open(store, { store: catalogStore, onError: (error) => logger.error({ err: error }, 'admin catalog write failed; retrying') });
  return {
    catalog,
    release: () => {
      try {
        catalog.close();
      } finally {
        if (path === null) rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}

/** The event store as stored: exports and proofs read it, nothing else does. */
export async function openStoredLog(config: EventStoreConfig): Promise<EventStore> {
  return config.kind === 'embedded'
    ? await reach('embedded event log', join(config.dataDir, 'events'), () => EmbeddedEventStore.open({ directory: join(config.dataDir, 'events') }))
    : await reach('EventStoreDB', config.connectionString, () => EventStoreDbEventStore.connect(config.connectionString));
}

/** The event store, read through the upcasting boundary: everything above it sees today's event shapes. */
export async function openEventStore(config: EventStoreConfig): Promise<EventStore> {
  return new UpcastingEventStore(await openStoredLog(config), upcastRecordedAdminEvent);
}

export interface RunningCommandService {
  readonly url: string;
  readonly port: number;
  readonly catalog: AdminCatalog;
  /** The log's Merkle tree. */
  readonly transparency: TransparencyLog;
  /** The event log as stored (what exports carry). */
  readonly storedLog: EventStore;
  close(): Promise<void>;
}

function identityIdKeyOf(read: EnvReader): { identityIdKey?: Buffer } {
  const text = read.optional('IDENTITY_ID_KEY');
  if (text === undefined) return {};
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32 || key.toString('base64') !== text) read.problem('IDENTITY_ID_KEY must be 32 bytes in base64');
  return { identityIdKey: key };
}

/** How long an erasure waits for the projector to apply it before the key may go. */
const ERASURE_PROJECTION_TIMEOUT_MS = 30_000;

/**
 * Erasure in distributed mode: the key is destroyed once the projector's checkpoint of the
 * identity's project (in Redis, beside the read models) has passed the IdentityErased event, so
 * the projector has read the identifier it drops the identity's documents by. If it has not in
 * time, the request is refused (409) with the event stored: repeating it finishes the erasure.
 */
function redisErasure(redis: Redis, keys: SealingKeyStore, readModelPrefix: string | undefined, snapshots: SqliteSnapshotArchive | undefined): PersonalDataErasure {
  const readModels = new RedisReadModelStore({ redis, ...(readModelPrefix !== undefined ? { keyPrefix: readModelPrefix } : {}) });
  return {
    destroyKey: async (streamName, { projectId, position }) => {
      const deadline = Date.now() + ERASURE_PROJECTION_TIMEOUT_MS;
      while (position !== null && (await readModels.checkpoint(projectCheckpointKey(projectId))) < position) {
        if (Date.now() > deadline) throw new ConflictError('IDENTITY.ERASURE_PENDING', 'The erasure is recorded but the read models have not applied it yet; repeat the request to finish it');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await keys.destroy(streamName);
    },
    // The identity's as-of snapshots were deleted (zeroed by secure_delete): cut the WAL's older page images.
    scrub: () => {
      snapshots?.scrub();
      return Promise.resolve();
    },
  };
}

/** The catalog is ready to serve while it has reached where the log's head was this long ago. */
const CATALOG_CATCH_UP_WINDOW_MS = 10_000;

/** The admin API over the event store, with the catalog kept by following the log. */
export async function startCommandService(config: CommandServiceConfig, logger: Logger): Promise<RunningCommandService> {
  const storedLog = await openStoredLog(config.eventStore);
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false }) : null;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis'));
  // Identities' personal data is sealed under keys kept in Redis, where the projector reads them.
  const keys: SealingKeyStore | null = redis ? new RedisSealingKeyStore({ redis, ...(config.sealingKeyPrefix !== undefined ? { keyPrefix: config.sealingKeyPrefix } : {}) }) : null;
  if (!keys) logger.warn('no REDIS_URL: identities are stored unsealed and cannot be erased');
  const store: EventStore = new UpcastingEventStore(keys ? new SealingEventStore(storedLog, keys, IDENTITY_SEALING) : storedLog, upcastRecordedAdminEvent);
  const { catalog, release } = await openCatalog(store, config.catalogPath, logger);
  const follower = new LogFollower(store, (event) => catalog.apply(event), {
    after: catalog.position,
    onError: (error) => logger.warn({ err: error }, 'event store subscription lost; resubscribing'),
  });
  const startedAt = Date.now();
  await follower.start();
  logger.info({ position: catalog.position, applied: catalog.appliedCount, ms: Date.now() - startedAt }, 'admin catalog caught up with the log');

  // The log's Merkle tree follows the log as stored ($all order on EventStoreDB), behind the writes.
  const transparencyDir = config.transparencyDir ?? mkdtempSync(join(tmpdir(), 'flagline-transparency-'));
  if (config.transparencyDir === null) logger.warn({ transparencyDir }, 'no TRANSPARENCY_DIR or CATALOG_DIR: the Merkle tree is rebuilt from the log at every start');
  mkdirSync(transparencyDir, { recursive: true });
  const { transparency, close: closeTransparency } = startTransparency(storedLog, {
    dataDir: transparencyDir,
    ...(config.transparencySigningKey !== undefined ? { signingKey: config.transparencySigningKey } : {}),
    log: (message) => logger.warn(message),
  });

  const analytics = redis ? new RedisFlagAnalyticsStore({ redis }) : undefined;
  // As-of reads' stream snapshots outlive a restart beside a lasting catalog file (in memory only otherwise).
  const snapshotArchive =
    config.catalogPath !== null ? new SqliteSnapshotArchive(join(dirname(config.catalogPath), 'snapshots.sqlite'), { onError: (error) => logger.warn({ err: error }, 'snapshot archive write failed') }) : undefined;
  // Explained evaluation runs the evaluation side's serving code on documents folded from the log.
  const admin = new AdminApplication(
    { store, storedLog, transparency, catalog, explainer: new EvaluationExplainer(), logPositions: config.eventStore.kind === 'embedded' ? 'dense' : 'sparse', ...(analytics ? { analytics } : {}), ...(redis && keys ? { erasure: redisErasure(redis, keys, config.readModelPrefix, snapshotArchive) } : {}), ...(snapshotArchive ? { snapshotArchive } : {}), identityIds: identityIdsWith(config.identityIdKey ?? null) },
    { adminApiKey: config.adminApiKey, adminEmail: config.adminEmail },
  );
  await admin.auth.bootstrap();

  const metrics = new ServiceMetrics('command-service');
  metrics.gauge('flagline_catalog_position', 'Global log position the admin catalog has applied', [], (gauge) => gauge.set(catalog.position));
  // Serving needs the log, the catalog caught up with it, and Redis where identities are sealed.
  const health = new HealthChecks('command-service').add('eventstore', 'not read yet', { dependency: 'eventstore' });
  health.up('eventstore'); // the catalog just caught up with it
  const catchUp = new CatchUpWindow(CATALOG_CATCH_UP_WINDOW_MS);
  health.probe('catalog', () => catchUp.check(catalog.position));
  if (redis) {
    health.add('redis', 'not connected yet', { dependency: 'redis' });
    watchConnection(redis, health, 'redis');
  }
  health.exportTo(metrics);
  let head = catalog.position;
  metrics.gauge('flagline_catalog_head_position', "The log's head position as last read (every 2 s)", [], (gauge) => gauge.set(head));
  const headTimer = setInterval(() => {
    storedLog.headPosition().then(
      (position) => {
        head = position;
        catchUp.head(position);
        health.up('eventstore');
      },
      (error: unknown) => health.down('eventstore', `log head not readable: ${reasonOf(error)}`),
    );
  }, 2000);
  headTimer.unref();
  const ops: OpsEndpoints = {
    health: () => health.report({ eventStore: config.eventStore.kind, position: catalog.position, head, transparency: transparencyHealth(transparency) }),
    metrics,
  };
  const app = await createAdminHttpApp(admin, {
    health: () => ops.health(),
    internalToken: config.internalToken,
    logger: new PinoNestLogger(logger),
    // Ahead of Nest's routes (a route added after its initialisation answers 404): operations
    // routes, and request counts and durations by route template.
    beforeRoutes: (server) => {
      server.use(opsMiddleware(ops));
      server.use(httpRequestMetrics(metrics, 'flagline_admin'));
    },
  });
  // Outlive the idle timeouts of clients and load balancers in front, so a pooled connection is
  // never closed by us just as it is reused (Node's default is 5 s).
  const httpServer = app.getHttpServer() as Server;
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  answerClientErrors(httpServer);
  // Nest creates the server without options; Node reads this property of it for each new connection.
  (httpServer as Server & { maxHeaderSize?: number }).maxHeaderSize = MAX_HEADER_BYTES;
  await app.listen(config.port, config.host);
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  logger.info({ port: address.port, eventStore: config.eventStore.kind }, 'command service listening');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    catalog,
    transparency,
    storedLog,
    async close() {
      await app.close();
      snapshotArchive?.close();
      clearInterval(headTimer);
      await follower.stop();
      await closeTransparency();
      if (config.transparencyDir === null) rmSync(transparencyDir, { recursive: true, force: true });
      release();
      redis?.disconnect();
      await store.close();
    },
  };
}
