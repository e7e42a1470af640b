// The export route of the command service over a real EventStoreDB / KurrentDB server: the one
// EVENTSTORE_CONNECTION_STRING names (e.g. kurrentdb://localhost:2113?tls=false). Without one the suite is
// reported as skipped with the reason, never as passed; FLAGLINE_REQUIRE_EVENTSTORE=1 makes it fail.
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService } from './command-service';
import { checkCommandServiceExport } from './events-export.scenario';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];
const ADMIN_KEY = 'command-service-export-admin-key';

if (connectionString) {
  describe('Command service on EventStoreDB: GET /admin/v1/events/export', () => {
    it('when a project is exported, then its events come out as stored in $all order and another organisation reads none of them', async () => {
      const config = loadCommandServiceConfig({ EVENTSTORE_CONNECTION_STRING: connectionString, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });
      const service = await startCommandService(config, pino({ level: 'silent' }));
      try {
        await checkCommandServiceExport(service, ADMIN_KEY, service.storedLog);
      } finally {
        await service.close();
      }
    });
  });
} else if (process.env['FLAGLINE_REQUIRE_EVENTSTORE'] === '1') {
  describe('Command service on EventStoreDB: GET /admin/v1/events/export', () => {
    it('has a server', () => {
      throw new Error('EventStoreDB is required (FLAGLINE_REQUIRE_EVENTSTORE=1) but EVENTSTORE_CONNECTION_STRING is not set');
    });
  });
} else {
  const reason = 'no EVENTSTORE_CONNECTION_STRING (an EventStoreDB / KurrentDB server to run against)';
  console.warn(`[eventstoredb] command service export: SKIPPED: ${reason}`);
  describe.skip(`Command service on EventStoreDB: GET /admin/v1/events/export — skipped: ${reason}`, () => {
    it('exports a project as stored', () => undefined);
  });
}
