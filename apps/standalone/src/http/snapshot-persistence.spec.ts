import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, obj, startTestApp, type ApiResponse, type Json, type TestApp } from '../testing/http-harness';

const positionOf = (response: ApiResponse): number => Number(response.headers.get('x-flagline-position'));

/** The snapshot archive's files that hold any of the texts. */
function snapshotFilesHolding(dataDir: string, text: string): string[] {
  const needle = Buffer.from(text, 'utf8');
  return ['snapshots.sqlite', 'snapshots.sqlite-wal']
    .map((name) => join(dataDir, name))
    .filter((path) => existsSync(path) && readFileSync(path).includes(needle));
}

/**
 * As-of reads keep stream snapshots in DATA_DIR/snapshots.sqlite: after a restart the first as-of
 * read of a long stream starts from a persisted snapshot instead of folding the stream from zero,
 * and answers what it answered before; erasing an identity leaves none of its snapshots in the file.
 */
describe('As-of snapshots across a restart', () => {
  let t: TestApp;
  let s: OrganisationSetup;
  const prefix = `quokka-${randomBytes(4).toString('hex')}-`;
  const points: { position: number; body: Json }[] = [];
  let identityPath: string;
  let featureStatePath: string;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'Snapshots');
    featureStatePath = `${ADMIN}/environments/${s.environmentId}/feature-states/${s.featureId}`;
    identityPath = `${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`;
    for (let change = 0; change < 300; change++) {
      expectStatus(await t.admin.patch(featureStatePath, { enabled: change % 3 === 0, value: `v${change}` }), 200);
      if (change % 25 === 24) {
        const read = await t.admin.get(featureStatePath);
        points.push({ position: positionOf(read), body: read.body });
      }
    }
    for (let change = 0; change < 280; change++) expectStatus(await t.admin.patch(`${identityPath}/traits`, { traits: { nickname: `${prefix}${change}` } }), 200);
    // An as-of read of the identity folds its stream, keeping snapshots of it on the way.
    const head = positionOf(await t.admin.get(identityPath));
    expect(obj(obj(expectStatus(await t.admin.get(`${identityPath}?asOf=${head}`), 200))['traits'])['nickname']).toBe(`${prefix}279`);
  }, 120_000);

  afterAll(async () => {
    await t.dispose();
  });

  it('reads a long stream as of any point after a restart from its persisted snapshots, answering the same', async () => {
    await t.stop();
    t = await startTestApp({ dataDir: t.dataDir });
    const history = t.app.admin.context.history;
    const project = await history.project(s.projectId, await t.app.store.headPosition());
    expect(project?.revision).toBeGreaterThan(300);
    const before = history.eventsFolded;
    // That read came from a persisted snapshot (one every 256 events of a stream): at most the events after it were folded.
    expect(before).toBeLessThan(256);
    for (const point of [...points].reverse()) {
      const folded = history.eventsFolded;
      const read = await t.admin.get(`${featureStatePath}?asOf=${point.position}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(point.body);
      // Each point folds its project stream from the snapshot before it, and the organisation's short stream.
      expect(history.eventsFolded - folded).toBeLessThan(256 + 32);
    }
  });

  it('leaves no snapshot of an erased identity in the file', async () => {
    // The search below is able to find the trait values: the file holds the identity's snapshots.
    await t.stop();
    expect(snapshotFilesHolding(t.dataDir, prefix)).not.toEqual([]);
    t = await startTestApp({ dataDir: t.dataDir });
    expectStatus(await t.client(s.orgKey).post(`${identityPath}/erase`), 204);
    expect(snapshotFilesHolding(t.dataDir, prefix)).toEqual([]);
    await t.stop();
    expect(snapshotFilesHolding(t.dataDir, prefix)).toEqual([]);
    t = await startTestApp({ dataDir: t.dataDir });
    expectStatus(await t.admin.get(identityPath), 404);
  });
});
