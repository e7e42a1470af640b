import { ADMIN, arr, expectStatus, obj, str, type Json } from '../testing/http-harness';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f } = STOREFRONT;

/**
 * Where an environment does not allow client traits, traits a client key sends decide that one
 * evaluation and are not stored. The identify answer says so: they are transient, the label
 * Flagsmith gives traits it evaluates without persisting them (`_ensure_transient` in its
 * `environments/sdk/services.py`); traits already stored keep `transient: false`.
 */
describe('Identify with client traits disallowed', () => {
  let w: Storefront;

  const identify = async (key: string, body: unknown) => {
    const response = await w.t.client(null).post('/api/v1/identities/', body, { headers: { 'x-environment-key': key } });
    return obj(expectStatus(response, 200));
  };
  const traitLabels = (body: Json): Record<string, unknown> =>
    Object.fromEntries(arr(obj(body)['traits']).map((trait) => [str(trait, 'trait_key'), obj(trait)['transient']]));
  const flagValue = (body: Json, name: string): unknown =>
    arr(obj(body)['flags'])
      .map((flag) => obj(flag))
      .find((flag) => obj(flag['feature'])['name'] === name)?.['feature_state_value'];

  beforeAll(async () => {
    w = await startStorefront('LockedTraits');
    expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}`, { allowClientTraits: false }), 200);
  });

  afterAll(async () => {
    await w.t.dispose();
  });

  it('when a client key sends traits, then they decide the evaluation, are answered as transient and are not stored', async () => {
    const body = await identify(w.clientKey, { identifier: 'locked-1', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
    expect(flagValue(body, f.checkout.name)).toBe(f.checkout.segmentValue);
    expect(traitLabels(body)).toEqual({ plan: true });
    const stored = await w.admin.get(`${ADMIN}/environments/${w.environmentId}/identities/locked-1`);
    expect(obj(expectStatus(stored, 200))['traits']).toEqual({});
  });

  it('when an identity has stored traits, then they stay transient: false beside the client key’s transient ones', async () => {
    expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier: 'locked-2', traits: { country: 'FR' } }), 201);
    const body = await identify(w.clientKey, { identifier: 'locked-2', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
    expect(traitLabels(body)).toEqual({ country: false, plan: true });
  });

  it('when a server key sends traits, then they are stored and answered as not transient', async () => {
    const body = await identify(w.serverKey, { identifier: 'locked-3', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
    expect(traitLabels(body)).toEqual({ plan: false });
    const stored = await w.admin.get(`${ADMIN}/environments/${w.environmentId}/identities/locked-3`);
    expect(obj(expectStatus(stored, 200))['traits']).toEqual({ plan: 'pro' });
  });
});
