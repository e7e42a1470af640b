import { ADMIN, arr, errorFields, expectStatus, num, obj, startTestApp, type ApiClient, type Json, type JsonObject, type TestApp } from '../testing/http-harness';
import { setupProject, withoutWrites } from '../testing/fixtures';

/** The items of a collection, whether the route answers a bare array or a `{results, next}` page. */
const items = (body: Json): JsonObject[] => (Array.isArray(body) ? body : arr(obj(body)['results'])).map(obj);

const rule = (...conditions: { property: string; operator: string; value?: string }[]) => [{ type: 'ALL', conditions, rules: [] }];
const reads = (property: string) => rule({ property: 'plan', operator: 'EQUAL', value: 'pro' }, { property, operator: 'EQUAL', value: 'true' });

/**
 * Flag dependencies through the admin API: segment conditions reading `$.flags.<name>.enabled` or
 * `.value`, the dependency graph on features, and the 400s and 409s that keep it sound.
 */
describe('Admin API: flag dependencies', () => {
  let t: TestApp;
  let admin: ApiClient;
  let projectId: number;
  let production: number;
  let staging: number;
  const ids: Record<string, number> = {};

  const feature = async (name: string): Promise<number> =>
    num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name, defaultEnabled: false, initialValue: `${name}-default` }), 201), 'id');
  const segment = async (name: string, rules: unknown): Promise<number> =>
    num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name, rules }), 201), 'id');
  const override = (environmentId: number, featureId: number, segmentId: number) =>
    admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment: segmentId, enabled: true, value: 'on' });
  const getFeature = async (featureId: number): Promise<JsonObject> => obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/features/${featureId}`), 200));

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.admin;
    ({ projectId } = await setupProject(admin, 'Deps'));
    production = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
    staging = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Staging' }), 201), 'id');
    for (const name of ['new_ui', 'checkout', 'payments', 'my flag']) ids[name] = await feature(name);
    // checkout depends on new_ui in Production: the "new ui users" segment reads $.flags.new_ui.enabled.
    ids['new ui users'] = await segment('new ui users', reads('$.flags.new_ui.enabled'));
    expectStatus(await override(production, ids['checkout'] as number, ids['new ui users']), 201);
  });

  afterAll(async () => {
    await t.dispose();
  });

  describe('segment rules', () => {
    it('accept reads in dotted and bracket notation, stored as written', async () => {
      const rules = rule(
        { property: "$.flags['my flag'].value", operator: 'EQUAL', value: 'x' },
        { property: '$.flags["payments"].enabled', operator: 'EQUAL', value: 'false' },
      );
      const body = obj(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name: 'bracketed', rules }), 201));
      expect(arr(obj(arr(body['rules'])[0])['conditions']).map((condition) => obj(condition)['property'])).toEqual([
        "$.flags['my flag'].value",
        '$.flags["payments"].enabled',
      ]);
    });

    it('refuse a field other than .enabled or .value, and malformed reads, with 400 naming each property, writing nothing', async () => {
      const { response, written } = await withoutWrites(t, () =>
        admin.post(`${ADMIN}/projects/${projectId}/segments`, {
          name: 'bad reads',
          rules: rule(
            { property: '$.flags.new_ui.reason', operator: 'EQUAL', value: 'x' },
            { property: 'plan', operator: 'EQUAL', value: 'pro' },
            { property: '$.flags.new_ui', operator: 'EQUAL', value: 'x' },
            { property: '$.flags.my flag.enabled', operator: 'EQUAL', value: 'true' },
          ),
        }),
      );
      const body = expectStatus(response, 400);
      expect(written).toBe(0);
      expect(obj(body)['code']).toBe('SEGMENT.INVALID_RULES');
      expect(errorFields(body)).toEqual(['rules[0].conditions[0].property', 'rules[0].conditions[2].property', 'rules[0].conditions[3].property']);
      expect(JSON.stringify(body)).toContain('only .enabled and .value can be read');
    });

    it('refuse a read of a feature the project does not have, with 400 SEGMENT.DEPENDENCY_UNKNOWN_FEATURE naming the property', async () => {
      const { response, written } = await withoutWrites(t, () =>
        admin.patch(`${ADMIN}/projects/${projectId}/segments/${ids['new ui users']}`, { rules: reads('$.flags.ghost.enabled') }),
      );
      const body = obj(expectStatus(response, 400));
      expect(written).toBe(0);
      expect(body['code']).toBe('SEGMENT.DEPENDENCY_UNKNOWN_FEATURE');
      expect(body['errors']).toEqual([{ field: 'rules[0].conditions[1].property', message: 'reads feature "ghost", which does not exist in this project' }]);
    });

    it('do not reach features of another project', async () => {
      const other = await setupProject(admin, 'Elsewhere');
      expectStatus(await admin.post(`${ADMIN}/projects/${other.projectId}/features`, { name: 'secret_flag' }), 201);
      const body = obj(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name: 'snoop', rules: reads('$.flags.secret_flag.enabled') }), 400));
      expect(body['code']).toBe('SEGMENT.DEPENDENCY_UNKNOWN_FEATURE');
    });
  });

  describe('cycles', () => {
    it('a rule change closing a cycle is a 409 naming it, and writes nothing', async () => {
      const newUiUsers = await segment('checkout users', rule({ property: 'plan', operator: 'EQUAL', value: 'beta' }));
      expectStatus(await override(staging, ids['new_ui'] as number, newUiUsers), 201);
      const { response, written } = await withoutWrites(t, () =>
        admin.patch(`${ADMIN}/projects/${projectId}/segments/${newUiUsers}`, { rules: reads('$.flags.checkout.value') }),
      );
      expect(written).toBe(0);
      expect(expectStatus(response, 409)).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'FEATURE.DEPENDENCY_CYCLE',
        message: 'Flag dependencies may not form a cycle: new_ui → checkout → new_ui',
        details: {
          cycle: [
            { id: ids['new_ui'], name: 'new_ui' },
            { id: ids['checkout'], name: 'checkout' },
            { id: ids['new_ui'], name: 'new_ui' },
          ],
        },
      });
    });

    it('a new segment override closing a cycle is a 409, and so is a feature depending on itself', async () => {
      const readsCheckout = await segment('reads checkout', reads('$.flags.checkout.enabled'));
      const { response, written } = await withoutWrites(t, () => override(production, ids['new_ui'] as number, readsCheckout));
      expect(written).toBe(0);
      expect(obj(expectStatus(response, 409))['code']).toBe('FEATURE.DEPENDENCY_CYCLE');
      const self = obj(expectStatus(await override(staging, ids['checkout'] as number, readsCheckout), 409));
      expect(self['message']).toBe('Flag dependencies may not form a cycle: checkout → checkout');
    });
  });

  describe('features', () => {
    it('show what they depend on and what depends on them, through which segments, in which environments', async () => {
      const checkout = await getFeature(ids['checkout'] as number);
      expect(checkout['dependsOn']).toEqual([
        { featureId: ids['new_ui'], featureName: 'new_ui', segments: [{ id: ids['new ui users'], name: 'new ui users', environmentIds: [production] }] },
      ]);
      expect(checkout['dependents']).toEqual([]);
      const newUi = await getFeature(ids['new_ui'] as number);
      expect(newUi['dependents']).toEqual([
        { featureId: ids['checkout'], featureName: 'checkout', segments: [{ id: ids['new ui users'], name: 'new ui users', environmentIds: [production] }] },
      ]);
      const listed = items(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/features`), 200));
      const byName = new Map(listed.map((item) => [item['name'], item]));
      expect(byName.get('checkout')?.['dependsOn']).toEqual(checkout['dependsOn']);
      expect(byName.get('new_ui')?.['dependents']).toEqual(newUi['dependents']);
      expect(byName.get('payments')?.['dependsOn']).toEqual([]);
    });

    it('declare dependsOn and dependents in the OpenAPI document, and errors their details', async () => {
      const schemas = obj(obj(expectStatus(await admin.get('/openapi.json'), 200))['components'])['schemas'];
      const feature = obj(obj(schemas)['FeatureView']);
      expect(feature['required']).toEqual(expect.arrayContaining(['dependsOn', 'dependents']));
      expect(obj(obj(feature['properties'])['dependsOn'])['items']).toEqual({ $ref: '#/components/schemas/FeatureDependencyView' });
      expect(obj(obj(schemas)['FeatureDependencyView'])['required']).toEqual(['featureId', 'featureName', 'segments']);
      expect(Object.keys(obj(obj(obj(schemas)['ApiErrorView'])['properties']))).toContain('details');
    });

    it('that others depend on cannot be deleted or renamed (409 naming the dependants), but can be archived', async () => {
      const { response, written } = await withoutWrites(t, () => admin.delete(`${ADMIN}/projects/${projectId}/features/${ids['new_ui']}`));
      expect(written).toBe(0);
      const body = obj(expectStatus(response, 409));
      expect(body['code']).toBe('FEATURE.HAS_DEPENDENTS');
      expect(body['message']).toContain('feature(s) "checkout" depend on it');
      expect(obj(body['details'])['dependents']).toEqual([{ id: ids['checkout'], name: 'checkout' }]);
      expect(obj(expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/features/${ids['new_ui']}`, { name: 'new_ui_v2' }), 409))['code']).toBe(
        'FEATURE.HAS_DEPENDENTS',
      );
      expect(obj(expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/features/${ids['new_ui']}`, { isArchived: true }), 200))['isArchived']).toBe(true);
      expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/features/${ids['new_ui']}`, { isArchived: false }), 200);
    });

    it('can be deleted once no segment reads them', async () => {
      const temporary = await feature('temporary');
      const reader = await segment('reads temporary', reads('$.flags.temporary.enabled'));
      expectStatus(await override(production, ids['payments'] as number, reader), 201);
      expect(obj(expectStatus(await admin.delete(`${ADMIN}/projects/${projectId}/features/${temporary}`), 409))['code']).toBe('FEATURE.HAS_DEPENDENTS');
      expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/segments/${reader}`, { rules: rule({ property: 'plan', operator: 'EQUAL', value: 'pro' }) }), 200);
      expect((await getFeature(ids['payments'] as number))['dependsOn']).toEqual([]);
      expectStatus(await admin.delete(`${ADMIN}/projects/${projectId}/features/${temporary}`), 204);
    });
  });
});
