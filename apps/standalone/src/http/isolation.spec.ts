import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { identityPath as identity, placeholders, ROUTES, type Route } from '../testing/routes';
import { ADMIN, arr, expectStatus, num, obj, results, startTestApp, type ApiClient, type Json, type TestApp } from '../testing/http-harness';

/**
 * Isolation between organisations, route by route: with organisation A's data and organisation
 * B's keys (B's organisation key, and the key of a user who belongs to B only), every route on
 * A's resources answers 404 (403 where only the instance administrator may act at all), and
 * nothing is written.
 */
describe('Isolation between organisations over HTTP', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'Alpha');
    b = await setupOrganisation(t, 'Bravo');
  });

  afterAll(async () => {
    await t.dispose();
  });

  const label = (route: Route): string => `${route.method} ${route.path(placeholders)}`;
  const cases = ROUTES.map((route) => [label(route), route] as const);

  const call = (client: ApiClient, route: Route, owner: OrganisationSetup, other: OrganisationSetup) => {
    const body = route.body?.(owner, other);
    return withoutWrites(t, () => client.request(route.method, `${ADMIN}${route.path(owner)}`, body !== undefined ? { body } : {}));
  };

  describe.each([
    ['B’s organisation key', (s: OrganisationSetup) => s.orgKey],
    ['the key of a user only in B', (s: OrganisationSetup) => s.userKey],
  ])('given %s', (_who, keyOf) => {
    it.each(cases)('when it calls %s on A’s resources, then A’s data stays hidden and unchanged', async (_route, route) => {
      const { response, written } = await call(t.client(keyOf(b)), route, a, b);
      expect(response.status).toBe(route.foreignStatus ?? 404);
      expect(obj(response.body)['statusCode']).toBe(response.status);
      expect(JSON.stringify(response.body)).not.toContain(a.identifier);
      expect(written).toBe(0);
    });
  });

  describe('given A’s own keys (the same routes are real)', () => {
    it.each(cases.filter(([, route]) => route.method === 'GET'))('when A’s organisation key reads %s, then it succeeds', async (_route, route) => {
      const key = route.path(a).startsWith('/users/') ? a.userKey : a.orgKey;
      const { response } = await call(t.client(key), route, a, b);
      expect(response.status).toBe(200);
    });
  });

  describe('given lists', () => {
    const idsOf = (body: Json): number[] => arr(body).map((entry) => num(entry, 'id'));

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
      const bMembers = arr(expectStatus(await t.client(b.orgKey).get(`${ADMIN}/organisations/${b.organisationId}/members`), 200)).map((member) => num(member, 'userId'));
      expect(bMembers).toContain(b.userId);
      expect(bMembers).not.toContain(a.userId);
      const aMembers = arr(expectStatus(await t.client(a.orgKey).get(`${ADMIN}/organisations/${a.organisationId}/members`), 200)).map((member) => num(member, 'userId'));
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
        const states = arr(expectStatus(await client.get(`${ADMIN}/environments/${mine.environmentId}/feature-states`), 200)).map((state) => num(state, 'featureId'));
        expect(states).toEqual(expect.arrayContaining([mine.featureId, mine.mvFeatureId]));
        expect(states).not.toContain(theirs.featureId);
        const overrides = arr(expectStatus(await client.get(`${ADMIN}/environments/${mine.environmentId}/segment-overrides`), 200)).map((override) => num(override, 'segmentId'));
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
