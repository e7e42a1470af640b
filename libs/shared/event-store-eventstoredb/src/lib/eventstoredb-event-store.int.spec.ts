// The event-store contract against a real EventStoreDB / KurrentDB server. Runs when
// EVENTSTORE_CONNECTION_STRING names one (e.g. esdb://localhost:2113?tls=false); otherwise the
// suite is reported as skipped, with the reason, never as passed. FLAGLINE_REQUIRE_EVENTSTORE=1
// turns the skip into a failure.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { aNewEvent, describeEventStoreContract } from '@flagline/event-sourcing/testing';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

function unavailableReason(): string | undefined {
  if (connectionString) return undefined;
  const docker = Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
  // Starting a server with testcontainers would need that package, which this workspace does not install.
  return docker
    ? 'no EVENTSTORE_CONNECTION_STRING (a Docker engine is present, but testcontainers is not installed)'
    : 'no EVENTSTORE_CONNECTION_STRING and no Docker engine';
}

const reason = unavailableReason();

if (reason === undefined) {
  // One client for the file: each test gets its own store over it, closing its subscriptions.
  const client = KurrentDBClient.connectionString(connectionString ?? '');
  afterAll(() => client.dispose());

  describeEventStoreContract('EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(client);
    await store.headPosition();
    return { store, dispose: () => store.close() };
  });

  describe('EventStoreDB adapter on a real server', () => {
    const store = new EventStoreDbEventStore(client);
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
