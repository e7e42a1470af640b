import { connect } from 'node:net';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, ApiClient, obj, startTestApp, str, type ApiResponse, type JsonObject, type Method, type TestApp } from '../testing/http-harness';
import { ContractChecker } from '../testing/openapi';
import { ROUTES } from '../testing/routes';

type Schema = { [key: string]: unknown };
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every operation of the document as [method, path template, operation]. */
function operationsOf(document: JsonObject): [string, string, JsonObject][] {
  return Object.entries(obj(document['paths'])).flatMap(([path, item]) => Object.entries(obj(item)).map(([method, operation]): [string, string, JsonObject] => [method.toUpperCase(), path, obj(operation)]));
}

function schemaOf(response: unknown): unknown {
  if (!isSchema(response) || !isSchema(response['content'])) return undefined;
  // JSON, or the media type a route streams instead (NDJSON, CSV).
  const content = response['content'];
  const media = content['application/json'] ?? Object.values(content).find((entry) => isSchema(entry) && entry['schema'] !== undefined);
  return isSchema(media) ? media['schema'] : undefined;
}

/** Paths of schemas typed `object` with nothing said of what they hold. */
function bareObjects(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => bareObjects(item, `${path}/${index}`));
  if (!isSchema(value)) return [];
  const own = value['type'] === 'object' && value['properties'] === undefined && value['additionalProperties'] === undefined ? [path] : [];
  return [...own, ...Object.entries(value).flatMap(([key, inner]) => bareObjects(inner, `${path}/${key}`))];
}

