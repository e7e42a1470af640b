import { EnvironmentHistory } from '@flagline/admin-projections';
import { readModelKeys, type EnvironmentDocument } from '@flagline/contracts';
import { setupOrganisation, setupProject, withoutWrites } from '../testing/fixtures';
import { ADMIN, arr, errorFields, expectStatus, num, obj, startTestApp, str, type ApiClient, type ApiResponse, type Json, type JsonObject, type TestApp } from '../testing/http-harness';

/** The explained flags of an answer, by feature name. */
function flagsOf(body: Json): Map<string, JsonObject> {
  return new Map(arr(obj(body)['flags']).map((flag) => [str(obj(flag), 'feature'), obj(flag)]));
}

function flag(body: Json, name: string): JsonObject {
  const found = flagsOf(body).get(name);
  if (found === undefined) throw new Error(`no flag ${name} in ${JSON.stringify(body)}`);
  return found;
}

/** What an SDK answer says of each flag, and what an explanation says of it, in the same shape. */
const sdkFlag = (entry: Json) => {
  const flagEntry = obj(entry);
  return { name: str(obj(flagEntry['feature']), 'name'), enabled: flagEntry['enabled'], value: flagEntry['feature_state_value'], reason: flagEntry['reason'], variant: flagEntry['variant'] };
};
const explainedFlag = (entry: JsonObject) => ({ name: str(entry, 'feature'), enabled: entry['enabled'], value: entry['value'], reason: entry['reason'], variant: entry['variant'] });

/**
 * `POST /admin/v1/environments/:environment/evaluate`: each flag explained as the SDK API answers
 * it, now or as of a point of the log, with the segments, conditions, override and bucket behind it.
 */
