import type { OrganisationSetup } from './fixtures';
import type { JsonObject } from './http-harness';
import { exampleOf, planProbes } from './openapi-probe';

const setup = {
  organisationId: 3,
  projectId: 5,
  environmentId: 8,
  featureId: 13,
  mvFeatureId: 14,
  segmentId: 21,
  userKeyId: 'uk',
  orgKeyId: 'ok',
  serverKeyId: 'sk',
  identifier: 'ada@example.com',
  invitationId: 'inv',
} as OrganisationSetup;

const document: JsonObject = {
  paths: {
    '/admin/v1/projects/{projectId}/widgets': {
      post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateWidgetDto' } } } } },
      get: {},
    },
    '/admin/v1/environments/{environment}/identities/{identifier}/keys/{keyId}': { delete: {} },
    '/admin/v1/organisations/{organisationId}/api-keys/{keyId}': { delete: {} },
    '/admin/v1/gadgets/{gadgetId}': { get: {} },
    '/admin/v1/reports': { get: {} },
    '/admin/v1/users/me': { get: {} },
    '/api/v1/flags/': { get: {} },
  },
  components: {
    schemas: {
      CreateWidgetDto: {
        type: 'object',
        required: ['name', 'size', 'kind', 'owner', 'labels'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 3 },
          size: { type: 'integer', minimum: 4 },
          kind: { type: 'string', enum: ['round', 'square'] },
          owner: { type: 'string', format: 'email' },
          labels: { type: 'object', additionalProperties: { type: 'boolean' } },
          note: { type: 'string' },
        },
      },
    },
  },
};

describe('OpenAPI isolation probe plan', () => {
  const plan = planProbes(document, []);
  const find = (operation: string) => plan.probes.find((probe) => probe.operation === operation);

  it('probes a route nobody wrote down, with parameters filled by name', () => {
    expect(find('GET /admin/v1/projects/{projectId}/widgets')?.path(setup)).toBe('/projects/5/widgets');
  });

  it('makes a body from the schema: required fields within their bounds, enums, emails and maps', () => {
    expect(find('POST /admin/v1/projects/{projectId}/widgets')?.body?.(setup, setup)).toEqual({ name: 'pro', size: 4, kind: 'round', owner: 'probe@example.com', labels: { probe: true } });
  });

  it('has a body naming every field for when the required ones are not enough', () => {
    expect(find('POST /admin/v1/projects/{projectId}/widgets')?.fullBody?.()).toMatchObject({ note: 'probe' });
  });

  it('picks whose key a keyId is from the path, and escapes identifiers', () => {
    expect(find('DELETE /admin/v1/environments/{environment}/identities/{identifier}/keys/{keyId}')?.path(setup)).toBe('/environments/8/identities/ada%40example.com/keys/sk');
    expect(find('DELETE /admin/v1/organisations/{organisationId}/api-keys/{keyId}')?.path(setup)).toBe('/organisations/3/api-keys/ok');
  });

  it('names routes it cannot address: an unknown parameter, or no parameter on a route not known to be global', () => {
    expect(plan.unaddressable).toEqual(['GET /admin/v1/gadgets/{gadgetId} (no value for gadgetId)', 'GET /admin/v1/reports']);
    expect(plan.global).toEqual(['GET /admin/v1/users/me']);
  });

  it('leaves out routes outside the admin API', () => {
    expect(plan.probes.some((probe) => probe.operation.includes('/api/v1/'))).toBe(false);
  });

  it('resolves references and takes the first alternative of a oneOf', () => {
    expect(exampleOf(document, { oneOf: [{ type: 'integer', minimum: 2 }, { type: 'string' }] })).toBe(2);
    expect(exampleOf(document, { $ref: '#/components/schemas/CreateWidgetDto' })).toMatchObject({ kind: 'round' });
  });

  it('keeps an object’s properties when its anyOf only says which of them are required', () => {
    const member = {
      type: 'object',
      properties: { userId: { type: 'integer', minimum: 1 }, email: { type: 'string', format: 'email' }, role: { type: 'string', enum: ['admin', 'member'] } },
      required: ['role'],
      anyOf: [{ required: ['userId'] }, { required: ['email'] }],
    };
    expect(exampleOf(document, member)).toEqual({ role: 'admin', userId: 1 });
  });
});
