import type { Flagsmith } from 'flagsmith-nodejs';
import { ADMIN, arr, expectStatus, num, obj, startTestApp, str, type ApiClient, type JsonObject, type TestApp } from '../testing/http-harness';
import { setupProject } from '../testing/fixtures';
import { nodeClient, seenFlags } from './testing/sdk-clients';

const CHECKOUT_READS = '$.flags.new_ui.enabled';

/**
 * A flag that depends on another, end to end: `checkout` has a segment override whose segment
 * reads `$.flags.new_ui.enabled` == true, and `new_ui` is on for the "beta testers" segment (its
 * own override, resolved first) or, later, for the whole environment. Served through the SDK API,
 * OFREP, and the environment document that flagsmith-nodejs evaluates locally.
 */
describe('Flag dependencies end to end', () => {
  let t: TestApp;
  let sdk: ApiClient;
  let environmentId: number;
  let clientKey: string;
  let serverKey: string;
  let newUi: number;
  let local: Flagsmith;
  let remote: Flagsmith;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = t.admin;
    sdk = t.client(null);
    const { projectId } = await setupProject(admin, 'Dependent');
    const environment = obj(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201));
    environmentId = num(environment, 'id');
    clientKey = str(environment, 'apiKey');
    serverKey = str(expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/api-keys`, { name: 'backend' }), 201), 'key');
    const feature = async (name: string, initialValue: string): Promise<number> =>
      num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name, defaultEnabled: false, initialValue }), 201), 'id');
    const segment = async (name: string, property: string, value: string): Promise<number> =>
      num(
        expectStatus(
          await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name, rules: [{ type: 'ALL', rules: [], conditions: [{ property, operator: 'EQUAL', value }] }] }),
          201,
        ),
        'id',
      );
    newUi = await feature('new_ui', 'old');
    const checkout = await feature('checkout', 'classic');
    const betaTesters = await segment('beta testers', 'plan', 'beta');
    const newUiUsers = await segment('new ui users', CHECKOUT_READS, 'true');
    const override = async (featureId: number, segmentId: number, value: string): Promise<void> => {
      expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment: segmentId, enabled: true, value }), 201);
    };
    await override(newUi, betaTesters, 'new');
    await override(checkout, newUiUsers, 'fast');
    local = nodeClient(`${t.app.url}/api/v1/`, serverKey, { local: true });
    remote = nodeClient(`${t.app.url}/api/v1/`, serverKey);
  });

  afterAll(async () => {
    await local.close();
    await remote.close();
    await t.dispose();
  });

  /** The identity's flags from POST /api/v1/identities/ (traits for this evaluation only), by name. */
  const identify = async (identifier: string, plan: string): Promise<Record<string, JsonObject>> => {
    const body = obj(
      expectStatus(
        await sdk.post('/api/v1/identities/', { identifier, transient: true, traits: [{ trait_key: 'plan', trait_value: plan }] }, { headers: { 'x-environment-key': clientKey } }),
        200,
      ),
    );
    return Object.fromEntries(arr(body['flags']).map((flag) => [str(obj(flag)['feature'], 'name'), obj(flag)]));
  };
  const ofrep = async (targetingKey: string, plan: string): Promise<JsonObject> =>
    obj(expectStatus(await sdk.post('/ofrep/v1/evaluate/flags/checkout', { context: { targetingKey, plan } }, { headers: { 'x-api-key': clientKey } }), 200));

  it('the environment document carries the condition reading another flag unchanged, for local evaluation', async () => {
    const document = obj(expectStatus(await sdk.get('/api/v1/environment-document/', { headers: { 'x-environment-key': serverKey } }), 200));
    const segment = arr(obj(document['project'])['segments']).map(obj).find((candidate) => candidate['name'] === 'new ui users');
    const conditions = arr(obj(arr(segment?.['rules'])[0])['conditions']).map(obj);
    expect(conditions).toEqual([expect.objectContaining({ property_: CHECKOUT_READS, operator: 'EQUAL', value: 'true' })]);
    const overrides = arr(segment?.['feature_states']).map(obj);
    expect(overrides.map((state) => [str(obj(state['feature']), 'name'), state['enabled'], state['feature_state_value']])).toEqual([['checkout', true, 'fast']]);
  });

  it('given an identity on which new_ui is on through its own segment, then checkout follows it through /api/v1/identities/', async () => {
    const flags = await identify('ada', 'beta');
    expect(flags['new_ui']).toMatchObject({ enabled: true, feature_state_value: 'new', reason: 'TARGETING_MATCH; segment=beta testers' });
    expect(flags['checkout']).toMatchObject({ enabled: true, feature_state_value: 'fast', reason: 'TARGETING_MATCH; segment=new ui users' });
    // The same for a stored identity, read with GET.
    expectStatus(await t.admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: 'ada-stored', traits: { plan: 'beta' } }), 201);
    const stored = obj(expectStatus(await sdk.get('/api/v1/identities/?identifier=ada-stored', { headers: { 'x-environment-key': clientKey } }), 200));
    const checkout = arr(stored['flags']).map(obj).find((flag) => str(obj(flag['feature']), 'name') === 'checkout');
    expect(checkout).toMatchObject({ enabled: true, feature_state_value: 'fast', reason: 'TARGETING_MATCH; segment=new ui users' });
  });

  it('given an identity on which new_ui is off, then checkout keeps its default', async () => {
    const flags = await identify('grace', 'free');
    expect(flags['new_ui']).toMatchObject({ enabled: false, feature_state_value: 'old' });
    expect(flags['checkout']).toMatchObject({ enabled: false, feature_state_value: 'classic', reason: 'DEFAULT' });
  });

  it('OFREP evaluates checkout through its dependency', async () => {
    expect(await ofrep('ofrep-ada', 'beta')).toMatchObject({ key: 'checkout', value: 'fast', reason: 'TARGETING_MATCH' });
    expect(await ofrep('ofrep-grace', 'free')).toMatchObject({ key: 'checkout', reason: 'DISABLED' });
  });

  it('flagsmith-nodejs remote evaluation sees what the API computes', async () => {
    expect(seenFlags(await remote.getIdentityFlags('ada-remote', { plan: 'beta' }, true))['checkout']).toEqual({ enabled: true, value: 'fast' });
    expect(seenFlags(await remote.getIdentityFlags('grace-remote', { plan: 'free' }, true))['checkout']).toEqual({ enabled: false, value: 'classic' });
  });

  it('flagsmith-nodejs local evaluation: new_ui as remotely; checkout not, because its bundled engine (8.1.x) puts no flags in the context', async () => {
    await local.updateEnvironment();
    const ada = seenFlags(await local.getIdentityFlags('ada-local', { plan: 'beta' }));
    expect(ada['new_ui']).toEqual({ enabled: true, value: 'new' });
    // `$.flags.new_ui.enabled` reads nothing in flagsmith-nodejs's engine, so "new ui users" never
    // matches locally: checkout stays at its default where the server (Flagsmith's engine 11) gives "fast".
    // When the SDK's engine learns flag dependencies this expectation fails: then it must equal the remote flags.
    expect(ada['checkout']).toEqual({ enabled: false, value: 'classic' });
  });

  describe('when new_ui is turned on for the whole environment', () => {
    beforeAll(async () => {
      expectStatus(await t.admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${newUi}`, { enabled: true }), 200);
    });

    it('then checkout is on for every identity, through the SDK API and OFREP', async () => {
      expect((await identify('grace', 'free'))['checkout']).toMatchObject({ enabled: true, feature_state_value: 'fast', reason: 'TARGETING_MATCH; segment=new ui users' });
      expect(await ofrep('ofrep-grace', 'free')).toMatchObject({ value: 'fast', reason: 'TARGETING_MATCH' });
      const flags = expectStatus(await sdk.get('/api/v1/flags/', { headers: { 'x-environment-key': clientKey } }), 200);
      const environmentCheckout = arr(flags).map(obj).find((flag) => str(obj(flag['feature']), 'name') === 'checkout');
      expect(environmentCheckout).toMatchObject({ enabled: true, feature_state_value: 'fast' });
    });
  });
});
