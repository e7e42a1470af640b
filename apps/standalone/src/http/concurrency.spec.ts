import { setupProject } from '../testing/fixtures';
import { ADMIN, listAll, expectStatus, num, obj, str, startTestApp, type ApiResponse, type TestApp } from '../testing/http-harness';

const statuses = (responses: readonly ApiResponse[]): number[] => responses.map((response) => response.status).sort((x, y) => x - y);

/** Concurrent requests on one project, as several clients would send them. */
describe('Concurrent admin requests over HTTP', () => {
  let t: TestApp;
  let projectId: number;
  let environmentId: number;

  beforeAll(async () => {
    t = await startTestApp();
    ({ projectId } = await setupProject(t.admin, 'Busy'));
    environmentId = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('when many features are created at once in one project, then every one succeeds with its own id and state', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: `parallel_${index}` })));
    expect(statuses(responses)).toEqual(Array.from({ length: 30 }, () => 201));
    const ids = responses.map((response) => num(response.body, 'id'));
    expect(new Set(ids).size).toBe(30);
    const states = (await listAll(t.admin, `${ADMIN}/environments/${environmentId}/feature-states`)).map((state) => num(state, 'featureId'));
    for (const id of ids) expect(states).toContain(id);
  });

  it('when the same feature name is created at once, then exactly one succeeds and the others clash', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, (_, index) => t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: index % 2 === 0 ? 'contested' : 'CONTESTED' })));
    expect(statuses(responses)).toEqual([201, ...Array.from({ length: 11 }, () => 409)]);
    expect(responses.filter((response) => response.status === 409).every((response) => obj(response.body)['code'] === 'FEATURE.NAME_TAKEN')).toBe(true);
    const features = (await listAll(t.admin, `${ADMIN}/projects/${projectId}/features?search=contested`));
    expect(features).toHaveLength(1);
  });

  it('when environments and features are created at once, then every environment has a state for every feature', async () => {
    const environments = Array.from({ length: 6 }, (_, index) => t.admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: `Parallel ${index}` }));
    const features = Array.from({ length: 6 }, (_, index) => t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: `mixed_${index}` }));
    const responses = await Promise.all([...environments, ...features]);
    expect(statuses(responses).every((status) => status === 201)).toBe(true);
    const allFeatures = (await listAll(t.admin, `${ADMIN}/projects/${projectId}/features`)).map((feature) => num(feature, 'id')).sort((x, y) => x - y);
    for (const environment of (await listAll(t.admin, `${ADMIN}/projects/${projectId}/environments`))) {
      const states = (await listAll(t.admin, `${ADMIN}/environments/${num(environment, 'id')}/feature-states`)).map((state) => num(state, 'featureId'));
      expect(states.sort((x, y) => x - y)).toEqual(allFeatures);
    }
  });

  it('when a create is retried at once with the same Idempotency-Key, then every answer names the one entity stored', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => t.admin.post(`${ADMIN}/projects/${projectId}/tags`, { label: 'once' }, { headers: { 'idempotency-key': 'parallel-tag' } })),
    );
    expect(statuses(responses)).toEqual(Array.from({ length: 8 }, () => 201));
    expect(new Set(responses.map((response) => num(response.body, 'id'))).size).toBe(1);
    const tags = (await listAll(t.admin, `${ADMIN}/projects/${projectId}/tags`)).filter((tag) => obj(tag)['label'] === 'once');
    expect(tags).toHaveLength(1);
  });

  it('when two organisations send the same Idempotency-Key on the same path, then each gets an entity of its own and nothing of the other', async () => {
    const keyOf = async (name: string): Promise<{ organisationId: number; key: string }> => {
      const organisationId = num(expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name }), 201), 'id');
      const key = str(expectStatus(await t.admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'ci', role: 'admin' }), 201), 'key');
      return { organisationId, key };
    };
    const first = await keyOf('Idempotent A');
    const second = await keyOf('Idempotent B');
    const create = (caller: { organisationId: number; key: string }, name: string): Promise<ApiResponse> =>
      t.client(caller.key).post(`${ADMIN}/projects`, { organisation: caller.organisationId, name }, { headers: { 'idempotency-key': 'shared-key' } });
    const a = obj(expectStatus(await create(first, 'Project of A'), 201));
    const b = obj(expectStatus(await create(second, 'Project of B'), 201));
    expect(b['id']).not.toBe(a['id']);
    expect(b).toMatchObject({ name: 'Project of B', organisationId: second.organisationId });
    // The first caller's retry is still answered with its own project.
    expect(obj(expectStatus(await create(first, 'Project of A'), 201))['id']).toBe(a['id']);
  });

  it('when one feature state is changed at once with the same If-Match, then exactly one change wins and the others get 412', async () => {
    const featureId = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'toggled' }), 201), 'id');
    const path = `${ADMIN}/environments/${environmentId}/feature-states/${featureId}`;
    const etag = (await t.admin.get(path)).etag ?? '';
    const responses = await Promise.all(Array.from({ length: 8 }, (_, index) => t.admin.patch(path, { value: `v${index}`, enabled: true }, { headers: { 'if-match': etag } })));
    expect(statuses(responses)).toEqual([200, ...Array.from({ length: 7 }, () => 412)]);
    const winner = responses.find((response) => response.status === 200);
    expect((await t.admin.get(path)).body).toEqual(winner?.body);
  });

  it('when the same identity is created at once, then exactly one succeeds', async () => {
    const responses = await Promise.all(Array.from({ length: 8 }, () => t.admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'racer' })));
    expect(statuses(responses)).toEqual([201, ...Array.from({ length: 7 }, () => 409)]);
  });
});
