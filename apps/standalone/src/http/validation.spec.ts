import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, listAll, errorFields, expectStatus, num, obj, startTestApp, str, type ApiClient, type ApiResponse, type Method, type TestApp } from '../testing/http-harness';

/**
 * Every rejected request gets one JSON error shape, a status naming the kind of problem, and
 * writes nothing to the event log.
 */
describe('Admin API rejections over HTTP', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'Acme');
    b = await setupOrganisation(t, 'Beta');
  });

  afterAll(async () => {
    await t.dispose();
  });

  /** Sends as the administrator and checks that nothing was written. */
  const rejected = async (method: Method, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse> => {
    const { response, written } = await withoutWrites(t, () => t.admin.request(method, `${ADMIN}${path}`, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) }));
    expect(written).toBe(0);
    return response;
  };

  const expectErrorShape = (response: ApiResponse, status: number): void => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = obj(response.body);
    expect(body).toMatchObject({ statusCode: status, error: expect.any(String), code: expect.any(String), message: expect.any(String) });
  };

  describe('given bodies with several bad fields', () => {
    type Case = [string, Method, (s: OrganisationSetup) => string, unknown, string[]];
    const cases: Case[] = [
      ['create organisation', 'POST', () => '/organisations', { name: '', colour: 'red' }, ['name', 'colour']],
      ['rename organisation', 'PATCH', (s) => `/organisations/${s.organisationId}`, { name: 7, id: 3 }, ['name', 'id']],
      ['register user', 'POST', () => '/users', { email: 'not-an-email', name: '', isSuperuser: true }, ['email', 'name', 'isSuperuser']],
      ['change user', 'PATCH', (s) => `/users/${s.userId}`, { name: '', email: 'x@example.com' }, ['name', 'email']],
      ['issue user key', 'POST', (s) => `/users/${s.userId}/api-keys`, { name: 'x'.repeat(201), role: 'admin' }, ['name', 'role']],
      ['add member', 'POST', (s) => `/organisations/${s.organisationId}/members`, { userId: 0, role: 'owner' }, ['userId', 'role']],
      ['change member', 'PATCH', (s) => `/organisations/${s.organisationId}/members/${s.userId}`, { role: 'owner', extra: true }, ['role', 'extra']],
      ['issue organisation key', 'POST', (s) => `/organisations/${s.organisationId}/api-keys`, { name: '', role: 'root' }, ['name', 'role']],
      ['create project', 'POST', () => '/projects', { organisation: 'one', name: 5, hideDisabledFlags: 'yes' }, ['organisation', 'name', 'hideDisabledFlags']],
      ['change project', 'PATCH', (s) => `/projects/${s.projectId}`, { name: '', hideDisabledFlags: 1 }, ['name', 'hideDisabledFlags']],
      ['create tag', 'POST', (s) => `/projects/${s.projectId}/tags`, { label: '', color: 'red', description: 5 }, ['label', 'color', 'description']],
      ['change tag', 'PATCH', (s) => `/projects/${s.projectId}/tags/${s.tagId}`, { label: 'x'.repeat(101), color: '#zzzzzz' }, ['label', 'color']],
      [
        'create feature',
        'POST',
        (s) => `/projects/${s.projectId}/features`,
        {
          name: '',
          type: 'BOOLEAN',
          defaultEnabled: 'no',
          initialValue: { nested: true },
          tags: [0, 'a'],
          isServerKeyOnly: null,
          multivariateOptions: [{ value: 1.5, key: '', defaultPercentageAllocation: 101 }],
        },
        ['name', 'type', 'defaultEnabled', 'initialValue', 'tags', 'isServerKeyOnly', 'multivariateOptions[0].value', 'multivariateOptions[0].key', 'multivariateOptions[0].defaultPercentageAllocation'],
      ],
      ['change feature', 'PATCH', (s) => `/projects/${s.projectId}/features/${s.featureId}`, { name: '', isArchived: 'yes', initialValue: [] }, ['name', 'isArchived', 'initialValue']],
      [
        'add multivariate option',
        'POST',
        (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options`,
        { value: {}, defaultPercentageAllocation: -1 },
        ['value', 'defaultPercentageAllocation'],
      ],
      [
        'change multivariate option',
        'PATCH',
        (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options/${s.optionId}`,
        { value: Number.MAX_SAFE_INTEGER + 10, defaultPercentageAllocation: 'all' },
        ['value', 'defaultPercentageAllocation'],
      ],
      ['create environment', 'POST', (s) => `/projects/${s.projectId}/environments`, { name: '', hideDisabledFlags: 'x', allowClientTraits: 1 }, ['name', 'hideDisabledFlags', 'allowClientTraits']],
      ['change environment', 'PATCH', (s) => `/environments/${s.environmentId}`, { name: '', hideSensitiveData: 'x', apiKey: 'mine' }, ['name', 'hideSensitiveData', 'apiKey']],
      ['clone environment', 'POST', (s) => `/environments/${s.environmentId}/clone`, { description: 5 }, ['name', 'description']],
      ['issue server key', 'POST', (s) => `/environments/${s.environmentId}/api-keys`, { name: '', prefix: 'ser.' }, ['name', 'prefix']],
      [
        'change feature state',
        'PATCH',
        (s) => `/environments/${s.environmentId}/feature-states/${s.mvFeatureId}`,
        { enabled: 'yes', value: [], multivariateAllocations: [{ optionId: 0, percentage: 200 }] },
        ['enabled', 'value', 'multivariateAllocations[0].optionId', 'multivariateAllocations[0].percentage'],
      ],
      [
        'create segment override',
        'POST',
        (s) => `/environments/${s.environmentId}/segment-overrides`,
        { feature: 'a', segment: -1, priority: -1, enabled: 'on' },
        ['feature', 'segment', 'priority', 'enabled'],
      ],
      [
        'change segment override',
        'PATCH',
        (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}`,
        { enabled: 0, value: 1.25, multivariateAllocations: 'all' },
        ['enabled', 'value', 'multivariateAllocations'],
      ],
      ['reorder segment overrides', 'PUT', (s) => `/environments/${s.environmentId}/features/${s.featureId}/segment-override-order`, { segmentIds: ['a', 0], extra: 1 }, ['segmentIds', 'extra']],
      ['create identity', 'POST', (s) => `/environments/${s.environmentId}/identities`, { identifier: '', traits: { nested: { a: 1 } } }, ['identifier', 'traits']],
      ['update traits', 'PATCH', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, { traits: [], other: 1 }, ['traits', 'other']],
      ['replace traits', 'PUT', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, { traits: { a: null, b: null } }, ['traits.a', 'traits.b']],
      [
        'set identity override',
        'PUT',
        (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.featureId}`,
        { enabled: 'x', value: {}, multivariateAllocations: [{ optionId: 'a', percentage: -5 }] },
        ['enabled', 'value', 'multivariateAllocations[0].optionId', 'multivariateAllocations[0].percentage'],
      ],
      [
        'create segment',
        'POST',
        (s) => `/projects/${s.projectId}/segments`,
        { name: '', rules: [{ type: 'SOME', conditions: [{ property: 'a', operator: 'LIKE', value: { x: 1 } }] }] },
        ['name', 'rules[0].type', 'rules[0].conditions[0].operator', 'rules[0].conditions[0].value'],
      ],
      ['change segment', 'PATCH', (s) => `/projects/${s.projectId}/segments/${s.segmentId}`, { name: '', rules: 'all' }, ['name', 'rules']],
    ];

    it.each(cases)('when %s gets them, then 400 names every bad field and nothing is written', async (_what, method, path, body, fields) => {
      const response = await rejected(method, path(a), body);
      expectErrorShape(response, 400);
      expect(obj(response.body)['code']).toBe('VALIDATION_FAILED');
      expect(new Set(errorFields(response.body))).toEqual(new Set(fields));
    });
  });

  describe('given segment rules checked per operator', () => {
    const condition = (operator: string, value: unknown, property = 'trait') => ({ name: 'checked', rules: [{ type: 'ALL', conditions: [{ property, operator, value }] }] });

    it.each([
      ['a REGEX that does not compile', condition('REGEX', '(unclosed')],
      ['a REGEX with a flag Python does not know', condition('REGEX', '(?z)abc')],
      ['a REGEX with a global flag not at the start (Python 3.11 refuses it)', condition('REGEX', 'abc(?i)')],
      ['a MODULO without a remainder', condition('MODULO', '2')],
      ['a MODULO with a zero divisor', condition('MODULO', '0|1')],
      ['a MODULO with words', condition('MODULO', 'two|one')],
      ['a PERCENTAGE_SPLIT over 100', condition('PERCENTAGE_SPLIT', 100.5, '')],
      ['a PERCENTAGE_SPLIT below 0', condition('PERCENTAGE_SPLIT', -1, '')],
      ['a PERCENTAGE_SPLIT that is not a number', condition('PERCENTAGE_SPLIT', 'half', '')],
      ['an invalid :semver value', condition('GREATER_THAN', '1.2:semver')],
      ['a :semver value with a leading v', condition('EQUAL', 'v1.2.3:semver')],
      ['an IN JSON array of objects', condition('IN', '[{"a":1}]')],
      ['an EQUAL without a value', condition('EQUAL', '')],
      ['a condition without a property', condition('EQUAL', 'x', '')],
    ])('when a segment has %s, then 400 names rules[0].conditions[0] and nothing is written', async (_what, body) => {
      const response = await rejected('POST', `/projects/${a.projectId}/segments`, body);
      expectErrorShape(response, 400);
      expect(errorFields(response.body).every((field) => field.startsWith('rules[0].conditions[0].'))).toBe(true);
      expect(errorFields(response.body).length).toBeGreaterThan(0);
    });

    it.each([
      ['a REGEX with a Python named group', condition('REGEX', '(?P<user>\\w+)@example\\.com')],
      ['a REGEX with a Python inline flag', condition('REGEX', '(?i)abc')],
      ['a REGEX with a named group', condition('REGEX', '(?P<name>x)')],
      ['a MODULO divisor|remainder', condition('MODULO', '3|1')],
      ['a PERCENTAGE_SPLIT of 0', condition('PERCENTAGE_SPLIT', 0, '')],
      ['a PERCENTAGE_SPLIT of 100', condition('PERCENTAGE_SPLIT', '100', '')],
      ['a valid :semver value', condition('LESS_THAN', '2.0.0-beta.1:semver')],
      ['an IN comma list', condition('IN', 'a,b,c')],
      ['an IN JSON array string', condition('IN', '["a","b"]')],
      ['an IN list', condition('IN', ['a', 1, true])],
      ['an IS_SET without a value', condition('IS_SET', null)],
      ['a JSONPath property', condition('EQUAL', 'user-1', '$.identity.identifier')],
    ])('when a segment has %s, then it is created', async (_what, body) => {
      expect((await t.admin.post(`${ADMIN}/projects/${a.projectId}/segments`, body)).status).toBe(201);
    });

    it('when nested rules hold several bad conditions, then every one is named by its path', async () => {
      const response = await rejected('POST', `/projects/${a.projectId}/segments`, {
        name: 'nested',
        rules: [
          {
            type: 'ALL',
            conditions: [
              { property: 'a', operator: 'EQUAL', value: 'fine' },
              { property: 'b', operator: 'REGEX', value: '[' },
            ],
            rules: [
              {
                type: 'ANY',
                conditions: [
                  { property: 'c', operator: 'MODULO', value: '0|0' },
                  { property: 'd', operator: 'EQUAL', value: 'x.y:semver' },
                ],
              },
            ],
          },
          { type: 'NONE', conditions: [{ operator: 'PERCENTAGE_SPLIT', value: 101 }] },
        ],
      });
      expectErrorShape(response, 400);
      expect(errorFields(response.body).sort()).toEqual(
        ['rules[0].conditions[1].value', 'rules[0].rules[0].conditions[0].value', 'rules[0].rules[0].conditions[1].value', 'rules[1].conditions[0].value'].sort(),
      );
    });

    it('when a body has both a bad name and a bad rule value, then both are named at once', async () => {
      const response = await rejected('POST', `/projects/${a.projectId}/segments`, {
        name: '',
        rules: [{ type: 'ALL', conditions: [{ property: 'a', operator: 'EQUAL', value: 'ok' }, { property: 'b', operator: 'REGEX', value: '(' }] }],
      });
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(['name', 'rules[0].conditions[1].value']));
    });

    it('when a rule has a bad type and a bad operator value, then both are named at once', async () => {
      const response = await rejected('PATCH', `/projects/${a.projectId}/segments/${a.segmentId}`, {
        rules: [{ type: 'EVERY', conditions: [{ property: 'n', operator: 'MODULO', value: '0|1' }] }],
      });
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(['rules[0].type', 'rules[0].conditions[0].value']));
    });
  });

  describe('given bad path and query parameters', () => {
    it.each([
      ['a word as project id', '/projects/abc', ['projectId']],
      ['zero as project id', '/projects/0', ['projectId']],
      ['a negative organisation id', '/organisations/-1', ['organisationId']],
      ['an id too long to be one', '/projects/12345678901234567890', ['projectId']],
      ['an id in exponent notation', '/projects/1e0', ['projectId']],
      ['an id in hexadecimal', '/projects/0x1', ['projectId']],
      ['a page size in exponent notation', (s: OrganisationSetup) => `/projects/${s.projectId}/history?pageSize=1e1`, ['pageSize']],
      ['a bad id and a bad page size', '/projects/p1/history?pageSize=none', ['projectId', 'pageSize']],
      ['a word as organisation filter', '/projects?organisation=mine', ['organisation']],
      ['a bad feature filter', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides?feature=x`, ['feature']],
      ['a bad page size and cursor', (s: OrganisationSetup) => `/projects/${s.projectId}/history?pageSize=0&after=yesterday`, ['pageSize', 'after']],
      ['a page size over the limit', (s: OrganisationSetup) => `/organisations/${s.organisationId}/history?pageSize=501`, ['pageSize']],
      ['a bad identity page size', (s: OrganisationSetup) => `/environments/${s.environmentId}/identities?pageSize=-3`, ['pageSize']],
      ['bad feature list filters', (s: OrganisationSetup) => `/projects/${s.projectId}/features?includeArchived=maybe&tag=red`, ['includeArchived', 'tag']],
      ['two bad ids in one path', '/projects/abc/features/xyz', ['projectId', 'featureId']],
      ['a bad feature id of a feature state', (s: OrganisationSetup) => `/environments/${s.environmentId}/feature-states/first`, ['featureId']],
    ] as const)('when a read has %s, then 400 names each of them', async (_what, path, fields) => {
      const response = await rejected('GET', typeof path === 'string' ? path : path(a));
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(fields));
    });

    it('when a write has a bad id and a bad body, then 400 names both and nothing is written', async () => {
      const response = await rejected('PATCH', `/projects/${a.projectId}/features/none`, { name: '', isArchived: 'no' });
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(['featureId', 'name', 'isArchived']));
    });

    it('when a write has bad ids, a bad body and a bad If-Match, then 400 names every one of them', async () => {
      const response = await rejected('PATCH', '/projects/abc/features/xyz', { name: '', extra: 1 }, { 'if-match': 'bogus' });
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(['projectId', 'featureId', 'name', 'extra', 'If-Match']));
    });

    it('when a write has a bad body and a bad If-Match, then 400 names both', async () => {
      const response = await rejected('PATCH', `/projects/${a.projectId}/segments/${a.segmentId}`, { rules: [{ type: 'ALL', conditions: [{ property: 'p', operator: 'REGEX', value: '(' }] }] }, { 'if-match': 'W/x' });
      expectErrorShape(response, 400);
      expect(new Set(errorFields(response.body))).toEqual(new Set(['rules[0].conditions[0].value', 'If-Match']));
    });

    it('when If-Match is not an ETag, then 400 names If-Match', async () => {
      const response = await rejected('PATCH', `/projects/${a.projectId}`, { name: 'x' }, { 'if-match': 'yesterday' });
      expectErrorShape(response, 400);
      expect(errorFields(response.body)).toEqual(['If-Match']);
    });
  });

  describe('given unknown resources', () => {
    const missing = 987654321;
    it.each([
      ['organisation', 'GET', () => `/organisations/${missing}`, undefined, 'ORGANISATION.NOT_FOUND'],
      ['user', 'GET', () => `/users/${missing}`, undefined, 'USER.NOT_FOUND'],
      ['project', 'GET', () => `/projects/${missing}`, undefined, 'PROJECT.NOT_FOUND'],
      ['project on change', 'PATCH', () => `/projects/${missing}`, { name: 'x' }, 'PROJECT.NOT_FOUND'],
      ['tag', 'GET', (s: OrganisationSetup) => `/projects/${s.projectId}/tags/${missing}`, undefined, 'TAG.NOT_FOUND'],
      ['tag on delete', 'DELETE', (s: OrganisationSetup) => `/projects/${s.projectId}/tags/${missing}`, undefined, 'TAG.NOT_FOUND'],
      ['feature', 'GET', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${missing}`, undefined, 'FEATURE.NOT_FOUND'],
      ['feature on change', 'PATCH', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${missing}`, { name: 'x' }, 'FEATURE.NOT_FOUND'],
      ['feature on delete', 'DELETE', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${missing}`, undefined, 'FEATURE.NOT_FOUND'],
      ['feature history', 'GET', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${missing}/history`, undefined, 'FEATURE.NOT_FOUND'],
      ['multivariate option', 'PATCH', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options/${missing}`, { value: 'x' }, 'MULTIVARIATE_OPTION.NOT_FOUND'],
      ['segment', 'GET', (s: OrganisationSetup) => `/projects/${s.projectId}/segments/${missing}`, undefined, 'SEGMENT.NOT_FOUND'],
      ['segment on change', 'PATCH', (s: OrganisationSetup) => `/projects/${s.projectId}/segments/${missing}`, { name: 'x' }, 'SEGMENT.NOT_FOUND'],
      ['environment by id', 'GET', () => `/environments/${missing}`, undefined, 'ENVIRONMENT.NOT_FOUND'],
      ['environment by key', 'GET', () => '/environments/NoSuchClientKey123', undefined, 'ENVIRONMENT.NOT_FOUND'],
      ['environment on clone', 'POST', () => `/environments/${missing}/clone`, { name: 'x' }, 'ENVIRONMENT.NOT_FOUND'],
      ['feature state', 'GET', (s: OrganisationSetup) => `/environments/${s.environmentId}/feature-states/${missing}`, undefined, 'FEATURE.NOT_FOUND'],
      ['feature state on change', 'PATCH', (s: OrganisationSetup) => `/environments/${s.environmentId}/feature-states/${missing}`, { enabled: true }, 'FEATURE.NOT_FOUND'],
      ['segment override', 'GET', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${missing}`, undefined, 'SEGMENT_OVERRIDE.NOT_FOUND'],
      ['segment override on delete', 'DELETE', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides/${s.mvFeatureId}/${s.segmentId}`, undefined, 'SEGMENT_OVERRIDE.NOT_FOUND'],
      ['identity', 'GET', (s: OrganisationSetup) => `/environments/${s.environmentId}/identities/nobody`, undefined, 'IDENTITY.NOT_FOUND'],
      ['identity on trait change', 'PATCH', (s: OrganisationSetup) => `/environments/${s.environmentId}/identities/nobody/traits`, { traits: { a: 1 } }, 'IDENTITY.NOT_FOUND'],
      ['identity override on removal', 'DELETE', (s: OrganisationSetup) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.mvFeatureId}`, undefined, 'IDENTITY_OVERRIDE.NOT_FOUND'],
      ['member', 'PATCH', (s: OrganisationSetup) => `/organisations/${s.organisationId}/members/${missing}`, { role: 'member' }, 'MEMBER.NOT_FOUND'],
      ['organisation key', 'DELETE', (s: OrganisationSetup) => `/organisations/${s.organisationId}/api-keys/key_missing`, undefined, 'API_KEY.NOT_FOUND'],
      ['server key', 'DELETE', (s: OrganisationSetup) => `/environments/${s.environmentId}/api-keys/key_missing`, undefined, 'API_KEY.NOT_FOUND'],
      ['route', 'GET', () => '/no-such-route', undefined, 'ROUTE_NOT_FOUND'],
    ] as const)('when the %s does not exist, then 404 and nothing is written', async (_what, method, path, body, code) => {
      const response = await rejected(method, path(a), body);
      expectErrorShape(response, 404);
      expect(obj(response.body)['code']).toBe(code);
    });
  });

  describe('given clashes and broken invariants', () => {
    type Clash = [string, (s: OrganisationSetup) => readonly [Method, string, unknown?], string];
    let adminUserId: number;
    let soloOrganisationId: number;
    beforeAll(async () => {
      adminUserId = num(expectStatus(await t.admin.get(`${ADMIN}/users/me`), 200), 'id');
      soloOrganisationId = num(expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name: 'Solo' }), 201), 'id');
    });

    const clashes: Clash[] = [
      ['a duplicate feature name', (s: OrganisationSetup) => ['POST', `/projects/${s.projectId}/features`, { name: 'checkout' }], 'FEATURE.NAME_TAKEN'],
      ['a duplicate feature name in another case', (s: OrganisationSetup) => ['POST', `/projects/${s.projectId}/features`, { name: 'CheckOut' }], 'FEATURE.NAME_TAKEN'],
      ['a rename onto another feature’s name', (s: OrganisationSetup) => ['PATCH', `/projects/${s.projectId}/features/${s.mvFeatureId}`, { name: 'CHECKOUT' }], 'FEATURE.NAME_TAKEN'],
      [
        'a segment override for a feature of another project',
        (s: OrganisationSetup) => ['POST', `/environments/${s.environmentId}/segment-overrides`, { feature: b.featureId, segment: s.segmentId }],
        'FEATURE.NOT_IN_PROJECT',
      ],
      [
        'a segment override for a segment of another project',
        (s: OrganisationSetup) => ['POST', `/environments/${s.environmentId}/segment-overrides`, { feature: s.mvFeatureId, segment: b.segmentId }],
        'SEGMENT.NOT_IN_PROJECT',
      ],
      [
        'an identity override for a feature of another project',
        (s: OrganisationSetup) => ['PUT', `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${b.featureId}`, { enabled: true }],
        'FEATURE.NOT_IN_PROJECT',
      ],
      ['a feature tagged with another project’s tag', (s: OrganisationSetup) => ['POST', `/projects/${s.projectId}/features`, { name: 'tagged', tags: [b.tagId] }], 'TAG.NOT_IN_PROJECT'],
      ['a duplicate segment override', (s: OrganisationSetup) => ['POST', `/environments/${s.environmentId}/segment-overrides`, { feature: s.featureId, segment: s.segmentId }], 'SEGMENT_OVERRIDE.EXISTS'],
      [
        'feature state allocations over 100',
        (s: OrganisationSetup) => [
          'PATCH',
          `/environments/${s.environmentId}/feature-states/${s.mvFeatureId}`,
          { multivariateAllocations: [{ optionId: s.optionId, percentage: 60 }, { optionId: s.optionId + 1, percentage: 50 }] },
        ],
        'ALLOCATION.INVALID',
      ],
      [
        'an identity override with allocations over 100',
        (s: OrganisationSetup) => [
          'PUT',
          `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.mvFeatureId}`,
          { enabled: true, multivariateAllocations: [{ optionId: s.optionId, percentage: 70 }, { optionId: s.optionId + 1, percentage: 40 }] },
        ],
        'ALLOCATION.INVALID',
      ],
      [
        'default allocations over 100 on a new feature',
        (s: OrganisationSetup) => [
          'POST',
          `/projects/${s.projectId}/features`,
          { name: 'too_much', multivariateOptions: [{ value: 'a', defaultPercentageAllocation: 80 }, { value: 'b', defaultPercentageAllocation: 30 }] },
        ],
        'ALLOCATION.INVALID',
      ],
      [
        'a new option pushing environment allocations over 100',
        (s: OrganisationSetup) => ['POST', `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options`, { value: 'blue', defaultPercentageAllocation: 60 }],
        'ALLOCATION.INVALID',
      ],
      ['removing the last admin', () => ['DELETE', `/organisations/${soloOrganisationId}/members/${adminUserId}`], 'MEMBER.LAST_ADMIN'],
      ['demoting the last admin', () => ['PATCH', `/organisations/${soloOrganisationId}/members/${adminUserId}`, { role: 'member' }], 'MEMBER.LAST_ADMIN'],
      ['adding an existing member', (s: OrganisationSetup) => ['POST', `/organisations/${s.organisationId}/members`, { userId: s.userId, role: 'member' }], 'MEMBER.EXISTS'],
      ['adding an unknown user', (s: OrganisationSetup) => ['POST', `/organisations/${s.organisationId}/members`, { email: 'nobody@example.com', role: 'member' }], 'USER.UNKNOWN'],
      ['registering a taken email', () => ['POST', '/users', { email: 'ACME-owner@example.com', name: 'Again' }], 'USER.EMAIL_TAKEN'],
      ['deleting an organisation with projects', (s: OrganisationSetup) => ['DELETE', `/organisations/${s.organisationId}`], 'ORGANISATION.NOT_EMPTY'],
      ['creating an existing identity', (s: OrganisationSetup) => ['POST', `/environments/${s.environmentId}/identities`, { identifier: s.identifier }], 'IDENTITY.EXISTS'],
      [
        'an override order that leaves a segment out',
        (s: OrganisationSetup) => ['PUT', `/environments/${s.environmentId}/features/${s.featureId}/segment-override-order`, { segmentIds: [] }],
        'SEGMENT_OVERRIDE.ORDER_MISMATCH',
      ],
      [
        'duplicate multivariate option keys',
        (s: OrganisationSetup) => ['POST', `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options`, { value: 'pink', key: 'red' }],
        'MULTIVARIATE_OPTION.KEY_TAKEN',
      ],
    ];

    it.each(clashes)('when asked for %s, then 409 and nothing is written', async (_what, request, code) => {
      const [method, path, body] = request(a);
      const response = await rejected(method, path, body);
      expectErrorShape(response, 409);
      expect(obj(response.body)['code']).toBe(code);
    });

  });

  describe('given stale and matching If-Match headers', () => {
    type Target = [string, (s: OrganisationSetup) => string, Method, unknown, string];
    const targets: Target[] = [
      ['organisation', (s) => `/organisations/${s.organisationId}`, 'PATCH', { name: 'Acme renamed' }, 'ORGANISATION.STALE_REVISION'],
      ['user', (s) => `/users/${s.userId}`, 'PATCH', { name: 'Renamed owner' }, 'USER.STALE_REVISION'],
      ['project', (s) => `/projects/${s.projectId}`, 'PATCH', { name: 'Renamed project' }, 'PROJECT.STALE_REVISION'],
      ['tag', (s) => `/projects/${s.projectId}/tags/${s.tagId}`, 'PATCH', { label: 'renamed' }, 'TAG.STALE_REVISION'],
      ['feature', (s) => `/projects/${s.projectId}/features/${s.featureId}`, 'PATCH', { description: 'changed' }, 'FEATURE.STALE_REVISION'],
      ['segment', (s) => `/projects/${s.projectId}/segments/${s.segmentId}`, 'PATCH', { description: 'changed' }, 'SEGMENT.STALE_REVISION'],
      ['environment', (s) => `/environments/${s.environmentId}`, 'PATCH', { description: 'changed' }, 'ENVIRONMENT.STALE_REVISION'],
      ['feature state', (s) => `/environments/${s.environmentId}/feature-states/${s.featureId}`, 'PATCH', { enabled: true }, 'FEATURE_STATE.STALE_REVISION'],
      ['segment override', (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}`, 'PATCH', { value: 'new' }, 'SEGMENT_OVERRIDE.STALE_REVISION'],
      ['identity', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, 'PATCH', { traits: { plan: 'free' } }, 'IDENTITY.STALE_REVISION'],
    ];

    const readPath = (what: string, path: string): string => (what === 'identity' ? path.replace(/\/traits$/, '') : path);

    it.each(targets)('when the %s is changed with a stale If-Match, then 412 and nothing is written', async (what, path, method, body, code) => {
      const read = await t.admin.get(`${ADMIN}${readPath(what, path(a))}`);
      const revision = Number((read.etag ?? '').replace(/"/g, ''));
      expect(Number.isInteger(revision)).toBe(true);
      const response = await rejected(method, path(a), body, { 'if-match': `"${revision + 1000}"` });
      expectErrorShape(response, 412);
      expect(obj(response.body)['code']).toBe(code);
    });

    it.each(targets)('when the %s is changed with the matching If-Match, then it succeeds with a new ETag', async (what, path, method, body) => {
      const read = await t.admin.get(`${ADMIN}${readPath(what, path(b))}`);
      expect(read.etag).toMatch(/^"\d+"$/);
      const response = await t.admin.request(method, `${ADMIN}${path(b)}`, { body, headers: { 'if-match': read.etag ?? '' } });
      expect(response.status).toBe(200);
      expect(response.etag).not.toBe(read.etag);
      const again = await t.admin.get(`${ADMIN}${readPath(what, path(b))}`);
      expect(again.etag).toBe(response.etag);
    });

    it.each([
      ['organisation', (s: OrganisationSetup) => `/organisations/${s.organisationId}`],
      ['user', (s: OrganisationSetup) => `/users/${s.userId}`],
      ['project', (s: OrganisationSetup) => `/projects/${s.projectId}`],
      ['feature', (s: OrganisationSetup) => `/projects/${s.projectId}/features/${s.featureId}`],
      ['environment', (s: OrganisationSetup) => `/environments/${s.environmentId}`],
    ])('when the %s is patched with a stale If-Match, then 412', async (_what, path) => {
      const response = await rejected('PATCH', path(a), { name: 'stale_rename' }, { 'if-match': '"123456"' });
      expectErrorShape(response, 412);
    });

    it('when a user is deleted with a stale If-Match, then 412 and nothing is written', async () => {
      const userId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email: 'stale@example.com', name: 'Stale' }), 201), 'id');
      expectStatus(await t.admin.post(`${ADMIN}/organisations/${a.organisationId}/members`, { userId, role: 'member' }), 201);
      const response = await rejected('DELETE', `/users/${userId}`, undefined, { 'if-match': '"99"' });
      expectErrorShape(response, 412);
      expect((await t.admin.get(`${ADMIN}/users/${userId}`)).status).toBe(200);
    });

    it('when an entity is deleted with a stale If-Match, then 412 and it is still there', async () => {
      const path = `/projects/${a.projectId}/features/${a.mvFeatureId}`;
      const response = await rejected('DELETE', path, undefined, { 'if-match': '"123456"' });
      expectErrorShape(response, 412);
      expect((await t.admin.get(`${ADMIN}${path}`)).status).toBe(200);
    });
  });

  describe('given missing or wrong keys', () => {
    it.each([
      ['no Authorization header', null, undefined],
      ['an unknown key', 'flk_not-a-real-key', undefined],
      ['a bearer token', null, { authorization: 'Bearer something' }],
      ['an empty Api-Key', null, { authorization: 'Api-Key ' }],
    ] as const)('when a request has %s, then 401 and nothing is written', async (_what, key, headers) => {
      for (const [method, path, body] of [
        ['GET', `/projects/${a.projectId}`, undefined],
        ['POST', `/projects/${a.projectId}/features`, { name: 'anonymous' }],
        ['POST', '/organisations', { name: 'anonymous' }],
      ] as const) {
        const { response, written } = await withoutWrites(t, () =>
          t.client(key).request(method, `${ADMIN}${path}`, { ...(body ? { body } : {}), ...(headers ? { headers } : {}) }),
        );
        expectErrorShape(response, 401);
        expect(obj(response.body)['code']).toBe('UNAUTHENTICATED');
        expect(written).toBe(0);
      }
    });

    it('when a server-side environment key is used on the admin API, then 401', async () => {
      const key = str(expectStatus(await t.admin.post(`${ADMIN}/environments/${a.environmentId}/api-keys`, { name: 'sdk' }), 201), 'key');
      expect((await t.client(key).get(`${ADMIN}/projects/${a.projectId}`)).status).toBe(401);
    });
  });

  describe('given a member-role key doing admin things', () => {
    let memberUser: ApiClient;
    beforeAll(async () => {
      const userId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email: 'member@example.com', name: 'Member' }), 201), 'id');
      expectStatus(await t.admin.post(`${ADMIN}/organisations/${a.organisationId}/members`, { userId, role: 'member' }), 201);
      memberUser = t.client(str(expectStatus(await t.admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'k' }), 201), 'key'));
    });

    type Case = [string, Method, (s: OrganisationSetup) => string, unknown];
    const bodyFor = (body: unknown): { body?: unknown } =>
      body === undefined ? {} : { body: typeof body === 'function' ? (body as (s: OrganisationSetup) => unknown)(a) : body };
    const adminOnly: Case[] = [
      ['rename the organisation', 'PATCH', (s) => `/organisations/${s.organisationId}`, { name: 'Mine now' }],
      ['delete the organisation', 'DELETE', (s) => `/organisations/${s.organisationId}`, undefined],
      ['add a member', 'POST', (s) => `/organisations/${s.organisationId}/members`, { email: 'beta-owner@example.com', role: 'admin' }],
      ['change a member', 'PATCH', (s) => `/organisations/${s.organisationId}/members/${s.userId}`, { role: 'member' }],
      ['remove a member', 'DELETE', (s) => `/organisations/${s.organisationId}/members/${s.userId}`, undefined],
      ['list organisation keys', 'GET', (s) => `/organisations/${s.organisationId}/api-keys`, undefined],
      ['issue an organisation key', 'POST', (s) => `/organisations/${s.organisationId}/api-keys`, { name: 'escalate', role: 'admin' }],
      ['revoke an organisation key', 'DELETE', (s) => `/organisations/${s.organisationId}/api-keys/${s.orgKeyId}`, undefined],
      ['create a project', 'POST', () => '/projects', (s: OrganisationSetup) => ({ organisation: s.organisationId, name: 'Sneaky' })],
      ['change a project', 'PATCH', (s) => `/projects/${s.projectId}`, { name: 'Sneaky' }],
      ['delete a project', 'DELETE', (s) => `/projects/${s.projectId}`, undefined],
      ['create an environment', 'POST', (s) => `/projects/${s.projectId}/environments`, { name: 'Sneaky' }],
      ['change an environment', 'PATCH', (s) => `/environments/${s.environmentId}`, { name: 'Sneaky' }],
      ['delete an environment', 'DELETE', (s) => `/environments/${s.environmentId}`, undefined],
      ['clone an environment', 'POST', (s) => `/environments/${s.environmentId}/clone`, { name: 'Sneaky' }],
      ['list server keys', 'GET', (s) => `/environments/${s.environmentId}/api-keys`, undefined],
      ['issue a server key', 'POST', (s) => `/environments/${s.environmentId}/api-keys`, { name: 'Sneaky' }],
      ['revoke a server key', 'DELETE', (s) => `/environments/${s.environmentId}/api-keys/${s.serverKeyId}`, undefined],
      ['register a user', 'POST', () => '/users', { email: 'new@example.com', name: 'New' }],
      ['delete a user', 'DELETE', (s) => `/users/${s.userId}`, undefined],
    ];

    it.each(adminOnly)('when a member organisation key tries to %s, then 403 and nothing is written', async (_what, method, path, body) => {
      const { response, written } = await withoutWrites(t, () => t.client(a.memberOrgKey).request(method, `${ADMIN}${path(a)}`, bodyFor(body)));
      expectErrorShape(response, 403);
      expect(str(response.body, 'code')).toMatch(/^PERMISSION\./);
      expect(written).toBe(0);
    });

    it.each(adminOnly.filter(([what]) => !['register a user', 'delete a user'].includes(what)))(
      'when a user with the member role tries to %s, then 403 and nothing is written',
      async (_what, method, path, body) => {
        const { response, written } = await withoutWrites(t, () => memberUser.request(method, `${ADMIN}${path(a)}`, bodyFor(body)));
        expectErrorShape(response, 403);
        expect(written).toBe(0);
      },
    );

    it('when an organisation key tries to create an organisation, then 403', async () => {
      const { response: byKey, written } = await withoutWrites(t, () => t.client(a.orgKey).post(`${ADMIN}/organisations`, { name: 'By key' }));
      expectErrorShape(byKey, 403);
      expect(written).toBe(0);
    });

    it('when a member key does member things, then they succeed', async () => {
      const member = t.client(a.memberOrgKey);
      expect((await member.post(`${ADMIN}/projects/${a.projectId}/features`, { name: 'from_member' })).status).toBe(201);
      expect((await member.patch(`${ADMIN}/environments/${a.environmentId}/feature-states/${a.featureId}`, { enabled: true })).status).toBe(200);
      expect((await listAll(member, `${ADMIN}/projects/${a.projectId}/environments`)).length).toBeGreaterThan(0);
    });

  });

  describe('given malformed and odd bodies', () => {
    it('when the JSON is malformed, then 400 MALFORMED_REQUEST and nothing is written', async () => {
      const { response, written } = await withoutWrites(t, () => t.admin.request('POST', `${ADMIN}/projects/${a.projectId}/features`, { raw: '{"name": "x",' }));
      expectErrorShape(response, 400);
      expect(obj(response.body)['code']).toBe('MALFORMED_REQUEST');
      expect(written).toBe(0);
    });

    it('when the body is larger than accepted, then 413 and nothing is written', async () => {
      const { response, written } = await withoutWrites(t, () => t.admin.post(`${ADMIN}/projects/${a.projectId}/features`, { name: 'big', description: 'x'.repeat(2_000_000) }));
      expectErrorShape(response, 413);
      expect(obj(response.body)['code']).toBe('PAYLOAD_TOO_LARGE');
      expect(written).toBe(0);
    });

    const deep = (levels: number): unknown => (levels === 0 ? { type: 'ALL' } : { type: 'ALL', rules: [deep(levels - 1)] });
    const oddBodies: [string, string][] = [
      ['an array', '[1, 2, 3]'],
      ['an array of objects', '[{"name": "x"}]'],
      ['a number', '42'],
      ['a string', '"name"'],
      ['null', 'null'],
      ['true', 'true'],
      ['an empty object', '{}'],
      ['nested garbage', JSON.stringify({ name: { $gt: '' }, rules: [[[null]]], traits: [{}], value: { a: [{ b: null }] }, feature: [1], segmentIds: { 0: 1 } })],
      ['a huge string', JSON.stringify({ name: 'x'.repeat(300_000), identifier: 'y'.repeat(300_000), label: 'z'.repeat(300_000) })],
      ['prototype keys', '{"__proto__": {"isSuperuser": true}, "constructor": {"prototype": {"x": 1}}, "name": "proto"}'],
      ['wrong types everywhere', JSON.stringify({ name: 1, enabled: 'x', value: { a: 1 }, rules: 'x', traits: 'x', segmentIds: 'x', feature: 'x', segment: null, role: 1, email: 1 })],
      ['deeply nested rules', JSON.stringify({ name: 'deep', rules: [deep(60)] })],
      ['unicode and control characters', JSON.stringify({ name: '\u0000\u202e🚩\ud800', label: '\u0007', identifier: '\uffff' })],
      ['numbers at the edges', JSON.stringify({ organisation: 1e308, feature: -0, segment: 2 ** 53, priority: 1e-300, value: -1e21 })],
    ];
    const routes: [Method, (s: OrganisationSetup) => string][] = [
      ['POST', () => '/organisations'],
      ['POST', () => '/users'],
      ['POST', () => '/projects'],
      ['PATCH', (s) => `/projects/${s.projectId}`],
      ['POST', (s) => `/projects/${s.projectId}/tags`],
      ['POST', (s) => `/projects/${s.projectId}/features`],
      ['PATCH', (s) => `/projects/${s.projectId}/features/${s.featureId}`],
      ['POST', (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options`],
      ['POST', (s) => `/projects/${s.projectId}/segments`],
      ['PATCH', (s) => `/projects/${s.projectId}/segments/${s.segmentId}`],
      ['POST', (s) => `/projects/${s.projectId}/environments`],
      ['POST', (s) => `/environments/${s.environmentId}/clone`],
      ['PATCH', (s) => `/environments/${s.environmentId}/feature-states/${s.mvFeatureId}`],
      ['POST', (s) => `/environments/${s.environmentId}/segment-overrides`],
      ['PUT', (s) => `/environments/${s.environmentId}/features/${s.featureId}/segment-override-order`],
      ['POST', (s) => `/environments/${s.environmentId}/identities`],
      ['PATCH', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`],
      ['PUT', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.featureId}`],
      ['POST', (s) => `/organisations/${s.organisationId}/members`],
      ['POST', (s) => `/organisations/${s.organisationId}/api-keys`],
    ];

    it.each(oddBodies)('when %s is sent to every write route, then none answers 5xx or writes', async (_what, raw) => {
      const failures: string[] = [];
      for (const [method, path] of routes) {
        const { response, written } = await withoutWrites(t, () => t.admin.request(method, `${ADMIN}${path(a)}`, { raw }));
        if (response.status >= 500 || (response.status >= 400 && written !== 0)) failures.push(`${method} ${path(a)}: ${response.status}, wrote ${written}`);
        if (response.status < 400) {
          // An odd body may still be a valid one (an empty PATCH); it must then be a plain success.
          expect([200, 201]).toContain(response.status);
        } else {
          expect(obj(response.body)['statusCode']).toBe(response.status);
        }
      }
      expect(failures).toEqual([]);
    });

    it.each([
      ['text/plain', 'name=x'],
      ['application/x-www-form-urlencoded', 'name=x&organisation=1'],
      ['application/xml', '<name>x</name>'],
      ['application/json; charset=utf-16', '{"name":"x"}'],
    ])('when a body is sent as %s, then it is rejected below 500 and nothing is written', async (contentType, raw) => {
      const { response, written } = await withoutWrites(t, () =>
        t.admin.request('POST', `${ADMIN}/projects/${a.projectId}/tags`, { raw, headers: { 'content-type': contentType } }),
      );
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(written).toBe(0);
    });
  });
});
