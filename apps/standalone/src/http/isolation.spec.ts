import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { readHistory } from '../testing/history';
import { planProbes, type Probe, type ProbePlan } from '../testing/openapi-probe';
import { identityPath as identity } from '../testing/routes';
import { ADMIN, arr, listAll, expectStatus, num, obj, results, startTestApp, type ApiClient, type Json, type TestApp, str, type JsonObject } from '../testing/http-harness';

/**
 * Isolation between organisations, route by route: with organisation A's data and organisation
 * B's keys (B's organisation key, and the key of a user who belongs to B only), every admin route
 * the app's OpenAPI document lists answers 404 on A's resources (never 200, 403 or 409, which
 * would tell that they exist), and nothing is written. The routes are read from /openapi.json
 * when the tests run, so a route added later is probed too.
 */
describe('Isolation between organisations over HTTP', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;

  let document: JsonObject;
  let plan: ProbePlan;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'Alpha');
    b = await setupOrganisation(t, 'Bravo');
    document = obj(expectStatus(await t.admin.get('/openapi.json', { key: null }), 200));
    plan = planProbes(document);
  });

  afterAll(async () => {
    await t.dispose();
  });

  const call = async (client: ApiClient, probe: Probe, owner: OrganisationSetup, other: OrganisationSetup) => {
    const send = (body: unknown) => withoutWrites(t, () => client.request(probe.method, `${ADMIN}${probe.path(owner)}`, body !== undefined ? { body } : {}));
    const first = await send(probe.body?.(owner, other));
    return first.response.status === 400 && probe.fullBody ? send(probe.fullBody()) : first;
  };
  const describeProbe = (probe: Probe, owner: OrganisationSetup): string => `${probe.method} ${probe.path(owner)} (${probe.source})`;

  describe('given the OpenAPI document', () => {
    it('when it is planned, then every admin operation is probed or addresses no organisation', () => {
      expect(plan.unaddressable).toEqual([]);
      const operations = Object.entries(obj(document['paths']))
        .filter(([path]) => path.startsWith(`${ADMIN}/`))
        .flatMap(([path, item]) => Object.keys(obj(item)).map((method) => `${method.toUpperCase()} ${path}`));
      const probed = new Set(plan.probes.map((probe) => probe.operation));
      expect(operations.filter((operation) => !probed.has(operation) && !plan.global.includes(operation))).toEqual([]);
      expect(plan.probes.filter((probe) => probe.source === 'openapi').length).toBeGreaterThanOrEqual(operations.length - plan.global.length - 2);
    });
  });

  describe.each([
    ['B’s organisation key', (s: OrganisationSetup) => s.orgKey],
    ['the key of a user only in B', (s: OrganisationSetup) => s.userKey],
  ])('given %s', (_who, keyOf) => {
    it('when it calls every admin route on A’s resources, then each answers 404, shows none of A’s data and writes nothing', async () => {
      const failures: string[] = [];
      const historyBefore = (await readHistory(t.client(a.orgKey), `/organisations/${a.organisationId}/history`, 500)).length;
      for (const probe of plan.probes) {
        const { response, written } = await call(t.client(keyOf(b)), probe, a, b);
        const body = JSON.stringify(response.body);
        const problems = [
          ...(response.status !== 404 ? [`answered ${response.status}`] : []),
          ...(response.status === 404 && obj(response.body)['statusCode'] !== 404 ? ['an error body without statusCode 404'] : []),
          ...(body.includes(a.identifier) || body.includes('Alpha') ? ['showed A’s data'] : []),
          ...(written !== 0 ? [`wrote ${written} event(s)`] : []),
        ];
        if (problems.length > 0) failures.push(`${describeProbe(probe, a)}: ${problems.join(', ')}: ${response.text.slice(0, 300)}`);
      }
      expect(failures).toEqual([]);
      expect((await readHistory(t.client(a.orgKey), `/organisations/${a.organisationId}/history`, 500)).length).toBe(historyBefore);
    });
  });

  describe('given only the OpenAPI document, as for a route nobody added to the table', () => {
    it('when B’s user key calls every admin route with parameters filled by name and bodies made from the schemas, then each answers 404 and writes nothing', async () => {
      const documentOnly = planProbes(document, []);
      expect(documentOnly.probes.every((probe) => probe.source === 'openapi')).toBe(true);
      const failures: string[] = [];
      for (const probe of documentOnly.probes) {
        const { response, written } = await call(t.client(b.userKey), probe, a, b);
        if (response.status !== 404 || written !== 0) failures.push(`${describeProbe(probe, a)}: ${response.status}, wrote ${written}: ${response.text.slice(0, 300)}`);
      }
      expect(failures).toEqual([]);
    });
  });

  describe('given A’s own keys (the same routes are real)', () => {
    it('when A reads every probed GET route, then each succeeds', async () => {
      const failures: string[] = [];
      for (const probe of plan.probes.filter((candidate) => candidate.method === 'GET')) {
        const key = probe.path(a).startsWith('/users/') ? a.userKey : a.orgKey;
        const { response } = await call(t.client(key), probe, a, b);
        if (response.status !== 200) failures.push(`${describeProbe(probe, a)}: ${response.status} ${response.text.slice(0, 300)}`);
      }
      expect(failures).toEqual([]);
    });

    it('when A’s invitee accepts the invitation the probes used, then it succeeds (its id was real)', async () => {
      const inviteeId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email: 'alpha-invitee@example.com', name: 'Invitee' }), 201), 'id');
      const key = str(expectStatus(await t.admin.post(`${ADMIN}/users/${inviteeId}/api-keys`, { name: 'k' }), 201), 'key');
      expect(obj(expectStatus(await t.client(key).post(`${ADMIN}/invitations/${a.invitationId}/accept`), 200))['status']).toBe('accepted');
    });
  });

  describe('given lists', () => {
    const idsOf = (body: Json): number[] => results(body).map((entry) => num(entry, 'id'));

    it('when B lists its organisations, then only B is there', async () => {
      for (const key of [b.orgKey, b.userKey]) {
        expect(idsOf(expectStatus(await t.client(key).get(`${ADMIN}/organisations`), 200))).toEqual([b.organisationId]);
      }
    });

    it('when B lists projects without a filter, then only B’s are there', async () => {
      for (const key of [b.orgKey, b.userKey]) {
        expect(idsOf(expectStatus(await t.client(key).get(`${ADMIN}/projects`), 200))).toEqual([b.projectId]);
      }
    });

    it('when A lists projects without a filter, then only A’s are there', async () => {
      for (const key of [a.orgKey, a.userKey]) {
        expect(idsOf(expectStatus(await t.client(key).get(`${ADMIN}/projects`), 200))).toEqual([a.projectId]);
      }
    });

    it('when B’s user reads themselves, then only B is among their organisations', async () => {
      const me = obj(expectStatus(await t.client(b.userKey).get(`${ADMIN}/users/me`), 200));
      expect(arr(me['organisations']).map((organisation) => num(organisation, 'id'))).toEqual([b.organisationId]);
    });

    it('when each lists its members, then the other’s user is not there', async () => {
      const bMembers = (await listAll(t.client(b.orgKey), `${ADMIN}/organisations/${b.organisationId}/members`)).map((member) => num(member, 'userId'));
      expect(bMembers).toContain(b.userId);
      expect(bMembers).not.toContain(a.userId);
      const aMembers = (await listAll(t.client(a.orgKey), `${ADMIN}/organisations/${a.organisationId}/members`)).map((member) => num(member, 'userId'));
      expect(aMembers).not.toContain(b.userId);
    });

    it.each([
      ['features', (s: OrganisationSetup) => `/projects/${s.projectId}/features`, (s: OrganisationSetup) => [s.featureId, s.mvFeatureId]],
      ['segments', (s: OrganisationSetup) => `/projects/${s.projectId}/segments`, (s: OrganisationSetup) => [s.segmentId]],
      ['environments', (s: OrganisationSetup) => `/projects/${s.projectId}/environments`, (s: OrganisationSetup) => [s.environmentId, s.secondEnvironmentId]],
      ['tags', (s: OrganisationSetup) => `/projects/${s.projectId}/tags`, (s: OrganisationSetup) => [s.tagId]],
    ])('when each lists its %s, then it sees its own and none of the other’s', async (_what, path, ids) => {
      for (const [mine, theirs] of [
        [a, b],
        [b, a],
      ] as const) {
        const listed = idsOf(expectStatus(await t.client(mine.orgKey).get(`${ADMIN}${path(mine)}`), 200));
        expect(listed).toEqual(expect.arrayContaining(ids(mine)));
        for (const id of ids(theirs)) expect(listed).not.toContain(id);
      }
    });

    it('when each lists feature states, overrides and identities, then only its own features and identities are there', async () => {
      for (const [mine, theirs] of [
        [a, b],
        [b, a],
      ] as const) {
        const client = t.client(mine.userKey);
        const states = (await listAll(client, `${ADMIN}/environments/${mine.environmentId}/feature-states`)).map((state) => num(state, 'featureId'));
        expect(states).toEqual(expect.arrayContaining([mine.featureId, mine.mvFeatureId]));
        expect(states).not.toContain(theirs.featureId);
        const overrides = (await listAll(client, `${ADMIN}/environments/${mine.environmentId}/segment-overrides`)).map((override) => num(override, 'segmentId'));
        expect(overrides).toEqual([mine.segmentId]);
        const identities = results(expectStatus(await client.get(`${ADMIN}/environments/${mine.environmentId}/identities`), 200)).map((entry) => entry['identifier']);
        expect(identities).toEqual([mine.identifier]);
      }
    });

    it('when each reads its project history, then no event of the other’s project is in it', async () => {
      for (const [mine, theirs] of [
        [a, b],
        [b, a],
      ] as const) {
        const history = results(expectStatus(await t.client(mine.orgKey).get(`${ADMIN}/projects/${mine.projectId}/history?pageSize=500`), 200));
        expect(history.length).toBeGreaterThan(0);
        expect(history.every((entry) => obj(entry['data'])['projectId'] === mine.projectId)).toBe(true);
        expect(JSON.stringify(history)).not.toContain(`"projectId":${theirs.projectId},`);
      }
    });
  });

  describe('given A’s deleted resources', () => {
    it('when B reads the history of A’s deleted environment, then 404', async () => {
      const doomed = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${a.projectId}/environments`, { name: 'Doomed' }), 201), 'id');
      expect((await t.admin.delete(`${ADMIN}/environments/${doomed}`)).status).toBe(204);
      expect((await t.client(a.orgKey).get(`${ADMIN}/environments/${doomed}/history`)).status).toBe(200);
      for (const key of [b.orgKey, b.userKey]) expect((await t.client(key).get(`${ADMIN}/environments/${doomed}/history`)).status).toBe(404);
    });
  });

  describe('given references across organisations in request bodies', () => {
    it.each([
      ['a segment override on A’s feature in B’s environment', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides`, () => ({ feature: a.featureId, segment: b.segmentId }), 'FEATURE.NOT_IN_PROJECT'],
      ['a segment override with A’s segment in B’s environment', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides`, () => ({ feature: b.mvFeatureId, segment: a.segmentId }), 'SEGMENT.NOT_IN_PROJECT'],
      ['a B feature tagged with A’s tag', (s: OrganisationSetup) => `/projects/${s.projectId}/features`, () => ({ name: 'cross', tags: [a.tagId] }), 'TAG.NOT_IN_PROJECT'],
    ])('when B asks for %s, then 409 and nothing is written', async (_what, path, body, code) => {
      const { response, written } = await withoutWrites(t, () => t.client(b.orgKey).post(`${ADMIN}${path(b)}`, body()));
      expect(response.status).toBe(409);
      expect(obj(response.body)['code']).toBe(code);
      expect(written).toBe(0);
    });

    it('when B sets an identity override on A’s feature, then 409 and nothing is written', async () => {
      const { response, written } = await withoutWrites(t, () => t.client(b.userKey).put(`${ADMIN}${identity(b)}/overrides/${a.featureId}`, { enabled: true }));
      expect(response.status).toBe(409);
      expect(written).toBe(0);
    });

    it('when B reorders overrides of A’s feature in B’s environment, then 404 and nothing is written', async () => {
      const { response, written } = await withoutWrites(t, () =>
        t.client(b.orgKey).put(`${ADMIN}/environments/${b.environmentId}/features/${a.featureId}/segment-override-order`, { segmentIds: [] }),
      );
      expect(response.status).toBe(404);
      expect(written).toBe(0);
    });
  });
});
