import { EVENT_SCHEMA_VERSIONS } from '@flagline/admin-domain';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { captureGoldenState, type GoldenSetup } from '../testing/golden-log';
import { startTestApp, tempDataDir, type JsonObject } from '../testing/http-harness';

const FIXTURE = join(__dirname, 'fixtures', 'log-2026-12-05');
const ENV = { ADMIN_API_KEY: 'golden-admin-key-0123456789abcdef' };

describe('a log written on 2026-12-05 holding every event type (fixtures/log-2026-12-05)', () => {
  let dataDir: string;
  let setup: GoldenSetup;
  let expected: JsonObject;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-golden-');
    await cp(join(FIXTURE, 'events'), join(dataDir, 'events'), { recursive: true });
    setup = JSON.parse(await readFile(join(FIXTURE, 'setup.json'), 'utf8')) as GoldenSetup;
    expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as JsonObject;
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('holds every event type the code names a schema version for', async () => {
    const store = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
    try {
      const types = new Set((await store.readAll()).map((event) => event.type));
      expect([...types].sort()).toEqual(Object.keys(EVENT_SCHEMA_VERSIONS).sort());
    } finally {
      await store.close();
    }
  });

  it('is served as it was on the day it was written, on a first start and after a restart', async () => {
    for (const start of ['first', 'restart']) {
      const t = await startTestApp({ dataDir, env: ENV });
      try {
        expect({ start, state: await captureGoldenState(t, setup) }).toEqual({ start, state: expected });
      } finally {
        await t.stop();
      }
    }
  });
});
