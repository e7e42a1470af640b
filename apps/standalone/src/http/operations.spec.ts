import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, obj, startTestApp, str, type JsonObject, type Method, type TestApp } from '../testing/http-harness';
import { GLOBAL_OPERATIONS, placeholders, ROUTES, templateOf } from '../testing/routes';

describe('Operations endpoints and API description over HTTP', () => {
  let t: TestApp;
  let document: JsonObject;

  beforeAll(async () => {
    t = await startTestApp();
    document = obj((await t.admin.get('/openapi.json', { key: null })).body);
  });

  afterAll(async () => {
    await t.dispose();
  });

  /** The admin operations of the document (the SDK and OFREP routes beside them are checked in openapi-contract.spec.ts). */
  const documentedOperations = (): string[] =>
    Object.entries(obj(document['paths']))
      .filter(([path]) => !path.startsWith('/api/v1/') && !path.startsWith('/ofrep/v1/'))
      .flatMap(([path, operations]) => Object.keys(obj(operations)).map((method) => `${method.toUpperCase()} ${path}`));

  describe('given no key', () => {
    it('when /health is read, then it answers ok with the projection positions', async () => {
      const response = await t.admin.get('/health', { key: null });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok', mode: 'standalone', position: expect.any(Number), projected: expect.any(Number) });
    });

    it('when /openapi.json is read, then it is an OpenAPI 3 JSON document of the admin API', async () => {
      const response = await t.admin.get('/openapi.json', { key: null });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(JSON.parse(response.text)).toEqual(document);
      expect(str(document, 'openapi')).toMatch(/^3\./);
      expect(obj(document['info'])['title']).toBe('Flagline admin API');
      expect(obj(obj(document['components'])['securitySchemes'])['api-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    });

    it('when /openapi.json is read, then it lists the admin routes, all under /admin/v1', () => {
      const operations = documentedOperations();
      expect(operations).toEqual(
        expect.arrayContaining([
          'POST /admin/v1/organisations',
          'GET /admin/v1/projects/{projectId}/features',
          'POST /admin/v1/projects/{projectId}/segments',
          'POST /admin/v1/environments/{environment}/clone',
          'PUT /admin/v1/environments/{environment}/features/{featureId}/segment-override-order',
          'PATCH /admin/v1/environments/{environment}/identities/{identifier}/traits',
          'GET /admin/v1/projects/{projectId}/history',
        ]),
      );
      expect(operations.every((operation) => operation.split(' ')[1]?.startsWith(`${ADMIN}/`))).toBe(true);
    });

    it('when the documented routes are compared with the isolation table, then each route is covered by it or is global', () => {
      const covered = new Set([...ROUTES.map((route) => templateOf(route.method, route.path(placeholders))), ...GLOBAL_OPERATIONS]);
      expect(documentedOperations().filter((operation) => !covered.has(operation))).toEqual([]);
      expect([...covered].filter((operation) => !documentedOperations().includes(operation))).toEqual([]);
    });

    it('when /docs is read, then it is an HTML page', async () => {
      const response = await t.admin.get('/docs', { key: null });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      expect(response.text).toMatch(/<html/i);
      expect(response.text.toLowerCase()).toContain('swagger');
    });

    it('when any documented admin route is called, then 401 and nothing is written', async () => {
      const failures: string[] = [];
      for (const operation of documentedOperations()) {
        const [method, template] = operation.split(' ') as [Method, string];
        const path = template.replace(/\{identifier\}/g, 'someone').replace(/\{environment\}/g, '1').replace(/\{keyId\}/g, 'key_x').replace(/\{\w+\}/g, '1');
        const { response, written } = await withoutWrites(t, () => t.client(null).request(method, path, method === 'GET' || method === 'DELETE' ? {} : { body: {} }));
        if (response.status !== 401 || written !== 0) failures.push(`${operation}: ${response.status}, wrote ${written}`);
      }
      expect(failures).toEqual([]);
    });
  });

  describe('given single entities', () => {
    let s: OrganisationSetup;

    beforeAll(async () => {
      s = await setupOrganisation(t, 'Tags');
    });

    it.each([
      ['user', (x: OrganisationSetup) => `/users/${x.userId}`],
      ['organisation', (x: OrganisationSetup) => `/organisations/${x.organisationId}`],
      ['project', (x: OrganisationSetup) => `/projects/${x.projectId}`],
      ['tag', (x: OrganisationSetup) => `/projects/${x.projectId}/tags/${x.tagId}`],
      ['feature', (x: OrganisationSetup) => `/projects/${x.projectId}/features/${x.featureId}`],
      ['segment', (x: OrganisationSetup) => `/projects/${x.projectId}/segments/${x.segmentId}`],
      ['environment by id', (x: OrganisationSetup) => `/environments/${x.environmentId}`],
      ['environment by client key', (x: OrganisationSetup) => `/environments/${x.environmentKey}`],
      ['feature state', (x: OrganisationSetup) => `/environments/${x.environmentId}/feature-states/${x.featureId}`],
      ['segment override', (x: OrganisationSetup) => `/environments/${x.environmentId}/segment-overrides/${x.featureId}/${x.segmentId}`],
      ['identity', (x: OrganisationSetup) => `/environments/${x.environmentId}/identities/${encodeURIComponent(x.identifier)}`],
    ])('when a %s is read, then the answer has an ETag with its revision', async (_what, path) => {
      const response = await t.admin.get(`${ADMIN}${path(s)}`);
      expect(response.status).toBe(200);
      expect(response.etag).toMatch(/^"\d+"$/);
    });

    it('when an environment is read by id and by client key, then both answers and ETags are the same', async () => {
      const byId = await t.admin.get(`${ADMIN}/environments/${s.environmentId}`);
      const byKey = await t.admin.get(`${ADMIN}/environments/${s.environmentKey}`);
      expect(byKey.body).toEqual(byId.body);
      expect(byKey.etag).toBe(byId.etag);
    });

    it('when If-Match is given as a weak ETag or a bare number, then it is accepted', async () => {
      const path = `${ADMIN}/projects/${s.projectId}/tags/${s.tagId}`;
      const first = await t.admin.get(path);
      const revision = (first.etag ?? '').replace(/"/g, '');
      const weak = await t.admin.patch(path, { description: 'weak' }, { headers: { 'if-match': `W/"${revision}"` } });
      expect(weak.status).toBe(200);
      const bare = await t.admin.patch(path, { description: 'bare' }, { headers: { 'if-match': (weak.etag ?? '').replace(/"/g, '') } });
      expect(bare.status).toBe(200);
      const star = await t.admin.patch(path, { description: 'any' }, { headers: { 'if-match': '*' } });
      expect(star.status).toBe(200);
    });
  });
});
