import { AdminApplication } from '@flagline/admin-application';
import { createAdminHttpApp } from '@flagline/admin-api';
import { AdminCatalog, EnvironmentProjector } from '@flagline/admin-projections';
import { IDENTITY_SEALING, toIdentityStreamName, upcastRecordedAdminEvent, type IdentityIds } from '@flagline/admin-domain';
import { SealingEventStore } from '@flagline/event-sealing';
import { InProcessEventBus, Relay, UpcastingEventStore, type EventStore, type RecordedEvent, type Subscription } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import type { TransparencyLog } from '@flagline/transparency';
import { startTransparency, transparencyHealth } from '@flagline/transparency-store';
import { EnvironmentRegistry, EvaluationExplainer, FlagsmithSdkService, OfrepService } from '@flagline/evaluation-application';
import { closeServer, EvaluationHttpHandler, SdkIncomingMessage } from '@flagline/evaluation-http';
import { answerClientErrors, MAX_HEADER_BYTES } from '@flagline/http-edge';
import { InMemoryFlagAnalyticsStore } from '@flagline/read-model';
import { SqliteReadModelStore } from '@flagline/read-model-sqlite';
import { SqliteCatalogStore, SqliteSnapshotArchive } from '@flagline/state-store-sqlite';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_READ_MODELS_MAPPED_MIB, type StandaloneConfig } from './config';
import { catchUpReadModels } from './rebuild-parts';
import { identityIdsOf, openKeyStore } from './sealing';

export interface Standalone {
  readonly url: string;
  readonly port: number;
  /** The event log, read through the upcasting boundary. */
  readonly store: EventStore;
  readonly readModels: SqliteReadModelStore;
  /** Events the environment projector was handed since this start (a restart resumes after the persisted checkpoint). */
  projectedSinceStart(): number;
  readonly admin: AdminApplication;
  readonly registry: EnvironmentRegistry;
  /** How this data directory derives identity ids (identity stream names). */
  readonly identityIds: IdentityIds;
  /** The log's Merkle tree. */
  readonly transparency: TransparencyLog;
  close(): Promise<void>;
}

/** Requests the evaluation fast path answers; everything else goes to the admin API. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * How often the admin catalog and the read models write what they applied to their files (each
 * sooner when much waits). Reads are answered from memory meanwhile, and the log already holds
 * every acknowledged write, so the interval decides how many rows share a transaction: a second's
 * new identities share more B-tree pages and WAL frames per flush than 200 ms's, so the event loop
 * writes fewer pages per identity (measured in turns: see "Scale benchmark" in the README). After
 * a crash, a start projects the log after the files' checkpoints again.
 */
const WRITE_BEHIND_INTERVAL_MS = 1_000;

/**
 * The whole platform in one process on embedded adapters: the durable file event store, the
 * in-process bus, read models persisted in SQLite with their checkpoints (a start projects only
 * the log after them).
 */
