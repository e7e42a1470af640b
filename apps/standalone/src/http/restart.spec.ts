import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, num, obj, results, startTestApp, tempDataDir, type ApiClient, type Json, type TestApp } from '../testing/http-harness';

interface Answer {
  readonly status: number;
  readonly etag: string | null;
  readonly body: Json;
}

/** Reads that must answer the same before and after a restart. */
const READS = (s: OrganisationSetup): string[] => [
  '/users/me',
  `/users/${s.userId}`,
  '/organisations',
  `/organisations/${s.organisationId}`,
  `/organisations/${s.organisationId}/members`,
  `/organisations/${s.organisationId}/api-keys`,
  `/organisations/${s.organisationId}/history?pageSize=500`,
  `/projects?organisation=${s.organisationId}`,
  `/projects/${s.projectId}`,
  `/projects/${s.projectId}/history?pageSize=500`,
  `/projects/${s.projectId}/tags`,
  `/projects/${s.projectId}/tags/${s.tagId}`,
  `/projects/${s.projectId}/features`,
  `/projects/${s.projectId}/features/${s.featureId}`,
  `/projects/${s.projectId}/features/${s.mvFeatureId}`,
  `/projects/${s.projectId}/features/${s.mvFeatureId}/history`,
  `/projects/${s.projectId}/segments`,
  `/projects/${s.projectId}/segments/${s.segmentId}`,
  `/projects/${s.projectId}/environments`,
  `/environments/${s.environmentId}`,
  `/environments/${s.environmentKey}`,
  `/environments/${s.environmentId}/api-keys`,
  `/environments/${s.environmentId}/feature-states`,
  `/environments/${s.environmentId}/feature-states/${s.mvFeatureId}`,
  `/environments/${s.environmentId}/segment-overrides`,
  `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}`,
  `/environments/${s.environmentId}/history`,
  `/environments/${s.environmentId}/identities`,
  `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`,
  `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/history`,
];

async function answers(client: ApiClient, paths: readonly string[]): Promise<Map<string, Answer>> {
  const out = new Map<string, Answer>();
  for (const path of paths) {
    const response = await client.get(`${ADMIN}${path}`);
    out.set(path, { status: response.status, etag: response.etag, body: response.body });
  }
  return out;
}

/** Every numeric `id` anywhere in the answers. */
function idsIn(value: Json, found: number[] = []): number[] {
  if (Array.isArray(value)) for (const item of value) idsIn(item, found);
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) {
      if (key === 'id' && typeof item === 'number') found.push(item);
      else idsIn(item, found);
    }
  return found;
}

/**
 * The standalone app restarted on the same data directory: the read side is rebuilt from the
 * event log, so every answer (body and ETag) is the same, keys keep working, and new writes
 * continue after the old ones.
 */
