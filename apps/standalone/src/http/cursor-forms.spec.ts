import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, errorFields, expectStatus, listAll, obj, results, str, startTestApp, type JsonObject, type TestApp } from '../testing/http-harness';

/** Collections keyed by a generated id: a cursor is one of those ids, anything else a 400. */
const ROUTES = (s: OrganisationSetup): [string, string][] => [
  ['user keys', `/users/${s.userId}/api-keys`],
  ['organisation keys', `/organisations/${s.organisationId}/api-keys`],
  ['server keys', `/environments/${s.environmentId}/api-keys`],
  ['invitations', `/organisations/${s.organisationId}/invitations`],
  ['my invitations', '/users/me/invitations'],
];

describe('cursors of collections keyed by generated ids', () => {
  let t: TestApp;
  let s: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'cursors');
    for (const name of ['two', 'three']) {
      expectStatus(await t.admin.post(`${ADMIN}/users/${s.userId}/api-keys`, { name }), 201);
      expectStatus(await t.admin.post(`${ADMIN}/organisations/${s.organisationId}/api-keys`, { name, role: 'member' }), 201);
      expectStatus(await t.admin.post(`${ADMIN}/environments/${s.environmentId}/api-keys`, { name }), 201);
      expectStatus(await t.admin.post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: `${name}@example.com`, role: 'member' }), 201);
    }
  });

  afterAll(() => t.dispose());

  it.each(['garbage!!', 'zz', 'key_short', '00000000-0000-4000-8000-00000000000Z', 'key_AAAAAAAAAAAA0'])(
    'when ?after=%s is no id such a collection returns, then every such route answers 400 naming after',
    async (cursor) => {
      for (const [, path] of ROUTES(s)) {
        const response = await t.admin.get(`${ADMIN}${path}?after=${encodeURIComponent(cursor)}`);
        expect({ path, status: response.status, fields: errorFields(response.body) }).toEqual({ path, status: 400, fields: ['after'] });
      }
    },
  );

  it('when the pages are walked one item at a time, then each next cursor is accepted and every item comes once', async () => {
    for (const [what, path] of ROUTES(s).filter(([what]) => what !== 'my invitations')) {
      const everything = await listAll(t.admin, `${ADMIN}${path}`);
      const seen: JsonObject[] = [];
      let next: string | null = null;
      do {
        const page: JsonObject = obj(expectStatus(await t.admin.get(`${ADMIN}${path}?pageSize=1${next === null ? '' : `&after=${encodeURIComponent(next)}`}`), 200));
        seen.push(...results(page));
        next = page['next'] === null ? null : str(page, 'next');
      } while (next !== null);
      expect({ what, ids: seen.map((item) => str(item, 'id')) }).toEqual({ what, ids: everything.map((item) => str(item, 'id')) });
      expect(seen.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('when the OpenAPI document describes those cursors, then it gives their form', async () => {
    const document = obj(expectStatus(await t.admin.get('/openapi.json'), 200));
    const operation = obj(obj(obj(document['paths'])[`${ADMIN}/organisations/{organisationId}/invitations`])['get']);
    const parameters = operation['parameters'] as JsonObject[];
    const after = parameters.find((parameter) => parameter['name'] === 'after');
    expect(obj(after?.['schema'])['pattern']).toMatch(/^\^\[0-9a-f\]\{8\}/);
  });
});
