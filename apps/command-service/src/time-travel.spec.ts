import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService } from './command-service';
import { checkCommandServiceTimeTravel } from './time-travel.scenario';

const ADMIN_KEY = 'command-service-time-travel-admin-key';

describe('Command service on the embedded log: asOf reads and diff', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-time-travel-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when a feature state changes over time, then each point reads back as it was, and the diff names the change and its event', async () => {
    const config = loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });
    const service = await startCommandService(config, pino({ level: 'silent' }));
    try {
      await checkCommandServiceTimeTravel(service, ADMIN_KEY);
    } finally {
      await service.close();
    }
  });
});