describe('Restarting the standalone app on the same data directory', () => {
  let dataDir: string;
  let first: TestApp;
  let second: TestApp;
  let s: OrganisationSetup;
  let before: Map<string, Answer>;
  let headBefore: number;
  let featureEtag: string | null;
  let retriedFeature: Answer;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-restart-');
    first = await startTestApp({ dataDir });
    s = await setupOrganisation(first, 'Durable');
    const admin = first.admin;
    // More state of every kind: allocations, reordered overrides, a clone, trait removals, an archived feature.
    const secondSegment = num(expectStatus(await admin.post(`${ADMIN}/projects/${s.projectId}/segments`, { name: 'second', rules: [{ type: 'ALL', conditions: [{ property: 'x', operator: 'IS_SET' }] }] }), 201), 'id');
    expectStatus(await admin.post(`${ADMIN}/environments/${s.environmentId}/segment-overrides`, { feature: s.featureId, segment: secondSegment, enabled: false, value: 'second' }), 201);
    expectStatus(await admin.put(`${ADMIN}/environments/${s.environmentId}/features/${s.featureId}/segment-override-order`, { segmentIds: [secondSegment, s.segmentId] }), 200);
    expectStatus(await admin.patch(`${ADMIN}/environments/${s.environmentId}/feature-states/${s.mvFeatureId}`, { enabled: true, multivariateAllocations: [{ optionId: s.optionId, percentage: 45.5 }] }), 200);
    expectStatus(await admin.post(`${ADMIN}/environments/${s.environmentId}/clone`, { name: 'Copy' }), 201);
    expectStatus(await admin.patch(`${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, { traits: { age: null, score: 9.5 } }), 200);
    expectStatus(await admin.put(`${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.mvFeatureId}`, { enabled: false, value: 'own' }), 200);
    expectStatus(await admin.patch(`${ADMIN}/projects/${s.projectId}/features/${s.mvFeatureId}`, { isArchived: true }), 200);
    const retried = await admin.post(`${ADMIN}/projects/${s.projectId}/features`, { name: 'sent_twice' }, { headers: { 'idempotency-key': 'across-restart' } });
    retriedFeature = { status: retried.status, etag: retried.etag, body: retried.body };
    featureEtag = (await admin.get(`${ADMIN}/projects/${s.projectId}/features/${s.featureId}`)).etag;
    before = await answers(admin, READS(s));
    headBefore = await first.app.store.headPosition();
    await first.stop();
    second = await startTestApp({ dataDir });
  });

  afterAll(async () => {
    await first.stop();
    await second.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when restarted, then the generated admin key is read back from the data directory', async () => {
    expect(second.adminKey).toBe(first.adminKey);
    expect((await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim()).toBe(first.adminKey);
    expect((await second.admin.get(`${ADMIN}/users/me`)).status).toBe(200);
  });

  it('when restarted, then the event log holds what it held', async () => {
    expect(await second.app.store.headPosition()).toBe(headBefore);
  });

  it('when restarted, then every read gives the same body and ETag', async () => {
    const after = await answers(second.admin, READS(s));
    for (const [path, answer] of before) {
      expect({ path, ...after.get(path) }).toEqual({ path, ...answer });
    }
    expect([...before.values()].every((answer) => answer.status === 200)).toBe(true);
  });

  it('when restarted, then organisation, user and server-side keys are still valid', async () => {
    expect((await second.client(s.orgKey).get(`${ADMIN}/projects/${s.projectId}`)).status).toBe(200);
    expect((await second.client(s.userKey).get(`${ADMIN}/users/me`)).body).toMatchObject({ id: s.userId });
    expect((await second.client(s.memberOrgKey).delete(`${ADMIN}/projects/${s.projectId}`)).status).toBe(403);
  });

  it('when an ETag read before the restart is sent as If-Match, then the write succeeds', async () => {
    const changed = await second.admin.patch(`${ADMIN}/projects/${s.projectId}/features/${s.featureId}`, { description: 'after restart' }, { headers: { 'if-match': featureEtag ?? '' } });
    expect(changed.status).toBe(200);
    expect(changed.etag).not.toBe(featureEtag);
  });

  it('when a request sent before the restart is retried with its Idempotency-Key, then its first answer is repeated and nothing is written', async () => {
    const head = await second.app.store.headPosition();
    const again = await second.admin.post(`${ADMIN}/projects/${s.projectId}/features`, { name: 'sent_twice' }, { headers: { 'idempotency-key': 'across-restart' } });
    expect({ status: again.status, etag: again.etag, body: again.body }).toEqual(retriedFeature);
    expect(await second.app.store.headPosition()).toBe(head);
  });

  it('when new entities are created after the restart, then their ids are new and larger than every earlier id', async () => {
    const earlier = Math.max(...[...before.values()].flatMap((answer) => idsIn(answer.body)));
    const admin = second.admin;
    const organisationId = num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name: 'After' }), 201), 'id');
    const featureId = num(expectStatus(await admin.post(`${ADMIN}/projects/${s.projectId}/features`, { name: 'after_restart', multivariateOptions: [{ value: 'x' }] }), 201), 'id');
    const environment = obj(expectStatus(await admin.post(`${ADMIN}/projects/${s.projectId}/environments`, { name: 'After' }), 201));
    const segmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${s.projectId}/segments`, { name: 'after', rules: [] }), 201), 'id');
    const created = [organisationId, featureId, num(environment, 'id'), segmentId];
    expect(new Set(created).size).toBe(created.length);
    for (const id of created) expect(id).toBeGreaterThan(earlier);
    const states = obj(expectStatus(await admin.get(`${ADMIN}/environments/${num(environment, 'id')}/feature-states/${featureId}`), 200));
    expect(num(states, 'featureStateId')).toBeGreaterThan(earlier);
  });

  it('when the history is read after new writes, then it continues in order from before the restart', async () => {
    const history = results(expectStatus(await second.admin.get(`${ADMIN}/projects/${s.projectId}/history?pageSize=500`), 200));
    const positions = history.map((entry) => num(entry, 'position'));
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    const old = results(before.get(`/projects/${s.projectId}/history?pageSize=500`)?.body ?? null);
    expect(history.slice(0, old.length)).toEqual(old);
    expect(history.length).toBeGreaterThan(old.length);
    expect(Math.min(...positions.slice(old.length))).toBeGreaterThan(headBefore);
  });

  it('when restarted a second time, then the writes made after the first restart are there too', async () => {
    const path = `${ADMIN}/projects/${s.projectId}/features`;
    const listed = (await second.admin.get(path)).body;
    await second.stop();
    const third = await startTestApp({ dataDir });
    try {
      expect((await third.admin.get(path)).body).toEqual(listed);
    } finally {
      await third.stop();
    }
  });
});
