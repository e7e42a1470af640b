// asOf reads and diffs of the command service over a real EventStoreDB / KurrentDB server: the one
// EVENTSTORE_CONNECTION_STRING names (e.g. kurrentdb://localhost:2113?tls=false). Without one the suite is
// reported as skipped with the reason, never as passed; FLAGLINE_REQUIRE_EVENTSTORE=1 makes it fail.
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService } from './command-service';
import { checkCommandServiceTimeTravel } from './time-travel.scenario';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];
const ADMIN_KEY = 'command-service-time-travel-admin-key';
const TITLE = 'Command service on EventStoreDB: asOf reads and diff';

if (connectionString) {
  describe(TITLE, () => {
    it('when a feature state changes over time, then each point reads back as it was (positions are $all commit positions), and the diff names the change', async () => {
      const config = loadCommandServiceConfig({ EVENTSTORE_CONNECTION_STRING: connectionString, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });
      const service = await startCommandService(config, pino({ level: 'silent' }));
      try {
        await checkCommandServiceTimeTravel(service, ADMIN_KEY);
      } finally {
        await service.close();
      }
    });
  });
} else if (process.env['FLAGLINE_REQUIRE_EVENTSTORE'] === '1') {
  describe(TITLE, () => {
    it('has a server', () => {
      throw new Error('EventStoreDB is required (FLAGLINE_REQUIRE_EVENTSTORE=1) but EVENTSTORE_CONNECTION_STRING is not set');
    });
  });
} else {
  const reason = 'no EVENTSTORE_CONNECTION_STRING (an EventStoreDB / KurrentDB server to run against)';
  console.warn(`[eventstoredb] command service time travel: SKIPPED: ${reason}`);
  describe.skip(`${TITLE} — skipped: ${reason}`, () => {
    it('reads as of a point', () => undefined);
  });
}
