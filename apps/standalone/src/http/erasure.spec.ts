import { identityIdFor, toIdentityStreamName } from '@flagline/admin-domain';
import { IDENTITY_IDS_FILE } from '../sealing';
import { readModelKeys, type EnvironmentDocument } from '@flagline/contracts';
import { canonicalEventBytes } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rebuildParts, standaloneParts, swapIn } from '../rebuild-parts';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, obj, results, startTestApp, type TestApp } from '../testing/http-harness';

/** Every file under a directory, recursively. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The files of the data directory (the log's, every SQLite file and its WAL, the rest) holding any of the texts. */
function filesHolding(dataDir: string, texts: readonly string[]): string[] {
  const needles = texts.map((text) => Buffer.from(text, 'utf8'));
  return filesUnder(dataDir).filter((path) => {
    const bytes = readFileSync(path);
    return needles.some((needle) => bytes.includes(needle));
  });
}

/** The canonical bytes (what the Merkle leaves hash) of every stored event, read from the raw log with the app stopped. */
async function storedBytes(dataDir: string): Promise<string[]> {
  const log = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
  try {
    return (await log.readAll()).map((event) => canonicalEventBytes(event).toString('base64'));
  } finally {
    await log.close();
  }
}

/**
 * GDPR erasure by crypto-shredding, end to end on the standalone app: an identity's identifier and
 * traits never reach the log in the clear; erasing it drops it from every read and derived file,
 * its events read as erased (through a restart and a rebuild) while their stored bytes, and so
 * every proof over them, stay as they were; an identify afterwards makes a new identity.
 */
describe('Erasing an identity (GDPR)', () => {
  let t: TestApp;
  let s: OrganisationSetup;
  let other: OrganisationSetup;
  const nickname = `zebra-quokka-${randomBytes(4).toString('hex')}`;
  let before: string[];
  let identityPath: string;

  const restart = async (): Promise<void> => {
    await t.stop();
    t = await startTestApp({ dataDir: t.dataDir });
  };

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'Erasure');
    other = await setupOrganisation(t, 'Elsewhere');
    identityPath = `${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`;
    expectStatus(await t.admin.patch(`${identityPath}/traits`, { traits: { nickname } }), 200);
  }, 60_000);

  afterAll(async () => {
    await t.dispose();
  });

  it('keeps the identifier and trait values out of the log (sealed), and reads them back after a restart', async () => {
    await t.stop();
    const log = filesUnder(join(t.dataDir, 'events'));
    expect(log.length).toBeGreaterThan(0);
    expect(filesHolding(join(t.dataDir, 'events'), [s.identifier, nickname])).toEqual([]);
    // The derived files do hold them (the search below is able to find them).
    expect(filesHolding(t.dataDir, [nickname]).length).toBeGreaterThan(0);
    before = await storedBytes(t.dataDir);
    t = await startTestApp({ dataDir: t.dataDir });
    const identity = obj(expectStatus(await t.admin.get(identityPath), 200));
    expect(identity['identifier']).toBe(s.identifier);
    expect(obj(identity['traits'])['nickname']).toBe(nickname);
  });

  it('is for organisation admins only, and a refused request writes nothing', async () => {
    const head = await t.app.store.headPosition();
    expectStatus(await t.client(s.memberOrgKey).post(`${identityPath}/erase`), 403);
    expectStatus(await t.client(other.orgKey).post(`${identityPath}/erase`), 404);
    expectStatus(await t.client(s.orgKey).post(`${ADMIN}/environments/${s.environmentId}/identities/nobody-here/erase`), 404);
    expect(await t.app.store.headPosition()).toBe(head);
  });

  it('drops the identity from admin reads and the evaluation read models; its history reads as erased', async () => {
    expectStatus(await t.client(s.orgKey).post(`${identityPath}/erase`), 204);
    expectStatus(await t.admin.get(identityPath), 404);
    const listed = results(expectStatus(await t.admin.get(`${ADMIN}/environments/${s.environmentId}/identities`), 200));
    expect(listed.map((identity) => identity['identifier'])).not.toContain(s.identifier);
    expect(await t.app.readModels.get(readModelKeys.identity(s.environmentId, s.identifier))).toBeNull();
    const environment = await t.app.readModels.get<EnvironmentDocument>(readModelKeys.environment(s.environmentId));
    expect(environment?.identityOverrides.map((entry) => entry.identifier)).not.toContain(s.identifier);

    const history = expectStatus(await t.admin.get(`${identityPath}/history`), 200);
    const entries = results(history);
    expect(entries.map((entry) => entry['type'])).toEqual(['IdentityCreated', 'IdentityOverrideSet', 'IdentityTraitsChanged', 'IdentityErased']);
    for (const entry of entries) expect(obj(entry['data'])['erased']).toBe(true);
    const text = JSON.stringify(history);
    expect(text).not.toContain(s.identifier);
    expect(text).not.toContain(nickname);
    // Erasing again finds nothing more to record, and answers the same.
    const head = await t.app.store.headPosition();
    expectStatus(await t.client(s.orgKey).post(`${identityPath}/erase`), 204);
    expect(await t.app.store.headPosition()).toBe(head);
  });

  it('leaves the identifier and trait value in no file of the data directory, and the stored bytes of every earlier event unchanged', async () => {
    expect(filesHolding(t.dataDir, [s.identifier, nickname])).toEqual([]);
    await t.stop();
    const after = await storedBytes(t.dataDir);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBe(before.length + 1);
    t = await startTestApp({ dataDir: t.dataDir });
  });

  it('stays erased after a restart and after a rebuild of the read models and the catalog from the log', async () => {
    await restart();
    expectStatus(await t.admin.get(identityPath), 404);
    await t.stop();
    await rebuildParts({ dataDir: t.dataDir, parts: standaloneParts() }, ({ parts }) => {
      for (const { freshPath, livePath } of parts) swapIn(freshPath, livePath);
    });
    expect(filesHolding(t.dataDir, [s.identifier, nickname])).toEqual([]);
    t = await startTestApp({ dataDir: t.dataDir });
    expectStatus(await t.admin.get(identityPath), 404);
    expect(await t.app.readModels.get(readModelKeys.identity(s.environmentId, s.identifier))).toBeNull();
    // The other organisation's identity, never erased, came through the rebuild as it was.
    const kept = obj(expectStatus(await t.admin.get(`${ADMIN}/environments/${other.environmentId}/identities/${encodeURIComponent(other.identifier)}`), 200));
    expect(obj(kept['traits'])['plan']).toBe('pro');
    for (const entry of results(expectStatus(await t.admin.get(`${identityPath}/history`), 200))) expect(obj(entry['data'])['erased']).toBe(true);
  }, 60_000);

  it('lets an identify of the same identifier make a new identity, with none of the old one’s traits or overrides', async () => {
    const response = await fetch(`${t.app.url}/api/v1/identities/?identifier=${encodeURIComponent(s.identifier)}`, { headers: { 'x-environment-key': s.environmentKey } });
    expect(response.status).toBe(200);
    const flags = (await response.json()) as { flags: { feature: { id: number }; feature_state_value: unknown }[] };
    expect(flags.flags.find((flag) => flag.feature.id === s.featureId)?.feature_state_value).not.toBe('mine');
    const identity = obj(expectStatus(await t.admin.get(identityPath), 200));
    expect(identity['traits']).toEqual({});
    const entries = results(expectStatus(await t.admin.get(`${identityPath}/history`), 200));
    expect(entries.map((entry) => entry['type'])).toEqual(['IdentityCreated', 'IdentityOverrideSet', 'IdentityTraitsChanged', 'IdentityErased', 'IdentityCreated']);
    expect(obj(entries[4]?.['data'])['identifier']).toBe(s.identifier);
  });
});

