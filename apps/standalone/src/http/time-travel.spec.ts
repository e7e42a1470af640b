import { setupOrganisation, SAMPLE_RULES, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, arr, errorFields, expectStatus, num, obj, results, startTestApp, str, type ApiClient, type ApiResponse, type Json, type JsonObject, type TestApp } from '../testing/http-harness';

const positionOf = (response: ApiResponse): number => {
  const header = response.headers.get('x-flagline-position');
  if (header === null || !/^\d+$/.test(header)) throw new Error(`X-Flagline-Position missing or malformed: ${String(header)}`);
  return Number(header);
};

/** A read now, with the position it reflects and the time just after it (before anything else is written). */
async function snapshot(client: ApiClient, path: string): Promise<{ body: Json; position: number; time: string }> {
  const response = await client.get(path);
  expect(response.status).toBe(200);
  const position = positionOf(response);
  await new Promise((resolve) => setTimeout(resolve, 3));
  const time = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 3));
  return { body: response.body, position, time };
}

const asOf = (path: string, point: number | string): string => `${path}${path.includes('?') ? '&' : '?'}asOf=${encodeURIComponent(String(point))}`;

/**
 * Every admin read of state answers as of a point of the log (`?asOf=` a position or a time)
 * exactly what it answered then, with the position in `X-Flagline-Position`; diffs list what
 * changed between two points with the events behind each change.
 */