/** Sends a request as raw bytes (fetch refuses malformed headers) and returns the status and the body text. */
function rawRequest(baseUrl: string, request: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.from(request, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, text: answer.slice(answer.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('The OpenAPI document', () => {
  let t: TestApp;
  let document: JsonObject;
  let checker: ContractChecker;
  let s: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    document = obj((await t.admin.get('/openapi.json', { key: null })).body);
    checker = new ContractChecker(document);
    s = await setupOrganisation(t, 'Contract');
  });

  afterAll(async () => {
    await t.dispose();
  });

  const schemas = (): Schema => obj(obj(document['components'])['schemas']);

  describe('when every operation is read', () => {
    it('then each declares a success answer, with a schema unless it has no body', () => {
      const missing = operationsOf(document).flatMap(([method, path, operation]) => {
        const responses = obj(operation['responses']);
        const successes = Object.keys(responses).filter((status) => /^2\d\d$/.test(status));
        if (successes.length === 0) return [`${method} ${path}: no 2xx`];
        return successes.filter((status) => status !== '204' && schemaOf(responses[status]) === undefined && !(path === '/api/v1/analytics/flags/')).map((status) => `${method} ${path} ${status}: no schema`);
      });
      expect(missing).toEqual([]);
    });

    it('then each declares its error answers with a schema, the admin ones with the shared error shape', () => {
      const problems = operationsOf(document).flatMap(([method, path, operation]) => {
        const responses = obj(operation['responses']);
        const errors = Object.keys(responses).filter((status) => /^4\d\d$/.test(status));
        const expected = path.startsWith('/admin/v1/') ? ['400', '401', '403', '404'] : ['400', '401', '403'];
        const absent = expected.filter((status) => !errors.includes(status)).map((status) => `${method} ${path}: no ${status}`);
        const unshaped = errors
          .filter((status) => schemaOf(responses[status]) === undefined)
          .map((status) => `${method} ${path} ${status}: no schema`);
        const notShared = path.startsWith('/admin/v1/')
          ? errors.filter((status) => JSON.stringify(schemaOf(responses[status])) !== JSON.stringify({ $ref: '#/components/schemas/ApiErrorView' })).map((status) => `${method} ${path} ${status}: not ApiErrorView`)
          : [];
        return [...absent, ...unshaped, ...notShared];
      });
      expect(problems).toEqual([]);
    });

    it('then writes declare 409 (a POST marked x-flagline-read-only writes nothing), writes with a body 413, and routes that honour If-Match declare 412 and the header', () => {
      const problems = operationsOf(document)
        .filter(([, path]) => path.startsWith('/admin/v1/'))
        .flatMap(([method, path, operation]) => {
          const responses = Object.keys(obj(operation['responses']));
          const parameters = Array.isArray(operation['parameters']) ? operation['parameters'].map((parameter) => obj(parameter)['name']) : [];
          return [
            ...(method !== 'GET' && operation['x-flagline-read-only'] !== true && !responses.includes('409') ? [`${method} ${path}: no 409`] : []),
            ...(operation['requestBody'] !== undefined && !responses.includes('413') ? [`${method} ${path}: no 413`] : []),
            ...(parameters.includes('If-Match') !== responses.includes('412') ? [`${method} ${path}: If-Match and 412 disagree`] : []),
          ];
        });
      expect(problems).toEqual([]);
    });

    it('then every collection answers one page of {results, next} with ?after= and ?pageSize=', () => {
      const lists = operationsOf(document).filter(([method, path]) => method === 'GET' && path.startsWith('/admin/v1/') && !path.endsWith('/analytics/flags') && /s$|history$/.test(path));
      expect(lists.length).toBeGreaterThanOrEqual(20);
      const problems = lists.flatMap(([method, path, operation]) => {
        const schema = obj(schemaOf(obj(operation['responses'])['200']) as JsonObject);
        const parameters = Array.isArray(operation['parameters']) ? operation['parameters'].map((parameter) => obj(parameter)['name']) : [];
        return [
          ...(JSON.stringify(schema['required']) === JSON.stringify(['results', 'next']) ? [] : [`${method} ${path}: not a page`]),
          ...(['after', 'pageSize'].every((name) => parameters.includes(name)) ? [] : [`${method} ${path}: no after/pageSize`]),
        ];
      });
      expect(problems).toEqual([]);
    });
  });

  describe('when property types are read', () => {
    it('then no schema is a bare object where a value is meant', () => {
      expect(bareObjects(document, '')).toEqual([]);
    });

    it('then an environment’s hideDisabledFlags is a nullable boolean and a multivariate option’s key a nullable string', () => {
      for (const name of ['CreateEnvironmentDto', 'ChangeEnvironmentDto', 'EnvironmentView'])
        expect(obj(obj(obj(schemas()[name] as JsonObject)['properties'])['hideDisabledFlags'])).toMatchObject({ type: 'boolean', nullable: true });
      for (const name of ['MultivariateOptionDto', 'ChangeMultivariateOptionDto', 'MultivariateOptionView'])
        expect(obj(obj(obj(schemas()[name] as JsonObject)['properties'])['key'])).toMatchObject({ type: 'string', nullable: true });
    });

    it('then ids are integers', () => {
      expect(obj(obj(obj(schemas()['CreateProjectDto'] as JsonObject)['properties'])['organisation'])['type']).toBe('integer');
      expect(obj(obj(obj(schemas()['FeatureView'] as JsonObject)['properties'])['id'])['type']).toBe('integer');
      expect(obj(obj(obj(schemas()['AllocationDto'] as JsonObject)['properties'])['optionId'])['type']).toBe('integer');
      const parameters = operationsOf(document).flatMap(([method, path, operation]) =>
        (Array.isArray(operation['parameters']) ? operation['parameters'] : []).map((parameter) => ({ at: `${method} ${path} ${str(parameter, 'name')}`, schema: obj(obj(parameter)['schema']) })),
      );
      expect(parameters.filter(({ schema }) => schema['type'] === undefined && schema['$ref'] === undefined).map(({ at }) => at)).toEqual([]);
      expect(parameters.filter(({ schema }) => schema['type'] === 'number').map(({ at }) => at)).toEqual([]);
      expect(parameters.find(({ at }) => at === 'GET /admin/v1/projects/{projectId}/features/{featureId} featureId')?.schema).toEqual({ type: 'integer', minimum: 1 });
    });
  });

  describe('when request bodies and paging parameters are read', () => {
    const parameter = (method: string, template: string, name: string): JsonObject => {
      const found = operationsOf(document).find(([m, path]) => m === method && path === template);
      const parameters = found && Array.isArray(found[2]['parameters']) ? found[2]['parameters'].map(obj) : [];
      return obj(obj(parameters.find((candidate) => candidate['name'] === name))['schema']);
    };

    it('then bodies refuse fields they do not declare, and PATCH bodies must name one', () => {
      const problems = operationsOf(document)
        .filter(([, path, operation]) => path.startsWith('/admin/v1/') && operation['requestBody'] !== undefined)
        .flatMap(([method, path, operation]) => {
          const reference = str(schemaOf(obj(operation['requestBody'])) as JsonObject, '$ref');
          const schema = obj(schemas()[reference.replace('#/components/schemas/', '')] as JsonObject);
          return [
            ...(schema['additionalProperties'] === false ? [] : [`${method} ${path}: extra fields allowed`]),
            ...(method === 'PATCH' && schema['minProperties'] !== 1 ? [`${method} ${path}: an empty PATCH allowed`] : []),
          ];
        });
      expect(problems).toEqual([]);
    });

    it('then each cursor is described in the form its route reads, and a real one fits it', async () => {
      const byId = parameter('GET', '/admin/v1/projects/{projectId}/features', 'after');
      expect(byId).toEqual({ type: 'string', pattern: '^[0-9]{1,15}$' });
      expect(new RegExp(str(parameter('GET', '/admin/v1/environments/{environment}/segment-overrides', 'after'), 'pattern')).test('7.0')).toBe(true);
      expect(parameter('GET', '/admin/v1/environments/{environment}/identities', 'after')).toMatchObject({ type: 'string', minLength: 1 });
      expect(new RegExp(str(parameter('PATCH', '/admin/v1/projects/{projectId}', 'If-Match'), 'pattern')).test('W/"12"')).toBe(true);
      const page = obj((await t.admin.get(`${ADMIN}/projects/${s.projectId}/features?pageSize=1`)).body);
      expect(str(page, 'next')).toMatch(new RegExp(str(byId, 'pattern')));
    });
  });

  describe('when the SDK and OFREP routes are read', () => {
    it('then they are in the document with their own security schemes, apart from the admin key', () => {
      const security = obj(obj(document['components'])['securitySchemes']);
      expect(security['api-key']).toMatchObject({ type: 'apiKey', name: 'Authorization' });
      expect(security['environment-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Environment-Key' });
      expect(security['ofrep-api-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
      expect(security['ofrep-bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
      const sdk = operationsOf(document).filter(([, path]) => !path.startsWith('/admin/v1/'));
      expect(sdk.map(([method, path]) => `${method} ${path}`).sort()).toEqual(
        [
          'GET /api/v1/flags/',
          'GET /api/v1/identities/',
          'POST /api/v1/identities/',
          'GET /api/v1/environment-document/',
          'POST /api/v1/analytics/flags/',
          'POST /ofrep/v1/evaluate/flags/{key}',
          'POST /ofrep/v1/evaluate/flags',
          'GET /ofrep/v1/configuration',
        ].sort(),
      );
      for (const [, path, operation] of sdk) {
        const schemes = (Array.isArray(operation['security']) ? operation['security'] : []).flatMap((requirement) => Object.keys(obj(requirement)));
        expect(schemes).not.toContain('api-key');
        expect(schemes).toContain(path.startsWith('/ofrep/') ? 'ofrep-api-key' : 'environment-key');
      }
    });
  });

  describe('when the API is walked', () => {
    const problemsOf = (method: Method, path: string, response: ApiResponse): string[] => checker.problems(method, path, response.status, response.body, response.text);

    it('then every admin route answers as declared, reads, writes and deletes alike', async () => {
      const problems: string[] = [];
      const refused: string[] = [];
      const order: Method[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
      // An erasure destroys the identity the later routes address: walked last, with the deletions.
      const rank = (route: (typeof ROUTES)[number]): number => (route.path(s).endsWith('/erase') ? order.length : order.indexOf(route.method));
      const routes = [...ROUTES].sort((a, b) => rank(a) - rank(b));
      for (const route of routes) {
        const path = `${ADMIN}${route.path(s)}`;
        const response = await t.admin.request(route.method, path, route.body ? { body: route.body(s, s) } : {});
        if (response.status >= 300) refused.push(`${route.method} ${path}: ${response.status}`);
        problems.push(...problemsOf(route.method, path, response));
      }
      expect(problems).toEqual([]);
      // The walk reached the entities: most answers are successes.
      expect({ refused: refused.length < routes.length * 0.2, which: refused }).toEqual({ refused: true, which: refused });
    });

    it('then error answers match the shared shape: no key, an unknown key, a bad body, an unknown entity, a stale If-Match, a bad cursor, a charset, a body too large', async () => {
      const s = await setupOrganisation(t, 'Errors');
      const anonymous = t.client(null);
      const responses: [Method, string, ApiResponse][] = [
        ['GET', `${ADMIN}/projects/${s.projectId}`, await anonymous.get(`${ADMIN}/projects/${s.projectId}`)],
        ['GET', `${ADMIN}/projects/${s.projectId}`, await t.client('not-a-key-at-all-000').get(`${ADMIN}/projects/${s.projectId}`)],
        ['POST', `${ADMIN}/projects/${s.projectId}/features`, await t.admin.post(`${ADMIN}/projects/${s.projectId}/features`, { name: '' })],
        ['GET', `${ADMIN}/projects/999999`, await t.admin.get(`${ADMIN}/projects/999999`)],
        ['PATCH', `${ADMIN}/projects/${s.projectId}`, await t.admin.patch(`${ADMIN}/projects/${s.projectId}`, { name: 'Stale' }, { headers: { 'if-match': '"99999"' } })],
        ['GET', `${ADMIN}/projects/${s.projectId}/features?after=nope`, await t.admin.get(`${ADMIN}/projects/${s.projectId}/features?after=nope`)],
        [
          'POST',
          `${ADMIN}/projects/${s.projectId}/tags`,
          await t.admin.post(`${ADMIN}/projects/${s.projectId}/tags`, undefined, { raw: '{"label":"x"}', headers: { 'content-type': 'application/json; charset=latin1' } }),
        ],
        ['POST', `${ADMIN}/projects/${s.projectId}/tags`, await t.admin.post(`${ADMIN}/projects/${s.projectId}/tags`, undefined, { raw: `{"label":"${'x'.repeat(2_000_000)}"}` })],
      ];
      expect(responses.map(([, , response]) => response.status)).toEqual([401, 401, 400, 404, 412, 400, 415, 413]);
      expect(responses.flatMap(([method, path, response]) => problemsOf(method, path, response))).toEqual([]);
    });

    it('then the SDK and OFREP routes answer as declared', async () => {
      const fresh = await setupOrganisation(t, 'Sdk');
      const serverKey = obj((await t.admin.post(`${ADMIN}/environments/${fresh.environmentId}/api-keys`, { name: 'local eval' })).body)['key'] as string;
      const client = new ApiClient(t.admin.baseUrl, null);
      const environment = { headers: { 'x-environment-key': fresh.environmentKey } };
      const calls: [Method, string, Promise<ApiResponse>][] = [
        ['GET', '/api/v1/flags/', client.get('/api/v1/flags/', environment)],
        ['GET', '/api/v1/flags/?feature=checkout', client.get('/api/v1/flags/?feature=checkout', environment)],
        ['GET', '/api/v1/flags/?feature=nothing', client.get('/api/v1/flags/?feature=nothing', environment)],
        ['GET', '/api/v1/flags/', client.get('/api/v1/flags/')],
        ['GET', '/api/v1/flags/', client.get('/api/v1/flags/', { headers: { 'x-environment-key': 'unknown' } })],
        ['GET', `/api/v1/identities/?identifier=${encodeURIComponent(fresh.identifier)}`, client.get(`/api/v1/identities/?identifier=${encodeURIComponent(fresh.identifier)}`, environment)],
        ['GET', '/api/v1/identities/', client.get('/api/v1/identities/', environment)],
        ['POST', '/api/v1/identities/', client.post('/api/v1/identities/', { identifier: 'walker', traits: [{ trait_key: 'plan', trait_value: 'pro' }] }, environment)],
        ['POST', '/api/v1/identities/', client.post('/api/v1/identities/', { identifier: 5 }, environment)],
        ['GET', '/api/v1/environment-document/', client.get('/api/v1/environment-document/', { headers: { 'x-environment-key': serverKey } })],
        ['GET', '/api/v1/environment-document/', client.get('/api/v1/environment-document/', environment)],
        ['POST', '/api/v1/analytics/flags/', client.post('/api/v1/analytics/flags/', { checkout: 3 }, environment)],
        ['POST', '/ofrep/v1/evaluate/flags/checkout', client.post('/ofrep/v1/evaluate/flags/checkout', { context: { targetingKey: 'walker' } }, { headers: { 'x-api-key': fresh.environmentKey } })],
        ['POST', '/ofrep/v1/evaluate/flags/checkout', client.post('/ofrep/v1/evaluate/flags/checkout', { context: 'not an object' }, { headers: { 'x-api-key': fresh.environmentKey } })],
        ['GET', '/ofrep/v1/configuration', client.get('/ofrep/v1/configuration', { headers: { 'x-api-key': fresh.environmentKey } })],
        ['POST', '/ofrep/v1/evaluate/flags/nothing', client.post('/ofrep/v1/evaluate/flags/nothing', { context: {} }, { headers: { authorization: `Bearer ${fresh.environmentKey}` } })],
        ['POST', '/ofrep/v1/evaluate/flags', client.post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'walker', plan: 'pro' } }, { headers: { 'x-api-key': fresh.environmentKey } })],
        ['POST', '/ofrep/v1/evaluate/flags', client.post('/ofrep/v1/evaluate/flags', { context: [] }, { headers: { 'x-api-key': fresh.environmentKey } })],
        ['POST', '/ofrep/v1/evaluate/flags', client.post('/ofrep/v1/evaluate/flags', {})],
      ];
      const answered = await Promise.all(calls.map(async ([method, path, pending]): Promise<[Method, string, ApiResponse]> => [method, path, await pending]));
      expect(answered.map(([, , response]) => response.status)).toEqual([200, 200, 404, 401, 403, 200, 400, 200, 400, 200, 403, 200, 200, 400, 200, 404, 200, 400, 401]);
      expect(answered.flatMap(([method, path, response]) => problemsOf(method, path, response))).toEqual([]);
    });

    it('then a request with a malformed header is a declared 400 on the SDK and OFREP routes too', async () => {
      const problems: string[] = [];
      for (const [method, path, header] of [
        ['GET', '/api/v1/environment-document/', 'If-Modified-Since'],
        ['POST', '/ofrep/v1/evaluate/flags', 'If-None-Match'],
      ] as const) {
        const { status, text } = await rawRequest(t.admin.baseUrl, `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${header}: \u0012\u00db\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        expect(status).toBe(400);
        problems.push(...checker.problems(method, path, status, JSON.parse(text) as JsonObject, text));
      }
      expect(problems).toEqual([]);
    });
  });
});
