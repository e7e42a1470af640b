import { ADMIN, num, obj, startTestApp, str, type TestApp } from '../testing/http-harness';

/**
 * Identify answers are remembered (per compiled environment, stored identity and exact request
 * body). These check that a remembered answer never outlives what it was computed from.
 */
describe('remembered identify answers', () => {
  let t: TestApp;
  let environment: number;
  let serverKey: string;
  let feature: number;
  let segment: number;
  const body = JSON.stringify({ identifier: 'ada', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });

  const identify = async (raw = body): Promise<{ value: unknown; reason: unknown }> => {
    const response = await fetch(`${t.app.url}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': serverKey, 'content-type': 'application/json' }, body: raw });
    expect(response.status).toBe(200);
    const flags = (await response.json()) as { flags: { feature: { name: string }; feature_state_value: unknown; reason: unknown }[] };
    const flag = flags.flags.find((candidate) => candidate.feature.name === 'banner');
    return { value: flag?.feature_state_value, reason: flag?.reason };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const organisation = num((await t.admin.post(`${ADMIN}/organisations`, { name: 'Acme' })).body, 'id');
    const project = num((await t.admin.post(`${ADMIN}/projects`, { organisation, name: 'Web' })).body, 'id');
    environment = num((await t.admin.post(`${ADMIN}/projects/${project}/environments`, { name: 'Prod' })).body, 'id');
    serverKey = str((await t.admin.post(`${ADMIN}/environments/${environment}/api-keys`, { name: 'sdk' })).body, 'key');
    feature = num((await t.admin.post(`${ADMIN}/projects/${project}/features`, { name: 'banner', defaultEnabled: true, initialValue: 'default' })).body, 'id');
    segment = num(
      (
        await t.admin.post(`${ADMIN}/projects/${project}/segments`, {
          name: 'enterprise',
          rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'enterprise' }] }],
        })
      ).body,
      'id',
    );
    await t.admin.post(`${ADMIN}/environments/${environment}/segment-overrides`, { feature, segment, enabled: true, value: 'for-enterprise' });
  });
  afterAll(() => t.dispose());

  it('gives the same answer to the same call', async () => {
    expect(await identify()).toEqual({ value: 'default', reason: 'DEFAULT' });
    expect(await identify()).toEqual({ value: 'default', reason: 'DEFAULT' });
  });

  it('answers anew after the environment changed', async () => {
    await t.admin.patch(`${ADMIN}/environments/${environment}/feature-states/${feature}`, { value: 'changed' });
    expect(await identify()).toEqual({ value: 'changed', reason: 'DEFAULT' });
  });

  it('answers anew after the identity got an override', async () => {
    await t.admin.put(`${ADMIN}/environments/${environment}/identities/ada/overrides/${feature}`, { enabled: true, value: 'just-ada' });
    expect(await identify()).toEqual({ value: 'just-ada', reason: 'TARGETING_MATCH; segment=identity_overrides' });
    await t.admin.delete(`${ADMIN}/environments/${environment}/identities/ada/overrides/${feature}`);
    expect(await identify()).toEqual({ value: 'changed', reason: 'DEFAULT' });
  });

  it('answers anew when the stored traits changed, and the call then stores its own traits again', async () => {
    await t.admin.patch(`${ADMIN}/environments/${environment}/identities/ada/traits`, { traits: { plan: 'enterprise' } });
    const changedBody = JSON.stringify({ identifier: 'ada' });
    expect(await identify(changedBody)).toEqual({ value: 'for-enterprise', reason: 'TARGETING_MATCH; segment=enterprise' });
    expect(await identify()).toEqual({ value: 'changed', reason: 'DEFAULT' });
    expect(obj((await t.admin.get(`${ADMIN}/environments/${environment}/identities/ada`)).body).traits).toEqual({ plan: 'pro' });
  });
});