describe('Time travel and diff over HTTP', () => {
  let t: TestApp;
  let admin: ApiClient;
  let acme: OrganisationSetup;
  let other: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.admin;
    acme = await setupOrganisation(t, 'Acme');
    other = await setupOrganisation(t, 'Other');
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('answers a feature state as of each point of its history, by position and by time, with the position in a header', async () => {
    const path = `${ADMIN}/environments/${acme.environmentId}/feature-states/${acme.featureId}`;
    const list = `${ADMIN}/environments/${acme.environmentId}/feature-states`;
    const points: { state: Json; list: Json; position: number; time: string }[] = [];
    for (const change of [{ enabled: true, value: 'v2' }, { enabled: false }, { value: 'v3' }, { enabled: true, value: 'v4' }]) {
      expectStatus(await admin.patch(path, change), 200);
      const state = await snapshot(admin, path);
      points.push({ state: state.body, list: (await admin.get(list)).body, position: state.position, time: state.time });
    }
    for (const point of points) {
      const byPosition = await admin.get(asOf(path, point.position));
      expect(byPosition.status).toBe(200);
      expect(byPosition.body).toEqual(point.state);
      expect(positionOf(byPosition)).toBe(point.position);
      const byTime = await admin.get(asOf(path, point.time));
      expect(byTime.body).toEqual(point.state);
      expect(positionOf(byTime)).toBe(point.position);
      expect((await admin.get(asOf(list, point.position))).body).toEqual(point.list);
    }
    expect(points.map((point) => obj(point.state)['value'])).toEqual(['v2', 'v2', 'v3', 'v4']);
  });

  it('reads a deleted feature, segment and environment as of before their deletion, and 404 after and now', async () => {
    const project = `${ADMIN}/projects/${acme.projectId}`;
    const featureId = num(expectStatus(await admin.post(`${project}/features`, { name: 'short_lived', initialValue: 'x' }), 201), 'id');
    const segmentId = num(expectStatus(await admin.post(`${project}/segments`, { name: 'short lived', rules: SAMPLE_RULES }), 201), 'id');
    const environment = obj(expectStatus(await admin.post(`${project}/environments`, { name: 'Preview' }), 201));
    const environmentId = num(environment, 'id');
    const reads = [`${project}/features/${featureId}`, `${project}/segments/${segmentId}`, `${ADMIN}/environments/${environmentId}`, `${ADMIN}/environments/${str(environment, 'apiKey')}`];
    const before = await Promise.all(reads.map((read) => snapshot(admin, read)));
    expect((await admin.delete(`${project}/features/${featureId}`)).status).toBe(204);
    expect((await admin.delete(`${project}/segments/${segmentId}`)).status).toBe(204);
    expect((await admin.delete(`${ADMIN}/environments/${environmentId}`)).status).toBe(204);
    const after = positionOf(await admin.get(project));
    for (const [index, read] of reads.entries()) {
      const point = before[index];
      if (!point) throw new Error('missing point');
      expect((await admin.get(read)).status).toBe(404);
      const then = await admin.get(asOf(read, point.position));
      expect(then.status).toBe(200);
      expect(then.body).toEqual(point.body);
      expect((await admin.get(asOf(read, point.time))).body).toEqual(point.body);
      expect((await admin.get(asOf(read, after))).status).toBe(404);
    }
    // The list of features as of before the deletion holds it.
    const features = results(expectStatus(await admin.get(asOf(`${project}/features?pageSize=500`, before[0]?.position ?? 0)), 200));
    expect(features.map((feature) => feature['id'])).toContain(featureId);
  });

  it('answers the segment override order as of a point before a reordering', async () => {
    const project = `${ADMIN}/projects/${acme.projectId}`;
    const environment = `${ADMIN}/environments/${acme.environmentId}`;
    const second = num(expectStatus(await admin.post(`${project}/segments`, { name: 'second', rules: SAMPLE_RULES }), 201), 'id');
    expectStatus(await admin.post(`${environment}/segment-overrides`, { feature: acme.featureId, segment: second, enabled: false, value: 'second' }), 201);
    const overrides = `${environment}/segment-overrides?feature=${acme.featureId}`;
    const order = (body: Json): [number, number][] => results(body).map((override) => [num(override, 'segmentId'), num(override, 'priority')]);
    const before = await snapshot(admin, overrides);
    expect(order(before.body)).toEqual([
      [acme.segmentId, 0],
      [second, 1],
    ]);
    expectStatus(await admin.put(`${environment}/features/${acme.featureId}/segment-override-order`, { segmentIds: [second, acme.segmentId] }), 200);
    expect(order((await admin.get(overrides)).body)).toEqual([
      [second, 0],
      [acme.segmentId, 1],
    ]);
    expect((await admin.get(asOf(overrides, before.position))).body).toEqual(before.body);
    expect((await admin.get(asOf(overrides, before.time))).body).toEqual(before.body);
  });

  it('answers an identity’s traits as of a point, and a deleted identity as of before its deletion', async () => {
    const identity = `${ADMIN}/environments/${acme.environmentId}/identities/${encodeURIComponent(acme.identifier)}`;
    const before = await snapshot(admin, identity);
    expectStatus(await admin.patch(`${identity}/traits`, { traits: { plan: 'free', age: null } }), 200);
    const middle = await snapshot(admin, identity);
    expect(obj(obj(middle.body)['traits'])).toEqual({ plan: 'free', beta: true });
    expect((await admin.delete(identity)).status).toBe(204);
    expect((await admin.get(identity)).status).toBe(404);
    expect((await admin.get(asOf(identity, before.position))).body).toEqual(before.body);
    expect((await admin.get(asOf(identity, middle.time))).body).toEqual(middle.body);
    expect(obj(obj((await admin.get(asOf(identity, before.time))).body)['traits'])).toEqual({ plan: 'pro', age: 42, beta: true });
  });

  it('lists an identity deleted after a point as of the point (paged and searched), not as of after its deletion; an erased one at no point', async () => {
    const identities = `${ADMIN}/environments/${acme.environmentId}/identities`;
    const listed = async (path: string): Promise<string[]> => results(expectStatus(await admin.get(path), 200)).map((identity) => str(identity, 'identifier'));
    /** Every identifier of a search as of a point, one per page (none empty), following the cursors. */
    const paged = async (point: number | string): Promise<string[]> => {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const cursor: string = after === null ? '' : `&after=${encodeURIComponent(after)}`;
        const body = obj(expectStatus(await admin.get(asOf(`${identities}?search=TT-&pageSize=1${cursor}`, point)), 200));
        const page = arr(body['results']).map((identity) => str(identity, 'identifier'));
        expect(page).toHaveLength(1);
        seen.push(...page);
        const next = body['next'];
        after = typeof next === 'string' ? next : null;
      } while (after !== null);
      return seen;
    };
    for (const identifier of ['tt-keep', 'tt-gone', 'tt-erased']) {
      expectStatus(await admin.post(identities, { identifier, traits: { plan: identifier } }), 201);
    }
    const all = await snapshot(admin, `${identities}?search=tt-`);
    expect(results(all.body).map((identity) => str(identity, 'identifier'))).toEqual(['tt-erased', 'tt-gone', 'tt-keep']);
    // Created and deleted after the point: a tombstone the read as of the point skips (not an empty page).
    expectStatus(await admin.post(identities, { identifier: 'tt-brief' }), 201);
    expect((await admin.delete(`${identities}/tt-brief`)).status).toBe(204);
    expect((await admin.delete(`${identities}/tt-gone`)).status).toBe(204);
    const deleted = await snapshot(admin, `${identities}?search=tt-`);
    expectStatus(await admin.post(identities, { identifier: 'tt-later' }), 201);
    expectStatus(await admin.post(`${identities}/tt-erased/erase`), 204);

    // Now, and as of the deletion: the deleted identity is not listed.
    expect(await listed(`${identities}?search=tt-`)).toEqual(['tt-keep', 'tt-later']);
    expect(await listed(asOf(`${identities}?search=tt-`, deleted.position))).toEqual(['tt-keep']);
    // As of before it, by position and by time: listed as it was then; the erased identity is not.
    const before = results(expectStatus(await admin.get(asOf(`${identities}?search=tt-`, all.position)), 200));
    expect(before).toEqual(results(all.body).filter((identity) => identity['identifier'] !== 'tt-erased'));
    expect(await listed(asOf(`${identities}?search=tt-`, all.time))).toEqual(['tt-gone', 'tt-keep']);
    expect(await paged(all.position)).toEqual(['tt-gone', 'tt-keep']);
    expect(await paged(deleted.time)).toEqual(['tt-keep']);
    // The erased identifier is in no list at any point.
    for (const point of [all.position, deleted.position]) expect(await listed(asOf(`${identities}?search=erased`, point))).toEqual([]);
  });

  it('answers the organisation, project and tags as they were, and the organisation list as of a point', async () => {
    const organisation = `${ADMIN}/organisations/${acme.organisationId}`;
    const project = `${ADMIN}/projects/${acme.projectId}`;
    const before = await Promise.all([organisation, project, `${project}/tags`, `${ADMIN}/projects?organisation=${acme.organisationId}`].map((read) => snapshot(admin, read)));
    expectStatus(await admin.patch(organisation, { name: 'Acme Renamed' }), 200);
    expectStatus(await admin.patch(project, { name: 'Renamed project' }), 200);
    expectStatus(await admin.patch(`${project}/tags/${acme.tagId}`, { label: 'frontend' }), 200);
    for (const [index, read] of [organisation, project, `${project}/tags`, `${ADMIN}/projects?organisation=${acme.organisationId}`].entries()) {
      const point = before[index];
      if (!point) throw new Error('missing point');
      expect((await admin.get(read)).body).not.toEqual(point.body);
      expect((await admin.get(asOf(read, point.position))).body).toEqual(point.body);
    }
    const organisations = results(expectStatus(await admin.get(asOf(`${ADMIN}/organisations`, before[0]?.position ?? 0)), 200));
    expect(organisations.find((found) => found['id'] === acme.organisationId)?.['name']).toBe('Acme');
  });

  it('refuses a bad asOf with a 400 naming it, and writes nothing', async () => {
    const read = `${ADMIN}/projects/${acme.projectId}/features`;
    const head = await t.app.store.headPosition();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    for (const bad of ['0', '-1', 'yesterday', '2026-01-01', String(head + 1_000), future, '1970-01-01T00:00:00Z']) {
      const response = await admin.get(asOf(read, bad));
      expect(response.status).toBe(400);
      expect(errorFields(response.body)).toEqual(['asOf']);
    }
    // A repeated asOf names no one point: refused, not answered as now.
    for (const repeated of [`${read}?asOf=1&asOf=2`, `${read}?asOf=1&asOf=1`]) {
      const response = await admin.get(repeated);
      expect(response.status).toBe(400);
      expect(errorFields(response.body)).toEqual(['asOf']);
    }
    expect(await t.app.store.headPosition()).toBe(head);
  });

  it('answers another organisation’s data as not found, as of any point, to its keys', async () => {
    const position = positionOf(await admin.get(`${ADMIN}/projects/${acme.projectId}`));
    const outsider = t.client(other.orgKey);
    for (const read of [
      `${ADMIN}/projects/${acme.projectId}`,
      `${ADMIN}/projects/${acme.projectId}/features/${acme.featureId}`,
      `${ADMIN}/environments/${acme.environmentId}/feature-states`,
      `${ADMIN}/environments/${acme.environmentKey}`,
      `${ADMIN}/organisations/${acme.organisationId}`,
      `${ADMIN}/projects/${acme.projectId}/diff?from=1&to=${position}`,
      `${ADMIN}/environments/${acme.environmentId}/diff?from=1&to=${position}`,
    ]) {
      expect((await outsider.get(asOf(read, position))).status).toBe(404);
    }
    // Its own data it reads as of the same point.
    expect((await outsider.get(asOf(`${ADMIN}/projects/${other.projectId}`, position))).status).toBe(200);
  });

  describe('diff', () => {
    it('lists what changed in a project between two points, each change with the events, actors and times behind it', async () => {
      const project = `${ADMIN}/projects/${acme.projectId}`;
      const environment = `${ADMIN}/environments/${acme.environmentId}`;
      const from = positionOf(await admin.get(project));
      const added = num(expectStatus(await admin.post(`${project}/features`, { name: 'diffed', initialValue: 'a' }), 201), 'id');
      expectStatus(await admin.patch(`${project}/features/${added}`, { name: 'diffed_renamed' }), 200);
      expectStatus(await admin.patch(`${environment}/feature-states/${added}`, { enabled: true, value: 'b' }), 200);
      const issued = str(expectStatus(await admin.post(`${environment}/api-keys`, { name: 'diff key' }), 201), 'id');
      expectStatus(await admin.patch(environment, { allowClientTraits: false }), 200);
      const to = positionOf(await admin.get(project));

      const diff = obj(expectStatus(await admin.get(`${project}/diff?from=${from}&to=${to}`), 200));
      expect(obj(diff['from'])['position']).toBe(from);
      expect(obj(diff['to'])['position']).toBe(to);
      const changes = arr(diff['changes']).map(obj);
      const find = (kind: string, id: string, field: string): JsonObject | undefined =>
        changes.find((change) => obj(change['entity'])['kind'] === kind && obj(change['entity'])['id'] === id && change['field'] === field);
      const types = (change: JsonObject | undefined): Json[] => arr(change?.['events']).map((event) => obj(event)['type'] ?? null);

      const feature = find('feature', String(added), 'entity');
      expect(feature).toMatchObject({ before: null, after: { name: 'diffed_renamed' } });
      expect(types(feature)).toEqual(['FeatureCreated', 'FeatureRenamed']);
      const state = find('featureState', `${acme.environmentId}:${added}`, 'entity');
      expect(state).toMatchObject({ before: null, after: { enabled: true, value: 'b' } });
      expect(types(state)).toEqual(['FeatureCreated', 'FeatureStateChanged']);
      const key = find('serverKey', `${acme.environmentId}:${issued}`, 'entity');
      expect(key).toMatchObject({ before: null, after: { id: issued, name: 'diff key', revokedAt: null } });
      expect(types(key)).toEqual(['ServerKeyIssued']);
      const setting = find('environment', String(acme.environmentId), 'allowClientTraits');
      expect(setting).toMatchObject({ before: true, after: false });
      const event = obj(arr(setting?.['events'])[0]);
      expect(event).toMatchObject({ actor: { kind: 'user', name: 'admin@flagline.local' } });
      expect(num(event, 'position')).toBeGreaterThan(from);
      expect(num(event, 'position')).toBeLessThanOrEqual(to);
      expect(typeof event['occurredAt']).toBe('string');

      // The other environment saw the feature added but nothing of Production's.
      const staging = arr(obj(expectStatus(await admin.get(`${ADMIN}/environments/${acme.secondEnvironmentId}/diff?from=${from}&to=${to}`), 200))['changes']).map(obj);
      expect(staging.map((change) => obj(change['entity'])['kind'])).toEqual(['featureState']);

      // A change and its undoing between the two points leave nothing to report.
      const before = positionOf(await admin.get(project));
      expectStatus(await admin.patch(`${environment}/feature-states/${added}`, { enabled: false }), 200);
      expectStatus(await admin.patch(`${environment}/feature-states/${added}`, { enabled: true }), 200);
      const undone = obj(expectStatus(await admin.get(`${environment}/diff?from=${before}&to=${positionOf(await admin.get(project))}`), 200));
      expect(undone['changes']).toEqual([]);
    });

    it('lists a revoked key, a reordering and a value change in an environment between two times', async () => {
      const project = `${ADMIN}/projects/${acme.projectId}`;
      const environment = `${ADMIN}/environments/${acme.environmentId}`;
      const from = (await snapshot(admin, project)).time;
      expect((await admin.delete(`${environment}/api-keys/${acme.serverKeyId}`)).status).toBe(204);
      const overrides = results((await admin.get(`${environment}/segment-overrides?feature=${acme.featureId}`)).body).map((override) => num(override, 'segmentId'));
      expectStatus(await admin.put(`${environment}/features/${acme.featureId}/segment-override-order`, { segmentIds: [...overrides].reverse() }), 200);
      expectStatus(await admin.patch(`${environment}/segment-overrides/${acme.featureId}/${acme.segmentId}`, { value: 'segment-2' }), 200);
      const to = (await snapshot(admin, project)).time;

      const changes = arr(obj(expectStatus(await admin.get(`${environment}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`), 200))['changes']).map(obj);
      const summary = changes.map((change) => [obj(change['entity'])['kind'], change['field'], change['before'], change['after']]);
      expect(summary).toContainEqual(['serverKey', 'revokedAt', null, expect.any(String)]);
      expect(summary).toContainEqual(['segmentOverrideOrder', 'order', overrides, [...overrides].reverse()]);
      expect(summary).toContainEqual(['segmentOverride', 'value', 'segment', 'segment-2']);
      expect(changes.find((change) => change['field'] === 'order')?.['events']).toEqual([expect.objectContaining({ type: 'SegmentOverridesReordered' })]);
    });

    it('diffs an environment by id or client key where it exists at either end: created, then deleted since, and 404 when it exists at neither', async () => {
      const project = `${ADMIN}/projects/${acme.projectId}`;
      const before = positionOf(await admin.get(project));
      const created = obj(expectStatus(await admin.post(`${project}/environments`, { name: 'Short lived' }), 201));
      const references = [String(num(created, 'id')), str(created, 'apiKey')];
      const alive = positionOf(await admin.get(project));
      expect((await admin.delete(`${ADMIN}/environments/${references[0] ?? ''}`)).status).toBe(204);
      const after = positionOf(await admin.get(project));
      const kinds = (body: Json): [unknown, unknown][] =>
        arr(obj(body)['changes'])
          .map(obj)
          .filter((change) => obj(change['entity'])['kind'] === 'environment')
          .map((change) => [change['before'] === null ? null : 'before', change['after'] === null ? null : 'after']);
      for (const reference of references) {
        const diff = `${ADMIN}/environments/${reference}/diff`;
        expect(kinds(expectStatus(await admin.get(`${diff}?from=${before}&to=${alive}`), 200))).toEqual([[null, 'after']]);
        expect(kinds(expectStatus(await admin.get(`${diff}?from=${alive}&to=${after}`), 200))).toEqual([['before', null]]);
        // Created after from and deleted before to: it exists at neither end.
        expect((await admin.get(`${diff}?from=${before}&to=${after}`)).status).toBe(404);
        expect((await t.client(other.orgKey).get(`${diff}?from=${before}&to=${alive}`)).status).toBe(404);
      }
    });

    it('lists a segment’s rules and a multivariate allocation changed, each with its event', async () => {
      const project = `${ADMIN}/projects/${acme.projectId}`;
      const environment = `${ADMIN}/environments/${acme.environmentId}`;
      const from = positionOf(await admin.get(project));
      const rules = [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'enterprise' }] }];
      expectStatus(await admin.patch(`${project}/segments/${acme.segmentId}`, { rules }), 200);
      const allocations = [{ optionId: acme.optionId, percentage: 55 }];
      expectStatus(await admin.patch(`${environment}/feature-states/${acme.mvFeatureId}`, { multivariateAllocations: allocations }), 200);
      const to = positionOf(await admin.get(project));

      const changes = arr(obj(expectStatus(await admin.get(`${project}/diff?from=${from}&to=${to}`), 200))['changes']).map(obj);
      const segment = changes.find((change) => obj(change['entity'])['kind'] === 'segment' && change['field'] === 'rules');
      expect(segment).toMatchObject({ entity: { id: String(acme.segmentId), name: 'power users' }, after: rules });
      expect(arr(segment?.['events']).map((event) => obj(event)['type'])).toEqual(['SegmentRuleChanged']);
      const allocation = changes.find((change) => obj(change['entity'])['kind'] === 'featureState' && change['field'] === 'multivariateAllocations');
      expect(allocation).toMatchObject({ entity: { id: `${acme.environmentId}:${acme.mvFeatureId}` }, after: allocations });
      expect(arr(allocation?.['before'])).not.toEqual(allocations);
      expect(arr(allocation?.['events']).map((event) => obj(event)['type'])).toEqual(['FeatureStateChanged']);
      expect(changes).toHaveLength(2);
    });

    it('refuses a malformed, reversed or out-of-log range with a 400 naming each bad end, and reads absent ends as the whole log', async () => {
      const diff = `${ADMIN}/projects/${acme.projectId}/diff`;
      const head = await t.app.store.headPosition();
      // Absent ends are before the log (position 0, no time) and the head: the whole history of the project.
      const whole = obj(expectStatus(await admin.get(diff), 200));
      expect([obj(whole['from'])['position'], obj(whole['from'])['time'], obj(whole['to'])['position']]).toEqual([0, null, head]);
      expect(arr(whole['changes']).map((change) => obj(obj(change)['entity'])['kind'])).toContain('project');
      expect(errorFields(expectStatus(await admin.get(`${diff}?from=abc&to=${head + 5}`), 400))).toEqual(['from', 'to']);
      expect(errorFields(expectStatus(await admin.get(`${diff}?from=5&to=3`), 400))).toEqual(['from']);
      expect((await admin.get(`${ADMIN}/projects/999999/diff?from=1&to=2`)).status).toBe(404);
    });
  });
});