describe('Erasing an identity whose as-of reads were answered from snapshots', () => {
  let t: TestApp;
  afterAll(async () => {
    await t.dispose();
  });

  it('answers 404 as of any point afterwards: the snapshots of its stream go with its key', async () => {
    t = await startTestApp();
    const s = await setupOrganisation(t, 'Snapshots');
    const path = `${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`;
    // Enough events for the as-of reads to keep snapshots of the identity's stream in memory.
    for (let index = 0; index < 40; index++) expectStatus(await t.admin.patch(`${path}/traits`, { traits: { visits: index, secret: `walrus-${index}` } }), 200);
    const positions = (await t.app.store.readStream(toIdentityStreamName(t.app.identityIds(s.environmentId, s.identifier)))).events.map((event) => event.globalPosition);
    expect(positions.length).toBeGreaterThan(40);
    for (const at of positions) expectStatus(await t.admin.get(`${path}?asOf=${at}`), 200);
    expectStatus(await t.client(s.orgKey).post(`${path}/erase`), 204);
    const answered = [];
    for (const at of positions) answered.push((await t.admin.get(`${path}?asOf=${at}`)).status);
    expect(new Set(answered)).toEqual(new Set([404]));
  }, 60_000);
});

describe('Identity ids of a data directory', () => {
  it('are keyed with a secret made at the first start of an empty directory, kept across restarts: the log names no identity by the unkeyed digest', async () => {
    let t = await startTestApp();
    try {
      const s = await setupOrganisation(t, 'Keyed');
      const recorded = readFileSync(join(t.dataDir, IDENTITY_IDS_FILE), 'utf8');
      expect(recorded).toMatch(/^hmac-sha256:[A-Za-z0-9+/]{43}=\n$/);
      const keyed = t.app.identityIds(s.environmentId, s.identifier);
      expect(keyed).toMatch(/^[0-9a-f]{32}$/);
      expect(keyed).not.toBe(identityIdFor(s.environmentId, s.identifier));
      expect((await t.app.store.readStream(toIdentityStreamName(keyed))).events.length).toBeGreaterThan(0);
      expect((await t.app.store.readStream(toIdentityStreamName(identityIdFor(s.environmentId, s.identifier)))).currentRevision).toBeNull();
      await t.stop();
      t = await startTestApp({ dataDir: t.dataDir });
      expect(readFileSync(join(t.dataDir, IDENTITY_IDS_FILE), 'utf8')).toBe(recorded);
      expect(t.app.identityIds(s.environmentId, s.identifier)).toBe(keyed);
      expectStatus(await t.admin.get(`${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`), 200);
    } finally {
      await t.dispose();
    }
  }, 60_000);
});
