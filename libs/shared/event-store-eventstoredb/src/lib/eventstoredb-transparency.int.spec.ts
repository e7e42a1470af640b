// The log's Merkle tree over EventStoreDB's `$all` order (positions not dense), on the server
// EVENTSTORE_CONNECTION_STRING names. Without one the suite is reported as skipped, with the reason.
import { describeTransparencyFollowerContract } from '@flagline/transparency/testing';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];

if (connectionString) {
  describeTransparencyFollowerContract('EventStoreDB', async () => {
    const log = await EventStoreDbEventStore.connect(connectionString);
    return { log, dispose: () => log.close() };
  });
} else {
  const reason = 'no EVENTSTORE_CONNECTION_STRING (no EventStoreDB server reachable)';
  console.warn(`[eventstoredb] Transparency follower contract: EventStoreDB is SKIPPED: ${reason}`);
  describe.skip(`Transparency follower contract: EventStoreDB — skipped: ${reason}`, () => {
    it('follows $all', () => undefined);
  });
}
