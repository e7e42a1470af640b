import { generatedSecret } from '@flagline/observability';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN, arr, expectStatus, num, obj, startTestApp, str, tempDataDir, type ApiClient, type Json, type TestApp } from '../testing/http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

/**
 * A trait sent as `5.0` is a float to Flagsmith (Python's JSON) and `5` an int, and segment
 * conditions tell them apart. What Flagsmith's reference engine (flagsmith-flag-engine 11.1.1,
 * `context_matches_condition`) answers for these two segments:
 *
 * | trait         | `score LESS_THAN_INCLUSIVE "5.5"` | `age IN "18,21,30"` |
 * |---------------|-----------------------------------|---------------------|
 * | `5.0`, `18.0` | True (`5.0 <= float("5.5")`)      | False (`str(18.0)` is `"18.0"`) |
 * | `5`, `18`     | False (`int("5.5")` fails)        | True                |
 *
 * The written form is kept end to end: identify (stored and transient), OFREP, the admin API,
 * after a restart (replay of the log), and in what is answered back.
 */
describe('Traits written as floats, as Flagsmith reads them', () => {
  let t: TestApp;
  let environmentId: number;
  let clientKey: string;
  let serverKey: string;
  let sdk: ApiClient;

  const FLOATS = '{"score": 5.0, "age": 18.0}';
  const INTS = '{"score": 5, "age": 18}';
  /** Flag values for each row of the table above. */
  const WHEN_FLOATS = { low_score: 'segment', young: 'default' };
  const WHEN_INTS = { low_score: 'default', young: 'segment' };

  const identifyBody = (identifier: string, traits: string, extra = ''): string => {
    const list = Object.entries(JSON.parse(traits) as Record<string, number>)
      .map(([key]) => `{"trait_key": "${key}", "trait_value": ${new RegExp(`"${key}": ([0-9.]+)`).exec(traits)?.[1] ?? 'null'}}`)
      .join(', ');
    return `{"identifier": "${identifier}", "traits": [${list}]${extra}}`;
  };

  const flagValues = (body: Json): Record<string, unknown> =>
    Object.fromEntries(arr(obj(body)['flags']).map((flag) => [str(obj(flag)['feature'], 'name'), obj(flag)['feature_state_value']]));

  const identify = async (identifier: string, traits: string, extra = '') => {
    const response = await sdk.request('POST', '/api/v1/identities/', { raw: identifyBody(identifier, traits, extra), headers: { 'x-environment-key': serverKey } });
    expectStatus(response, 200);
    return response;
  };

  const storedIdentity = async (client: ApiClient, identifier: string) => {
    const response = await client.get(`/api/v1/identities/?identifier=${identifier}`, { headers: { 'x-environment-key': clientKey } });
    expectStatus(response, 200);
    return response;
  };

  beforeAll(async () => {
    t = await startTestApp();
    const organisation = num(expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name: 'Floats' }), 201), 'id');
    const project = num(expectStatus(await t.admin.post(`${ADMIN}/projects`, { organisation, name: 'Floats' }), 201), 'id');
    const environment = obj(expectStatus(await t.admin.post(`${ADMIN}/projects/${project}/environments`, { name: 'Production' }), 201));
    environmentId = num(environment, 'id');
    clientKey = str(environment, 'apiKey');
    serverKey = str(expectStatus(await t.admin.post(`${ADMIN}/environments/${environmentId}/api-keys`, { name: 'backend' }), 201), 'key');
    for (const [feature, property, operator, value] of [
      ['low_score', 'score', 'LESS_THAN_INCLUSIVE', '5.5'],
      ['young', 'age', 'IN', '18,21,30'],
    ] as const) {
      const featureId = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${project}/features`, { name: feature, defaultEnabled: true, initialValue: 'default' }), 201), 'id');
      const segment = num(
        expectStatus(await t.admin.post(`${ADMIN}/projects/${project}/segments`, { name: `${feature} segment`, rules: [{ type: 'ALL', conditions: [{ property, operator, value }] }] }), 201),
        'id',
      );
      expectStatus(await t.admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment, enabled: true, value: 'segment' }), 201);
    }
    sdk = t.client(null);
  });

  afterAll(async () => {
    await t.dispose();
  });

  describe('identify', () => {
    it('when traits are sent as 5.0 and 18.0 and stored, then they match as floats and are answered as floats', async () => {
      const response = await identify('stored-floats', FLOATS);
      expect(flagValues(response.body)).toEqual(WHEN_FLOATS);
      expect(response.text).toContain('"trait_key":"score","trait_value":5.0');
      expect(response.text).toContain('"trait_key":"age","trait_value":18.0');
    });

    it('when the same traits are sent as 5 and 18, then they match as ints', async () => {
      const response = await identify('stored-ints', INTS);
      expect(flagValues(response.body)).toEqual(WHEN_INTS);
      expect(response.text).toContain('"trait_key":"score","trait_value":5,');
    });

    it('when a stored identity is read back without traits, then its stored floats still match as floats', async () => {
      const floats = await storedIdentity(sdk, 'stored-floats');
      expect(flagValues(floats.body)).toEqual(WHEN_FLOATS);
      expect(floats.text).toContain('"trait_value":5.0');
      expect(flagValues((await storedIdentity(sdk, 'stored-ints')).body)).toEqual(WHEN_INTS);
    });

    it('when the identity is transient, then the floats are used without being stored', async () => {
      const response = await identify('transient-floats', FLOATS, ', "transient": true');
      expect(flagValues(response.body)).toEqual(WHEN_FLOATS);
      expect(flagValues((await storedIdentity(sdk, 'transient-floats')).body)).toEqual({ low_score: 'default', young: 'default' });
    });

    it('when a stored 5 is sent again as 5.0, then the change is stored (an int became a float)', async () => {
      await identify('changes-type', INTS);
      expect(flagValues((await identify('changes-type', FLOATS)).body)).toEqual(WHEN_FLOATS);
      expect(flagValues((await storedIdentity(sdk, 'changes-type')).body)).toEqual(WHEN_FLOATS);
    });
  });

  describe('OFREP', () => {
    const evaluate = async (context: string) => {
      const response = await sdk.request('POST', '/ofrep/v1/evaluate/flags', { raw: `{"context": ${context}}`, headers: { 'x-api-key': clientKey } });
      expectStatus(response, 200);
      return Object.fromEntries(arr(obj(response.body)['flags']).map((flag) => [str(flag, 'key'), obj(flag)['value']]));
    };

    it('when the context holds 5.0 and 18.0, then they match as floats; 5 and 18 as ints', async () => {
      expect(await evaluate('{"targetingKey": "ofrep-floats", "score": 5.0, "age": 18.0}')).toEqual(WHEN_FLOATS);
      expect(await evaluate('{"targetingKey": "ofrep-ints", "score": 5, "age": 18}')).toEqual(WHEN_INTS);
    });
  });

  describe('admin identities', () => {
    const identityPath = (identifier: string) => `${ADMIN}/environments/${environmentId}/identities/${identifier}`;

    it('when an identity is created with traits 5.0 and 18.0, then it answers them as floats and evaluates them as floats', async () => {
      const created = await t.admin.request('POST', `${ADMIN}/environments/${environmentId}/identities`, { raw: `{"identifier": "admin-floats", "traits": ${FLOATS}}` });
      expectStatus(created, 201);
      expect(created.text).toContain('"traits":{"age":18.0,"score":5.0}');
      expect((await t.admin.get(identityPath('admin-floats'))).text).toContain('"traits":{"age":18.0,"score":5.0}');
      expect(flagValues((await storedIdentity(sdk, 'admin-floats')).body)).toEqual(WHEN_FLOATS);
    });

    it('when its traits are patched to 5 and 18, then they are ints; put back as 5.0 and 18.0, floats again', async () => {
      const patched = await t.admin.request('PATCH', `${identityPath('admin-floats')}/traits`, { raw: `{"traits": ${INTS}}` });
      expectStatus(patched, 200);
      expect(patched.text).toContain('"traits":{"age":18,"score":5}');
      expect(flagValues((await storedIdentity(sdk, 'admin-floats')).body)).toEqual(WHEN_INTS);
      const replaced = await t.admin.request('PUT', `${identityPath('admin-floats')}/traits`, { raw: `{"traits": ${FLOATS}}` });
      expectStatus(replaced, 200);
      expect(replaced.text).toContain('"traits":{"age":18.0,"score":5.0}');
      expect(flagValues((await storedIdentity(sdk, 'admin-floats')).body)).toEqual(WHEN_FLOATS);
    });

    it('when traits are read through the history, then each change names its floats', async () => {
      const history = obj(expectStatus(await t.admin.get(`${identityPath('admin-floats')}/history`), 200));
      const changes = arr(history['results']).map((entry) => [obj(entry)['type'], obj(obj(entry)['data'])['floats']]);
      // Created with its traits (one event), then changed twice.
      expect(changes).toEqual([
        ['IdentityCreated', ['score', 'age']],
        ['IdentityTraitsChanged', []],
        ['IdentityTraitsChanged', ['score', 'age']],
      ]);
    });
  });

  describe('after a restart (the log replayed)', () => {
    let restarted: TestApp;

    beforeAll(async () => {
      await t.stop();
      restarted = await startTestApp({ dataDir: t.dataDir });
    });

    afterAll(async () => {
      await restarted.stop();
    });

    it('then stored floats are still floats: in evaluation, in identify answers and in the admin API', async () => {
      const client = restarted.client(null);
      for (const identifier of ['stored-floats', 'changes-type', 'admin-floats']) expect(flagValues((await storedIdentity(client, identifier)).body)).toEqual(WHEN_FLOATS);
      expect(flagValues((await storedIdentity(client, 'stored-ints')).body)).toEqual(WHEN_INTS);
      expect((await storedIdentity(client, 'stored-floats')).text).toContain('"trait_key":"score","trait_value":5.0');
      expect((await restarted.admin.get(`${ADMIN}/environments/${environmentId}/identities/stored-floats`)).text).toContain('"traits":{"age":18.0,"score":5.0}');
    });
  });

  describe('given an event log written before traits kept their number type (fixtures/log-before-float-traits)', () => {
    const CLIENT_KEY = 'aZ9OuHeRGiA0fAp29VJpby';
    const SERVER_KEY = 'ser.TTzQq5cF8cNSiaycmxkRFl';
    let old: TestApp;

    beforeAll(async () => {
      const dataDir = await tempDataDir('flagline-v1-log-');
      await cp(join(__dirname, 'fixtures', 'log-before-float-traits', 'events'), join(dataDir, 'events'), { recursive: true });
      old = await startTestApp({ dataDir, env: { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC } });
    });

    afterAll(async () => {
      await old.dispose();
    });

    const read = async (identifier: string) => {
      const response = await old.client(null).get(`/api/v1/identities/?identifier=${identifier}`, { headers: { 'x-environment-key': CLIENT_KEY } });
      expectStatus(response, 200);
      return response;
    };

    it('then its traits keep the meaning they had: ints, in evaluation and in what is answered', async () => {
      for (const identifier of ['sdk-before', 'admin-before']) expect(flagValues((await read(identifier)).body)).toEqual(WHEN_INTS);
      expect((await read('sdk-before')).text).toContain('{"trait_key":"score","trait_value":5,');
      expect((await read('sdk-before')).text).toContain('{"trait_key":"ratio","trait_value":0.5,');
      expect((await old.admin.get(`${ADMIN}/environments/4/identities/admin-before`)).text).toContain('"traits":{"age":18,"score":5}');
    });

    it('when one of them is sent 5.0 and 18.0 now, then it is stored as floats after the old events, and still after a restart', async () => {
      const body = identifyBody('sdk-before', FLOATS);
      const response = await old.client(null).request('POST', '/api/v1/identities/', { raw: body, headers: { 'x-environment-key': SERVER_KEY } });
      expect(flagValues(expectStatus(response, 200))).toEqual(WHEN_FLOATS);
      await old.stop();
      old = await startTestApp({ dataDir: old.dataDir, env: { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC } });
      expect(flagValues((await read('sdk-before')).body)).toEqual(WHEN_FLOATS);
      expect(flagValues((await read('admin-before')).body)).toEqual(WHEN_INTS);
      expect((await read('sdk-before')).text).toContain('{"trait_key":"ratio","trait_value":0.5,');
    });
  });
});
