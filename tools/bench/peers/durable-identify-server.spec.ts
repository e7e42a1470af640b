import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startStandalone, type Standalone } from '../../../apps/standalone/src/standalone';
import { AdminClient } from '../admin-client';
import { createBenchEnvironment } from '../fixture';
import { environmentReadModels, newIdentity, startFloor, type Floor } from '../scale/identities';
import { sleep } from '../scale/processes';
import { identityBody } from '../support';

/** Rows in a floor's file of identity documents. */
function documentRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The floor of scenario 4 stores what it acknowledges: each new identity sealed in the log, its key in a slot, its document behind. */
describe('the durable identify floor (durable-identify-server.ts)', () => {
  let directory: string;
  let floor: Floor | undefined;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-floor-spec-'));
    floor = await startFloor(join(directory, 'data'));
  }, 60_000);

  afterAll(async () => {
    await floor?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  const identify = (body: string) => fetch(`${(floor as Floor).url}/api/v1/identities/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const logLines = (): string[] => readFileSync(join(directory, 'data', 'events.log'), 'utf8').split('\n').filter((line) => line !== '');

  it('answers each new identity once its sealed event and its key are written, and writes its document behind', async () => {
    const identifiers = Array.from({ length: 20 }, (_, index) => `floor-spec-${index}`);
    const answers = await Promise.all(identifiers.map((identifier) => identify(JSON.stringify({ identifier, traits: [{ trait_key: 'plan', trait_value: 'pro' }] }))));
    expect(answers.map((answer) => answer.status)).toEqual(identifiers.map(() => 200));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { identifier: string; flags: unknown[] }[];
    expect(bodies.map((body) => body.identifier)).toEqual(identifiers);
    expect(bodies[0]?.flags).toHaveLength(10);

    const events = logLines().map((line) => JSON.parse(line) as { type: string; data: { sealed?: { iv: string; ct: string } } });
    expect(events).toHaveLength(20);
    for (const event of events) expect(event).toMatchObject({ type: 'IdentityCreated', data: { sealed: { iv: expect.any(String), ct: expect.any(String) } } });
    // The identifiers are sealed: not one is in the log in the clear.
    expect(identifiers.some((identifier) => readFileSync(join(directory, 'data', 'events.log'), 'utf8').includes(identifier))).toBe(false);
    expect(statSync(join(directory, 'data', 'key-slots')).size).toBe(20 * 32);

    const documents = (): number => documentRows(join(directory, 'data', 'documents.sqlite'));
    for (let attempt = 0; attempt < 50 && documents() < 20; attempt++) await sleep(50);
    expect(documents()).toBe(20);
  }, 30_000);

  it('answers a body that is not an identify with 400 and stores nothing', async () => {
    const before = logLines().length;
    for (const body of ['{', 'null', '{"identifier":5,"traits":[]}', '{"identifier":"x"}']) expect((await identify(body)).status).toBe(400);
    expect(logLines()).toHaveLength(before);
  }, 30_000);
});

/**
 * With `--read-models`, the floor answers as the app does: the app's own evaluation over the
 * environment cut from the app's read models. With `--processes 2`, both processes append to one
 * log, and every acknowledged identity's event is in it, whole, once.
 */
describe('the durable identify floor evaluating as the app, on two processes', () => {
  let directory: string;
  let app: Standalone | undefined;
  let floor: Floor | undefined;
  let serverKey: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-floor-spec-'));
    const adminApiKey = 'flk_floor_spec_admin_key_0001';
    app = await startStandalone({ port: 0, host: '127.0.0.1', dataDir: join(directory, 'app'), adminApiKey, adminEmail: 'admin@flagline.local', adminKeyGenerated: false });
    serverKey = (await createBenchEnvironment(new AdminClient(app.url, adminApiKey))).serverKey;
    // The environment reaches the read-model file at the projection's next flush.
    const readModels = join(directory, 'cut.sqlite');
    for (let attempt = 0; attempt < 100; attempt++) {
      rmSync(readModels, { force: true });
      environmentReadModels(join(directory, 'app'), readModels);
      const cut = new Database(readModels, { readonly: true });
      const environments = (cut.prepare(`SELECT count(*) AS n FROM documents WHERE key LIKE 'environment:%'`).get() as { n: number }).n;
      cut.close();
      if (environments > 0) break;
      await sleep(100);
    }
    floor = await startFloor(join(directory, 'floor'), { processes: 2, readModels });
  }, 120_000);

  afterAll(async () => {
    await floor?.stop();
    await app?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const identify = (base: string, body: object | string, key = serverKey) =>
    fetch(`${base}/api/v1/identities/`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-environment-key': key }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const flagsOf = async (response: Response) => ((await response.json()) as { flags: { feature: { name: string }; enabled: boolean; feature_state_value: unknown }[] }).flags.map(({ feature, enabled, feature_state_value }) => [feature.name, enabled, feature_state_value]);

  it('answers the flags the app answers for the same identity', async () => {
    const base = (floor as Floor).url;
    for (const identity of Array.from({ length: 12 }, (_, index) => newIdentity('floor-spec-', index, String(index)))) {
      const fromApp = await identify((app as Standalone).url, identityBody(identity, { transient: true }));
      const fromFloor = await identify(base, identityBody(identity));
      expect(fromFloor.status).toBe(200);
      expect(await flagsOf(fromFloor)).toEqual(await flagsOf(fromApp));
    }
    expect((await identify(base, { identifier: 'floor-spec-unknown-key', traits: [] }, 'ser.unknown')).status).toBe(401);
  }, 60_000);

  it('appends every new identity of both processes to the one log, whole, and stores nothing for a transient one', async () => {
    const base = (floor as Floor).url;
    const logLines = (): string[] => readFileSync(join(directory, 'floor', 'events.log'), 'utf8').split('\n').filter((line) => line !== '');
    const before = logLines().length;
    expect((await identify(base, { identifier: 'floor-spec-transient', traits: [{ trait_key: 'plan', trait_value: 'pro' }], transient: true })).status).toBe(200);
    expect(logLines()).toHaveLength(before);
    const count = 200;
    const answers = await Promise.all(Array.from({ length: count }, (_, index) => identify(base, { identifier: `floor-spec-many-${index}`, traits: [{ trait_key: 'plan', trait_value: 'pro' }] })));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const lines = logLines().slice(before);
    expect(lines).toHaveLength(count);
    const events = lines.map((line) => JSON.parse(line) as { id: string; type: string });
    expect(new Set(events.map((event) => event.id)).size).toBe(count);
    expect(statSync(join(directory, 'floor', 'key-slots')).size).toBe((before + count) * 32);
    // The connections were dealt to both processes: each writes the documents of its own identities.
    const documents = (): number[] => ['documents0.sqlite', 'documents1.sqlite'].map((file) => documentRows(join(directory, 'floor', file)));
    for (let attempt = 0; attempt < 50 && documents().reduce((sum, rows) => sum + rows, 0) < before + count; attempt++) await sleep(50);
    const [first, second] = documents();
    expect((first ?? 0) + (second ?? 0)).toBe(before + count);
    expect(Math.min(first ?? 0, second ?? 0)).toBeGreaterThan(0);
  }, 60_000);
});
