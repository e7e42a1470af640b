import { readModelKeys } from '@flagline/contracts';
import Database from 'better-sqlite3';
import type { EventStore } from '@flagline/event-sourcing';
import { rm, truncate, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN, ApiClient, expectStatus, obj, startTestApp, tempDataDir, type Json } from '../testing/http-harness';
import { appendIdentities, seedEnvironment, type SeededEnvironment } from '../testing/identity-log';

jest.setTimeout(120_000);

const adminKey = 'flk_read_models_restart_0123456789';

/** What the SDK API answers for an identity: its flags and traits, as a served answer. */
async function identify(url: string, environment: SeededEnvironment, identifier: string): Promise<Json> {
  const response = await new ApiClient(url, null).get(`/api/v1/identities/?identifier=${encodeURIComponent(identifier)}`, { headers: { 'X-Environment-Key': environment.clientKey } });
  return expectStatus(response, 200);
}

/** Events the relay hands to the projector for the whole log: all but the id sequence's. */
async function projectableEvents(store: Pick<EventStore, 'readAll'>): Promise<number> {
  return (await store.readAll()).filter((event) => !event.streamName.startsWith('sequence-')).length;
}

describe('Read models persisted across restarts', () => {
  let dataDir: string;
  let environment: SeededEnvironment;
  /** The read models and SDK answers after the first full projection. */
  let documents: Map<string, unknown>;
  let answers: Map<string, Json>;
  const identifiers = ['user-0', 'user-7', 'user-299', 'written-through-the-app'];

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-read-models-');
    environment = await seedEnvironment(dataDir, adminKey);
    await appendIdentities(dataDir, environment, 300);
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    // The seeding app stopped with its checkpoint: only the 300 identities (one event each) appended since are projected.
    expect(app.app.projectedSinceStart()).toBe(300);
    // A write through the app, with an identity override that lands in the environment document.
    expectStatus(await app.admin.post(`${ADMIN}/environments/${environment.environmentId}/identities`, { identifier: 'written-through-the-app', traits: { plan: 'gold' } }), 201);
    expectStatus(await app.admin.put(`${ADMIN}/environments/${environment.environmentId}/identities/written-through-the-app/overrides/${environment.featureId}`, { enabled: true, value: 'on' }), 200);
    documents = await readDocuments(app.app.readModels);
    answers = new Map();
    for (const identifier of identifiers) answers.set(identifier, await identify(app.app.url, environment, identifier));
    await app.stop();
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function readDocuments(store: { get<T>(key: string): Promise<T | null> }): Promise<Map<string, unknown>> {
    const keys = [
      readModelKeys.environment(environment.environmentId),
      readModelKeys.project(environment.projectId),
      ...identifiers.map((identifier) => readModelKeys.identity(environment.environmentId, identifier)),
    ];
    return new Map(await Promise.all(keys.map(async (key) => [key, await store.get(key)] as const)));
  }

  it('when restarted, then it projects no event and serves the same documents and answers', async () => {
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    try {
      expect(app.app.projectedSinceStart()).toBe(0);
      expect(await readDocuments(app.app.readModels)).toEqual(documents);
      for (const identifier of identifiers) expect(await identify(app.app.url, environment, identifier)).toEqual(answers.get(identifier));
      const overridden = obj(answers.get('written-through-the-app'));
      expect(JSON.stringify(overridden['flags'])).toContain('"feature_state_value":"on"');
    } finally {
      await app.stop();
    }
  });

  it('when the log grew while it was stopped, then the restart projects exactly the events after its checkpoint', async () => {
    await appendIdentities(dataDir, environment, 50, 'tail');
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    try {
      expect(app.app.projectedSinceStart()).toBe(50);
      const tail = obj(await identify(app.app.url, environment, 'tail-49'));
      expect(tail['traits']).toEqual(expect.arrayContaining([expect.objectContaining({ trait_key: 'age', trait_value: 49 })]));
      expect(await readDocuments(app.app.readModels)).toEqual(documents);
    } finally {
      await app.stop();
    }
  });

  describe.each([
    ['missing', (path: string) => rm(path)],
    ['torn (cut in half)', async (path: string) => truncate(path, Math.floor((await stat(path)).size / 2))],
    ['not a database', (path: string) => writeFile(path, 'garbage '.repeat(2_000))],
    [
      'ahead of the log (derived from a longer one)',
      (path: string) => {
        const db = new Database(path);
        db.prepare(`UPDATE consumers SET position = position + 1000 WHERE name = 'relay'`).run();
        db.close();
        return Promise.resolve();
      },
    ],
  ])('when read-models.sqlite is %s', (damageName, damage) => {
    it('then the start rebuilds it from the whole log and serves the same documents', async () => {
      const path = join(dataDir, 'read-models.sqlite');
      for (const suffix of ['-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
      await damage(path);
      const warnings: string[] = [];
      const warn = jest.spyOn(console, 'warn').mockImplementation((message: string) => void warnings.push(message));
      const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
      try {
        warn.mockRestore();
        expect(app.app.projectedSinceStart()).toBe(await projectableEvents(app.app.store));
        expect(await readDocuments(app.app.readModels)).toEqual(documents);
        for (const identifier of identifiers) expect(await identify(app.app.url, environment, identifier)).toEqual(answers.get(identifier));
        if (damageName !== 'missing') expect(warnings.join('\n')).toMatch(/read models: .*rebuilding them from the event log/);
      } finally {
        warn.mockRestore();
        await app.stop();
      }
    });
  });
});
