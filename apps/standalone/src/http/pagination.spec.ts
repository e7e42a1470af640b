import { setupProject } from '../testing/fixtures';
import { ADMIN, errorFields, expectStatus, listAll, num, obj, results, startTestApp, str, type JsonObject, type TestApp } from '../testing/http-harness';

/** One page of a collection route: its items and its cursor. */
async function page(t: TestApp, path: string): Promise<{ items: JsonObject[]; next: string | null }> {
  const body = obj(expectStatus(await t.admin.get(path), 200));
  const next = body['next'];
  if (next !== null && typeof next !== 'string') throw new Error(`cursor ${JSON.stringify(next)} is not a string`);
  return { items: results(body), next };
}

describe('Collections over HTTP: one page shape, cursor pagination', () => {
  let t: TestApp;
  let projectId: number;
  let environmentId: number;
  const featureIds: number[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    ({ projectId } = await setupProject(t.admin, 'Pages'));
    environmentId = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
    for (const name of ['one', 'two', 'three', 'four', 'five'])
      featureIds.push(num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name }), 201), 'id'));
  });

  afterAll(async () => {
    await t.dispose();
  });

  describe('given five features', () => {
    it('when read two at a time, then the pages hold 2, 2 and 1 features in id order, and the last page has no next', async () => {
      const sizes: number[] = [];
      const seen: number[] = [];
      let after: string | null = null;
      do {
        const current: { items: JsonObject[]; next: string | null } = await page(t, `${ADMIN}/projects/${projectId}/features?pageSize=2${after === null ? '' : `&after=${after}`}`);
        sizes.push(current.items.length);
        seen.push(...current.items.map((feature) => num(feature, 'id')));
        after = current.next;
      } while (after !== null);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(featureIds);
    });

    it('when read without pageSize, then one page holds them all and next is null', async () => {
      const whole = await page(t, `${ADMIN}/projects/${projectId}/features`);
      expect(whole.items.map((feature) => num(feature, 'id'))).toEqual(featureIds);
      expect(whole.next).toBeNull();
    });

    it('when a feature is created and one already read is deleted between two pages, then the next page neither repeats nor skips one', async () => {
      const first = await page(t, `${ADMIN}/projects/${projectId}/features?pageSize=2`);
      expect(first.items.map((feature) => num(feature, 'id'))).toEqual(featureIds.slice(0, 2));
      const added = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'six' }), 201), 'id');
      expect((await t.admin.delete(`${ADMIN}/projects/${projectId}/features/${featureIds[0]}`)).status).toBe(204);
      expect(first.next).toBe(String(featureIds[1]));
      const second = await page(t, `${ADMIN}/projects/${projectId}/features?pageSize=2&after=${first.next}`);
      const third = await page(t, `${ADMIN}/projects/${projectId}/features?pageSize=2&after=${second.next}`);
      expect([...second.items, ...third.items].map((feature) => num(feature, 'id'))).toEqual([...featureIds.slice(2), added]);
      expect(third.next).toBeNull();
    });
  });

  describe('given bad paging parameters', () => {
    it.each([
      ['a cursor that is not one', '?after=nope', ['after']],
      ['a negative cursor', '?after=-1', ['after']],
      ['a page size of 0', '?pageSize=0', ['pageSize']],
      ['a page size past 500', '?pageSize=501', ['pageSize']],
      ['a page size that is not a number', '?pageSize=ten', ['pageSize']],
      ['both bad', '?after=x.y&pageSize=0', ['after', 'pageSize']],
      ['a repeated cursor', '?after=1&after=2', ['after']],
    ])('when features are listed with %s, then it is a 400 naming it', async (_title, query, fields) => {
      const response = await t.admin.get(`${ADMIN}/projects/${projectId}/features${query}`);
      expect(response.status).toBe(400);
      expect(obj(response.body)).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(errorFields(response.body).sort()).toEqual(fields);
    });

    it('when segment overrides are listed after a one-part cursor, then it is a 400 naming after (their cursor is feature.priority)', async () => {
      const response = await t.admin.get(`${ADMIN}/environments/${environmentId}/segment-overrides?after=5`);
      expect(response.status).toBe(400);
      expect(errorFields(response.body)).toEqual(['after']);
    });

    it('when history is read after a bad cursor, then it is a 400 naming after', async () => {
      const response = await t.admin.get(`${ADMIN}/projects/${projectId}/history?after=abc`);
      expect(response.status).toBe(400);
      expect(errorFields(response.body)).toEqual(['after']);
    });
  });

  describe('given segment overrides of two features', () => {
    it('when read one at a time, then they come by feature, then by priority, each once', async () => {
      const segments: number[] = [];
      for (const name of ['first', 'second'])
        segments.push(num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/segments`, { name, rules: [] }), 201), 'id'));
      const [, , third, fourth] = featureIds as [number, number, number, number, number];
      for (const feature of [fourth, third])
        for (const segment of segments) expectStatus(await t.admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature, segment, enabled: true }), 201);
      const listed = await listAll(t.admin, `${ADMIN}/environments/${environmentId}/segment-overrides`, 1);
      expect(listed.map((override) => [num(override, 'featureId'), num(override, 'priority'), num(override, 'segmentId')])).toEqual([
        [third, 0, segments[0]],
        [third, 1, segments[1]],
        [fourth, 0, segments[0]],
        [fourth, 1, segments[1]],
      ]);
    });
  });

  describe('given identities', () => {
    it('when read two at a time, then they come in identifier order and the cursor is the last identifier', async () => {
      for (const identifier of ['carol', 'alice', 'bob']) expectStatus(await t.admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier }), 201);
      const first = await page(t, `${ADMIN}/environments/${environmentId}/identities?pageSize=2`);
      expect(first.items.map((identity) => str(identity, 'identifier'))).toEqual(['alice', 'bob']);
      expect(first.next).toBe('bob');
      const second = await page(t, `${ADMIN}/environments/${environmentId}/identities?pageSize=2&after=bob`);
      expect(second.items.map((identity) => str(identity, 'identifier'))).toEqual(['carol']);
      expect(second.next).toBeNull();
    });
  });
});
