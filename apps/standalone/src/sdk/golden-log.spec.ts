import { generatedSecret } from '@flagline/observability';
import { EVENT_SCHEMA_VERSIONS, evolveIdentity, initialIdentity, upcastRecordedAdminEvent, type StoredIdentityEvent } from '@flagline/admin-domain';
import { UpcastingEventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { captureGoldenState, type GoldenSetup } from '../testing/golden-log';
import { startTestApp, tempDataDir, type JsonObject } from '../testing/http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

const FIXTURE = join(__dirname, 'fixtures', 'log-2026-12-05');
const ENV = { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC };
/** Event types the code learnt to write after this log was written: it cannot hold them (later fixtures do). */
const WRITTEN_SINCE: readonly string[] = ['IdentityErased'];

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
      expect([...types].sort()).toEqual(Object.keys(EVENT_SCHEMA_VERSIONS).filter((type) => !WRITTEN_SINCE.includes(type)).sort());
    } finally {
      await store.close();
    }
  });

  it('reads its IdentityCreated events of schema version 1 as version 2 with no traits, which the IdentityTraitsChanged after each brings', async () => {
    const log = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
    try {
      const stored = (await log.readAll()).filter((event) => event.type === 'IdentityCreated');
      expect(stored.length).toBeGreaterThan(0);
      // Written before version 2: no schema version, no traits.
      for (const event of stored) expect(Object.keys(event.data as object).sort()).toEqual(['createdAt', 'environmentId', 'identifier', 'identityId', 'projectId']);
      const read = (await new UpcastingEventStore(log, upcastRecordedAdminEvent).readAll()).filter((event) => event.type === 'IdentityCreated');
      expect(read.map((event) => event.data)).toEqual(stored.map((event) => ({ ...(event.data as object), schemaVersion: 2, traits: {}, floats: [] })));
      const first = stored[0] as RecordedEvent;
      const stream = await new UpcastingEventStore(log, upcastRecordedAdminEvent).readStream(first.streamName);
      const identity = stream.events.reduce((state, event) => evolveIdentity(state, event as StoredIdentityEvent, event.streamRevision), initialIdentity());
      expect(identity.traits.size).toBeGreaterThan(0);
    } finally {
      await log.close();
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
