// The event-store contract against a real EventStoreDB / KurrentDB server: the one
// EVENTSTORE_CONNECTION_STRING names (e.g. kurrentdb://localhost:2113?tls=false), or one started with
// testcontainers where a Docker engine is reachable. Otherwise the suite is reported as skipped,
// with the reason, never as passed. FLAGLINE_REQUIRE_EVENTSTORE=1 turns the skip into a failure.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { aNewEvent, describeEventStoreContract } from '@flagline/event-sourcing/testing';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

const configuredConnectionString = process.env['EVENTSTORE_CONNECTION_STRING'];
const KURRENTDB_IMAGE = process.env['KURRENTDB_IMAGE'] ?? 'docker.kurrent.io/kurrent-latest/kurrentdb:25.0';
const dockerReachable = Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');

function unavailableReason(): string | undefined {
  if (configuredConnectionString || dockerReachable) return undefined;
  return 'no EVENTSTORE_CONNECTION_STRING and no Docker engine for testcontainers';
}

let container: StartedTestContainer | undefined;

/** The server's connection string: the configured one, or a KurrentDB container started for this file. */
async function serverConnectionString(): Promise<string> {
  if (configuredConnectionString) return configuredConnectionString;
  container = await new GenericContainer(KURRENTDB_IMAGE)
    .withEnvironment({ KURRENTDB_INSECURE: 'true', KURRENTDB_CLUSTER_SIZE: '1', KURRENTDB_RUN_PROJECTIONS: 'None' })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204).withStartupTimeout(120_000))
    .start();
  return `kurrentdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`;
}

const reason = unavailableReason();

if (reason === undefined) {
  // One client for the file: each test gets its own store over it, closing its subscriptions.
  let client: KurrentDBClient;
  beforeAll(async () => {
    client = KurrentDBClient.connectionString(await serverConnectionString());
  }, 180_000);
  afterAll(async () => {
    await client?.dispose();
    await container?.stop();
  });

  describeEventStoreContract('EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(client);
    await store.headPosition();
    return { store, dispose: () => store.close() };
  });

  describe('EventStoreDB adapter on a real server', () => {
    let store: EventStoreDbEventStore;
    beforeAll(() => {
      store = new EventStoreDbEventStore(client);
    });
    afterAll(() => store.close());

    it('starts strictly after an event in the middle of a batch', async () => {
      const stream = `feature-${randomUUID().replace(/-/g, '')}`;
      await store.appendToStream(stream, [aNewEvent('First'), aNewEvent('Second'), aNewEvent('Third')]);
      const [first] = (await store.readStream(stream)).events;
      const after = first?.globalPosition ?? 0;

      const read = (await store.readAll({ after })).filter((event) => event.streamName === stream);
      expect(read.map((event) => event.type)).toEqual(['Second', 'Third']);

      const seen: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ after }, (event) => {
        if (event.streamName === stream) seen.push(event);
      });
      await subscription.caughtUp;
      await subscription.stop();
      expect(seen.map((event) => event.type)).toEqual(['Second', 'Third']);
    });

    it('reports the same position for an event in stream reads, $all reads and the append result', async () => {
      const stream = `feature-${randomUUID().replace(/-/g, '')}`;
      const head = await store.headPosition();
      const result = await store.appendToStream(stream, [aNewEvent(), aNewEvent()]);
      const fromStream = (await store.readStream(stream)).events.map((event) => event.globalPosition);
      const fromAll = (await store.readAll({ after: head })).filter((event) => event.streamName === stream).map((event) => event.globalPosition);
      expect(fromAll).toEqual(fromStream);
      expect(result.position).toBe(fromStream[1]);
    });
  });
} else if (process.env['FLAGLINE_REQUIRE_EVENTSTORE'] === '1') {
  describe('EventStore contract: EventStoreDB', () => {
    it('has a server', () => {
      throw new Error(`EventStoreDB is required (FLAGLINE_REQUIRE_EVENTSTORE=1) but unavailable: ${reason}`);
    });
  });
} else {
  console.warn(`[eventstoredb] EventStore contract: EventStoreDB is SKIPPED: ${reason}`);
  describe.skip(`EventStore contract: EventStoreDB — skipped: ${reason}`, () => {
    describeEventStoreContract('EventStoreDB', () => Promise.reject(new Error(reason)));
  });
}
