import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService } from './command-service';
import { checkCommandServiceExport } from './events-export.scenario';

const ADMIN_KEY = 'command-service-export-admin-key';

// Apps started and driven over HTTP: more than jest's default 5 s on a loaded machine.
jest.setTimeout(60_000);

describe('Command service on the embedded log: GET /admin/v1/events/export', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-export-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when a project is exported, then its events come out as stored and another organisation reads none of them', async () => {
    const config = loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });
    const service = await startCommandService(config, pino({ level: 'silent' }));
    try {
      await checkCommandServiceExport(service, ADMIN_KEY, service.storedLog);
    } finally {
      await service.close();
    }
  });
});