describe('Admin API: explained evaluation', () => {
  let t: TestApp;
  let admin: ApiClient;
  let projectId: number;
  let environmentId: number;
  let clientKey: string;
  let checkoutId: number;
  let colourId: number;

  const explain = (body: unknown, environment: number | string = environmentId, client: ApiClient = admin): Promise<ApiResponse> =>
    client.post(`${ADMIN}/environments/${environment}/evaluate`, body);
  const sdk = (path: string): Promise<ApiResponse> => t.client(null).get(path, { headers: { 'X-Environment-Key': clientKey } });
  const position = (response: ApiResponse): number => Number(response.headers.get('x-flagline-position'));

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.admin;
    ({ projectId } = await setupProject(admin, 'Explained'));
    const environment = obj(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201));
    environmentId = num(environment, 'id');
    clientKey = str(environment, 'apiKey');
    checkoutId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'checkout_button', defaultEnabled: true, initialValue: 'blue' }), 201), 'id');
    const segmentId = num(
      expectStatus(
        await admin.post(`${ADMIN}/projects/${projectId}/segments`, {
          name: 'power users',
          rules: [
            {
              type: 'ALL',
              conditions: [
                { property: 'plan', operator: 'IN', value: 'pro,enterprise' },
                { property: 'app_version', operator: 'GREATER_THAN_INCLUSIVE', value: '2.1.0:semver' },
              ],
            },
          ],
        }),
        201,
      ),
      'id',
    );
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: checkoutId, segment: segmentId, enabled: true, value: 'green' }), 201);
    colourId = num(
      expectStatus(
        await admin.post(`${ADMIN}/projects/${projectId}/features`, {
          name: 'colour',
          defaultEnabled: true,
          initialValue: 'grey',
          multivariateOptions: [
            { value: 'red', key: 'red', defaultPercentageAllocation: 45 },
            { value: 'yellow', key: 'yellow', defaultPercentageAllocation: 45 },
          ],
        }),
        201,
      ),
      'id',
    );
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'ada', traits: { plan: 'pro', app_version: '2.3.0' } }), 201);
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'grace' }), 201);
    expectStatus(await admin.put(`${ADMIN}/environments/${environmentId}/identities/grace/overrides/${checkoutId}`, { enabled: true, value: 'gold' }), 200);
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('explains an identity now: the segment override that won, each condition with the trait it read, equal to what identify answers', async () => {
    const response = await explain({ identifier: 'ada' });
    const body = expectStatus(response, 200);
    expect(position(response)).toBe(await t.app.store.headPosition());
    expect(obj(body)).toMatchObject({ identifier: 'ada', identityStored: true, position: position(response), environment: { id: environmentId, name: 'Production' } });

    const checkout = flag(body, 'checkout_button');
    expect(checkout).toMatchObject({ enabled: true, value: 'green', reason: 'TARGETING_MATCH; segment=power users', ofrepReason: 'TARGETING_MATCH', featureId: checkoutId });
    expect(checkout['why']).toMatchObject({
      identityOverride: false,
      winner: { kind: 'SEGMENT_OVERRIDE', name: 'power users', priority: 0 },
      segments: [
        {
          name: 'power users',
          priority: 0,
          matched: true,
          won: true,
          rules: [
            {
              type: 'ALL',
              matched: true,
              conditions: [
                { operator: 'IN', property: 'plan', expected: 'pro,enterprise', read: { value: 'pro', type: 'str' }, matched: true },
                { operator: 'GREATER_THAN_INCLUSIVE', property: 'app_version', expected: '2.1.0:semver', read: { value: '2.3.0', type: 'str' }, matched: true },
              ],
            },
          ],
        },
      ],
    });
    const identify = expectStatus(await sdk('/api/v1/identities/?identifier=ada'), 200);
    expect(arr(obj(identify)['flags']).map(sdkFlag)).toStrictEqual([...flagsOf(body).values()].map(explainedFlag));
  });

  it('explains an identity override: it applied and won over the segments, whose conditions read nothing', async () => {
    const body = expectStatus(await explain({ identifier: 'grace', features: ['checkout_button'] }), 200);
    expect(flagsOf(body).size).toBe(1);
    expect(flag(body, 'checkout_button')).toMatchObject({
      value: 'gold',
      reason: 'TARGETING_MATCH; segment=identity_overrides',
      why: {
        identityOverride: true,
        winner: { kind: 'IDENTITY_OVERRIDE' },
        segments: [{ name: 'power users', matched: false, won: false, rules: [{ matched: false, conditions: [{ property: 'plan', read: { value: null, type: 'None' }, matched: false }, { evaluated: false, matched: null }] }] }],
      },
    });
    const identify = expectStatus(await sdk('/api/v1/identities/?identifier=grace'), 200);
    expect(arr(obj(identify)['flags']).map(sdkFlag).filter((entry) => entry.name === 'checkout_button')).toStrictEqual([explainedFlag(flag(body, 'checkout_button'))]);
  });

  it('explains a multivariate flag: the hash percentage, every bucket and the one that holds it, as identify buckets it', async () => {
    const colourFeature = obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/features/${colourId}`), 200));
    const colourOptionIds = arr(colourFeature['multivariateOptions']).map((option) => num(option, 'id'));
    // The bucket hashes the environment's key, which is new on every run; with 24 identifiers the
    // chance that all of them land in one bucket (45 %, 45 % and 10 % wide) is about 1 in 10^8.
    const identifiers = ['ada', 'grace', ...Array.from({ length: 22 }, (_, index) => `visitor-${index}`)];
    const seen = new Set<string>();
    for (const identifier of identifiers) {
      const { response, written } = await withoutWrites(t, () => explain({ identifier, traits: [{ trait_key: 'plan', trait_value: 'free' }], features: ['colour'] }));
      expect(written).toBe(0);
      const colour = flag(expectStatus(response, 200), 'colour');
      expect(colour['featureId']).toBe(colourId);
      const bucket = obj(obj(colour['why'])['bucket']);
      const percentage = num(bucket, 'percentage');
      const ranges = arr(bucket['buckets']).map(obj);
      expect(ranges.map((range) => [range['variant'], range['start'], range['limit']])).toStrictEqual([
        ['red', 0, 45],
        ['yellow', 45, 90],
      ]);
      const holding = ranges.find((range) => num(range, 'start') <= percentage && percentage < num(range, 'limit'));
      expect(bucket['chosen']).toBe(holding === undefined ? 'control' : holding['variant']);
      expect(colour['variant']).toBe(bucket['chosen']);
      expect(colour['multivariateOptionId']).toBe(holding === undefined ? null : holding['priority']);
      expect(ranges.map((range) => range['priority'])).toStrictEqual(colourOptionIds);
      expect(colour['value']).toBe(holding === undefined ? 'grey' : holding['value']);
      expect(colour['reason']).toBe(holding === undefined ? 'STATIC' : 'SPLIT; weight=45');
      seen.add(JSON.stringify(bucket['chosen']));
      if (identifier === 'ada' || identifier === 'grace') {
        // Stored identities: identify evaluates them without writing, so their answers can be compared.
        const identify = expectStatus(await sdk(`/api/v1/identities/?identifier=${identifier}`), 200);
        expect(arr(obj(identify)['flags']).map(sdkFlag).find((entry) => entry.name === 'colour')).toMatchObject({ value: colour['value'], variant: colour['variant'] });
      }
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('overlays the request traits on the stored ones as identify does, storing nothing', async () => {
    const { response, written } = await withoutWrites(t, () => explain({ identifier: 'ada', traits: [{ trait_key: 'plan', trait_value: 'free' }, { trait_key: 'app_version', trait_value: null }, { trait_key: 'score', trait_value: 5.0 }] }));
    expect(written).toBe(0);
    const body = obj(expectStatus(response, 200));
    expect(body['traits']).toStrictEqual([
      { trait_key: 'plan', trait_value: 'free' },
      { trait_key: 'score', trait_value: 5 },
    ]);
    expect(flag(body, 'checkout_button')).toMatchObject({ value: 'blue', reason: 'DEFAULT', why: { winner: { kind: 'ENVIRONMENT_DEFAULT' }, segments: [{ matched: false }] } });
    const stored = obj(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}/identities/ada`), 200));
    expect(stored['traits']).toStrictEqual({ app_version: '2.3.0', plan: 'pro' });
  });

  it('as of a point before a toggle gives the old answer and after it the new one, each equal to what the SDK API answered then', async () => {
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'bob', traits: { plan: 'free' } }), 201);
    const identifyBob = async () => arr(obj(expectStatus(await sdk('/api/v1/identities/?identifier=bob'), 200))['flags']).map(sdkFlag);
    const bobServedBefore = await identifyBob();
    const beforeToggle = await explain({});
    const before = expectStatus(beforeToggle, 200);
    const beforePosition = position(beforeToggle);
    const beforeTime = str(obj(before), 'time');
    const servedBefore = arr(expectStatus(await sdk('/api/v1/flags/'), 200)).map(sdkFlag);
    expect([...flagsOf(before).values()].map(explainedFlag)).toStrictEqual(servedBefore);

    // Recorded times have millisecond precision: the toggle must come strictly after the point named by time.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expectStatus(await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${checkoutId}`, { enabled: false, value: 'red' }), 200);
    const servedAfter = arr(expectStatus(await sdk('/api/v1/flags/'), 200)).map(sdkFlag);
    const afterToggle = await explain({});
    expect(position(afterToggle)).toBeGreaterThan(beforePosition);
    expect([...flagsOf(expectStatus(afterToggle, 200)).values()].map(explainedFlag)).toStrictEqual(servedAfter);
    expect(flag(afterToggle.body, 'checkout_button')).toMatchObject({ enabled: false, value: 'red', ofrepReason: 'DISABLED' });

    const bobServedAfter = await identifyBob();
    expect(bobServedAfter).not.toStrictEqual(bobServedBefore);
    expect([...flagsOf(expectStatus(await explain({ identifier: 'bob' }), 200)).values()].map(explainedFlag)).toStrictEqual(bobServedAfter);
    for (const asOf of [String(beforePosition), beforeTime]) {
      const then = await explain({ asOf });
      expect(position(then)).toBe(beforePosition);
      expect([...flagsOf(expectStatus(then, 200)).values()].map(explainedFlag)).toStrictEqual(servedBefore);
      const bobThen = await explain({ identifier: 'bob', asOf });
      expect([...flagsOf(expectStatus(bobThen, 200)).values()].map(explainedFlag)).toStrictEqual(bobServedBefore);
    }
    expectStatus(await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${checkoutId}`, { enabled: true, value: 'blue' }), 200);
  });

  it('as of a point before an identity override was set, the identity is explained without it', async () => {
    const before = position(await explain({ identifier: 'ada' }));
    expectStatus(await admin.put(`${ADMIN}/environments/${environmentId}/identities/ada/overrides/${checkoutId}`, { enabled: true, value: 'platinum' }), 200);
    const now = expectStatus(await explain({ identifier: 'ada', features: ['checkout_button'] }), 200);
    expect(flag(now, 'checkout_button')).toMatchObject({ value: 'platinum', why: { identityOverride: true } });
    const then = expectStatus(await explain({ identifier: 'ada', features: ['checkout_button'], asOf: String(before) }), 200);
    expect(flag(then, 'checkout_button')).toMatchObject({ value: 'green', why: { identityOverride: false, winner: { kind: 'SEGMENT_OVERRIDE' } } });
    expect(obj(then)['identityStored']).toBe(true);
    expectStatus(await admin.delete(`${ADMIN}/environments/${environmentId}/identities/ada/overrides/${checkoutId}`), 204);
  });

  it('as of a point before a feature existed refuses the feature by name with a 400', async () => {
    const early = position(await explain({}));
    expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'later_feature' }), 201);
    expectStatus(await explain({ features: ['later_feature'] }), 200);
    const body = expectStatus(await explain({ features: ['checkout_button', 'later_feature'], asOf: String(early) }), 400);
    expect(obj(body)['code']).toBe('FEATURE.UNKNOWN');
    expect(errorFields(body)).toEqual(['features[1]']);
  });

  it('explains an environment deleted since as of a point when it existed, and not now', async () => {
    const staging = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Staging' }), 201), 'id');
    const existed = await explain({ identifier: 'ada' }, staging);
    expect(flag(expectStatus(existed, 200), 'checkout_button')).toMatchObject({ value: 'blue', why: { winner: { kind: 'ENVIRONMENT_DEFAULT' } } });
    expectStatus(await admin.delete(`${ADMIN}/environments/${staging}`), 204);

    expect(obj(expectStatus(await explain({ identifier: 'ada' }, staging), 404))['code']).toBe('ENVIRONMENT.NOT_FOUND');
    const then = await explain({ identifier: 'ada', asOf: String(position(existed)) }, staging);
    expect(obj(expectStatus(then, 200))['environment']).toStrictEqual({ id: staging, name: 'Staging' });
    expect(flagsOf(then.body)).toStrictEqual(flagsOf(existed.body));
  });

  it('after an erasure, the identity reads as never stored even as of a point before it: none of its traits or overrides are used', async () => {
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'erin', traits: { plan: 'enterprise', app_version: '9.0.0', nickname: 'zz-secret-zz' } }), 201);
    expectStatus(await admin.put(`${ADMIN}/environments/${environmentId}/identities/erin/overrides/${colourId}`, { enabled: false, value: 'black' }), 200);
    const before = await explain({ identifier: 'erin' });
    expect(obj(expectStatus(before, 200))).toMatchObject({ identityStored: true });
    expect(JSON.stringify(before.body)).toContain('zz-secret-zz');
    expect(flag(before.body, 'checkout_button')).toMatchObject({ value: 'green' });
    expect(flag(before.body, 'colour')).toMatchObject({ value: 'black', why: { identityOverride: true } });
    expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities/erin/erase`), 204);

    const then = obj(expectStatus(await explain({ identifier: 'erin', asOf: String(position(before)) }), 200));
    expect(then).toMatchObject({ identityStored: false, traits: [] });
    expect(flag(then, 'checkout_button')).toMatchObject({ value: 'blue', why: { winner: { kind: 'ENVIRONMENT_DEFAULT' } } });
    expect(flag(then, 'colour')).toMatchObject({ why: { identityOverride: false } });
    expect(JSON.stringify(then)).not.toContain('zz-secret-zz');
  });

  it('refuses bad bodies with a 400 naming every bad field, writing nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{ identifier: 5 }, ['identifier']],
      [{ identifier: '' }, ['identifier']],
      [{ identifier: 'ada', traits: [{ trait_key: '', trait_value: 1 }, { trait_key: 'ok', trait_value: { nested: true } }] }, ['traits[0].trait_key', 'traits[1].trait_value']],
      [{ traits: 'plan' }, ['traits']],
      [{ features: ['nope', 'checkout_button', 'ghost'] }, ['features[0]', 'features[2]']],
      [{ features: 'checkout_button' }, ['features']],
      [{ asOf: 'yesterday' }, ['asOf']],
      [{ asOf: '0' }, ['asOf']],
      [{ asOf: String(Number.MAX_SAFE_INTEGER) }, ['asOf']],
      [{ asOf: '2999-01-01T00:00:00Z' }, ['asOf']],
      [{ identifier: 'ada', extra: true }, ['extra']],
    ];
    for (const [body, fields] of cases) {
      const { response, written } = await withoutWrites(t, () => explain(body));
      expect({ body, status: response.status, fields: [...new Set(errorFields(response.body))] }).toStrictEqual({ body, status: 400, fields });
      expect(written).toBe(0);
    }
  });

  it('answers 404 for an environment of another organisation, as for an unknown one', async () => {
    const other = await setupOrganisation(t, 'Elsewhere');
    const outsider = t.client(other.orgKey);
    for (const reference of [String(environmentId), clientKey]) {
      const body = expectStatus(await explain({ identifier: 'ada' }, reference, outsider), 404);
      expect(obj(body)['code']).toBe('ENVIRONMENT.NOT_FOUND');
    }
    expectStatus(await explain({}, 999_999), 404);
    expectStatus(await explain({}, environmentId, t.client(null)), 401);
    // Their member key explains their own environments.
    expectStatus(await explain({}, other.environmentId, t.client(other.memberOrgKey)), 200);
  });

  it('folds the environment document the projector serves, and the same from snapshots as from the start of the stream, at every position', async () => {
    const head = await t.app.store.headPosition();
    const served = await t.app.readModels.get<EnvironmentDocument>(readModelKeys.environment(environmentId));
    const folded = await t.app.admin.evaluations.documents.environmentDocumentAt(projectId, environmentId, head);
    // Identity overrides reach the environment document from identity streams (for local evaluation), not from the project's.
    const evaluated = (document: EnvironmentDocument | null) =>
      document && { name: document.name, apiKey: document.apiKey, settings: document.settings, features: document.features, segments: document.segments };
    expect(evaluated(folded)).toStrictEqual(evaluated(served));

    const snapshotted = new EnvironmentHistory(t.app.store, { snapshotEvery: 2, maxSnapshots: 4 });
    const whole = new EnvironmentHistory(t.app.store, { snapshotEvery: 1_000_000 });
    const positions = Array.from({ length: head }, (_, index) => head - index);
    for (const at of [...positions, ...positions.reverse()]) {
      expect(await snapshotted.environmentDocumentAt(projectId, environmentId, at)).toStrictEqual(await whole.environmentDocumentAt(projectId, environmentId, at));
    }
    // One snapshot every two events up to four of them, then further and further apart, never more than four.
    expect(snapshotted.snapshots.size).toBeGreaterThanOrEqual(2);
    expect(snapshotted.snapshots.size).toBeLessThanOrEqual(4);
  });
});