export async function startStandalone(config: StandaloneConfig): Promise<Standalone> {
  // Everything opened so far, closed in reverse order on shutdown or when start-up fails half-way.
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    const pending = closers.splice(0).reverse();
    for (const close of pending) await close();
  };
  try {
    const log = await EmbeddedEventStore.open({ directory: join(config.dataDir, 'events') });
    closers.push(() => log.close());
    // Keyed identity ids for a new data directory, the unkeyed ones its log already uses otherwise.
    const identityIds = await identityIdsOf(config.dataDir, log);
    // Identities' personal data is sealed in the log under a key per identity kept in keys.sqlite
    // (see "Erasure (GDPR)" in the README); the keys close after everything that reads events.
    const keys = openKeyStore(config.dataDir);
    closers.push(() => keys.close());
    // The one read boundary: everything below reads events opened, in the shapes the code writes today.
    const store: EventStore = new UpcastingEventStore(new SealingEventStore(log, keys, IDENTITY_SEALING), upcastRecordedAdminEvent);
    // The admin catalog resumes from its persisted checkpoint and reads only the log after it.
    const catalogStore = SqliteCatalogStore.open(join(config.dataDir, 'catalog.sqlite'), { onDiscarded: (reason) => console.warn(`admin catalog: ${reason}; rebuilding it from the event log`) });
    const catalog = await AdminCatalog.open(store, {
      store: catalogStore,
      flushIntervalMs: WRITE_BEHIND_INTERVAL_MS,
      onError: (error) => console.error('admin catalog', error),
    });
    closers.push(() => catalog.close());
    const catalogFeed: Subscription = store.subscribeToAll({ after: catalog.position }, (event) => catalog.apply(event));
    closers.push(() => catalogFeed.stop());
    await catalogFeed.caughtUp;

    // Read models and the relay's position persist together in read-models.sqlite, so a restart
    // projects only the log after that position; a file that cannot be served is rebuilt from the log.
    const readModels = SqliteReadModelStore.open({
      path: join(config.dataDir, 'read-models.sqlite'),
      logHead: await store.headPosition(),
      trackWrittenIdentities: true,
      mappedReadBytes: (config.readModelsMappedMiB ?? DEFAULT_READ_MODELS_MAPPED_MIB) * 1024 * 1024,
      flushIntervalMs: WRITE_BEHIND_INTERVAL_MS,
      onError: (error) => console.error('read models', error),
    });
    closers.push(() => readModels.close());
    if (readModels.recreatedBecause) console.warn(`read models: ${readModels.recreatedBecause}; rebuilding them from the event log`);
    const projector = new EnvironmentProjector(readModels);
    let projectedSinceStart = 0;
    // An empty file (first start, or a bad one replaced) catches up with the log in batches, as the
    // rebuild does, and the relay takes over from the position it reached.
    if (readModels.created) projectedSinceStart += await catchUpReadModels(store, readModels, projector);
    const bus = new InProcessEventBus();
    closers.push(() => bus.close());
    await bus.subscribe('environment-projector', async (event: RecordedEvent) => {
      projectedSinceStart++;
      await projector.handle(event);
    });
    const relay = new Relay(store, bus, readModels.consumerCheckpoints(), {
      filter: (event) => !event.streamName.startsWith('sequence-'),
      onError: (error) => console.error('relay', error),
    });
    closers.push(() => relay.stop());
    await relay.start();
    await relay.progress.waitFor(await store.headPosition());

    // The log's Merkle tree follows the log as stored, behind the writes, its leaves written by a worker thread reading the log's file.
    const { transparency, close: closeTransparency } = startTransparency(log, {
      dataDir: config.dataDir,
      embeddedLog: { directory: join(config.dataDir, 'events'), tailStart: (after) => log.tailStart(after) },
      ...(config.transparencySigningKey !== undefined ? { signingKey: config.transparencySigningKey } : {}),
      log: (message) => console.warn(message),
    });
    closers.push(closeTransparency);
    // As-of reads' stream snapshots, written behind, so a restart does not fold long streams from zero again.
    const snapshotArchive = new SqliteSnapshotArchive(join(config.dataDir, 'snapshots.sqlite'), { onError: (error) => console.error('snapshot archive', error) });
    closers.push(() => snapshotArchive.close());
    const analytics = await InMemoryFlagAnalyticsStore.persistedTo(join(config.dataDir, 'analytics.json'));
    closers.push(() => analytics.close());
    const admin = new AdminApplication(
      {
        store,
        storedLog: log,
        transparency,
        identityIds,
        catalog,
        analytics,
        projectionBarrier: (position) => relay.progress.waitFor(position, 10_000),
        explainer: new EvaluationExplainer(),
        snapshotArchive,
        erasure: {
          destroyKey: async (streamName) => {
            await keys.destroy(streamName);
          },
          // The erased identity's rows were deleted (zeroed by secure_delete): persist them and cut the WALs' older page images.
          scrub: () => {
            catalog.flush();
            catalogStore.scrub();
            readModels.scrub();
            snapshotArchive.scrub();
            return Promise.resolve();
          },
        },
      },
      { adminApiKey: config.adminApiKey, adminEmail: config.adminEmail },
    );
    await admin.auth.bootstrap();

    // Identities are a synchronous indexed SQLite read away (tens of microseconds), so the registry
    // keeps only the hottest 10,000 (about 15 MB at 5 traits each) on top of the store's own cache of
    // the same frozen objects; a million cached identities would cost far more than the RSS budget.
    // Identities not cached are read synchronously (no promise per identify of a stored identity).
    const registry = new EnvironmentRegistry(readModels, {
      identityCacheSize: 10_000,
      readNow: (key) => readModels.getNow(key),
      // A new identity is answered absent without a read: by the read models' own filter of the identity
      // keys they hold once it is filled (behind the serving, after a start), or else by the log's filter
      // of stream names, which needs the identity id (an HMAC each) that a stored identity does not.
      mayExist: (environmentId, identifier) => readModels.identityFilterComplete || log.mayHaveStream(toIdentityStreamName(identityIds(environmentId, identifier))),
      onError: (error) => console.error('evaluation registry', error),
    });
    closers.push(() => registry.stop());
    await registry.start();
    const sdk = new FlagsmithSdkService(registry, {
      analytics,
      writer: {
        record: async (input) => {
          await admin.identities.recordFromSdk({
            environmentId: input.environmentId,
            identifier: input.identifier,
            traits: input.traits,
            actor: { kind: 'environment-key', id: input.actor.keyPrefix, name: `${input.actor.keyKind}-side key` },
            correlationId: input.correlationId,
            ...(input.absent ? { absent: true } : {}),
          });
        },
      },
      onWriteError: (error) => console.error('identity write', error),
    });
    const evaluation = new EvaluationHttpHandler(registry, sdk, new OfrepService(registry), { onError: (error) => console.error('evaluation', error) });

    const nest = await createAdminHttpApp(admin, {
      health: () => ({ mode: 'standalone', position: catalog.position, projected: relay.progress.position, environments: registry.environmentCount, transparency: transparencyHealth(transparency) }),
    });
    closers.push(() => nest.close());
    const expressHandler = nest.getHttpAdapter().getInstance() as (request: IncomingMessage, response: ServerResponse) => void;
    const fastPaths: FastPath[] = [(request, response) => evaluation.handle(request, response)];
    const server: Server = createServer({ IncomingMessage: SdkIncomingMessage, maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
      for (const fastPath of fastPaths) if (fastPath(request, response)) return;
      expressHandler(request, response);
    });
    server.keepAliveTimeout = 65_000;
    answerClientErrors(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    closers.push(() => closeServer(server));
    const { port } = server.address() as AddressInfo;

    return {
      url: `http://127.0.0.1:${port}`,
      port,
      store,
      readModels,
      projectedSinceStart: () => projectedSinceStart,
      admin,
      registry,
      identityIds,
      transparency,
      close: closeAll,
    };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}
