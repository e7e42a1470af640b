import { createFlagsmithInstance } from 'flagsmith/isomorphic';
import type { IFlagsmith } from 'flagsmith/types';
import { ADMIN, expectStatus, obj } from '../testing/http-harness';
import { expectedFlags } from './testing/storefront.expectations';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f } = STOREFRONT;

const nodeFetch = (url: string, init?: RequestInit): Promise<Response> => fetch(url, init);

/** Identifies a transient identity: typed through `setContext`, as `identify`'s third argument is untyped. */
const identifyTransient = (flagsmith: IFlagsmith, identifier: string, traits: Record<string, string>): Promise<void> =>
  flagsmith.setContext({ identity: { identifier, transient: true, traits: Object.fromEntries(Object.entries(traits).map(([key, value]) => [key, { value }])) } });

/** The JS client reports `{enabled, value}` per flag; compare on that. */
function clientView(flagsmith: IFlagsmith): Record<string, { enabled: boolean; value: unknown }> {
  return Object.fromEntries(Object.entries(flagsmith.getAllFlags()).map(([name, flag]) => [name, { enabled: flag.enabled, value: flag.value }]));
}

function expectedView(expected: ReturnType<typeof expectedFlags>): Record<string, { enabled: boolean; value: unknown }> {
  return Object.fromEntries(Object.values(expected).map((flag) => [flag.name, { enabled: flag.enabled, value: flag.value }]));
}

/**
 * The browser/React Native client `flagsmith` (its isomorphic build, with Node's fetch) against the
 * standalone app with a client-side key.
 */
describe('the flagsmith JS client', () => {
  let w: Storefront;

  beforeAll(async () => {
    w = await startStorefront('Browser');
  });

  afterAll(async () => {
    await w.t.dispose();
  });

  const started = async (): Promise<IFlagsmith> => {
    const flagsmith = createFlagsmithInstance();
    await flagsmith.init({ environmentID: w.clientKey, api: w.apiUrl, fetch: nodeFetch });
    return flagsmith;
  };

  const storedTraits = async (identifier: string): Promise<unknown> => {
    const response = await w.admin.get(`${ADMIN}/environments/${w.environmentId}/identities/${encodeURIComponent(identifier)}`);
    return response.status === 404 ? 'not stored' : obj(expectStatus(response, 200))['traits'];
  };

  it('when initialised without an identity, then it holds the environment flags the admin API set up', async () => {
    const flagsmith = await started();
    expect(clientView(flagsmith)).toEqual(expectedView(expectedFlags(w, null, {}, 'client')));
    expect(flagsmith.hasFeature(f.welcome.name)).toBe(true);
    expect(flagsmith.getValue(f.welcome.name)).toBe(f.welcome.value);
    expect(flagsmith.hasFeature(f.legacyExport.name)).toBe(false);
    expect(flagsmith.getValue(f.maxItems.name)).toBe(f.maxItems.value);
  });

  it('then the server-key-only feature is not among its flags', async () => {
    const flagsmith = await started();
    expect(flagsmith.hasFeature(f.internal.name)).toBe(false);
    expect(flagsmith.getValue(f.internal.name, { fallback: 'absent' })).toBe('absent');
  });

  it('when it identifies with the segment trait, then the segment overrides apply and the multivariate flag follows the identity', async () => {
    const flagsmith = await started();
    const identifier = 'browser-pro-1';
    await flagsmith.identify(identifier, { plan: 'pro' });
    expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    expect(flagsmith.getValue(f.maxItems.name)).toBe(f.maxItems.segmentValue);
    expect(clientView(flagsmith)).toEqual(expectedView(expectedFlags(w, identifier, { plan: 'pro' }, 'client')));
    expect(flagsmith.getTrait('plan')).toBe('pro');
  });

  it('when the identity with an override identifies, then the identity override wins', async () => {
    const flagsmith = await started();
    await identifyTransient(flagsmith, STOREFRONT.vip.identifier, { plan: 'pro' });
    expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.vipValue);
    expect(flagsmith.hasFeature(f.checkout.name)).toBe(true);
  });

  it('given client traits are allowed, when it identifies with traits, then they are stored and a later identify without traits uses them', async () => {
    const identifier = 'browser-stored-1';
    const first = await started();
    await first.identify(identifier, { plan: 'pro', seats: 4 });
    expect(await storedTraits(identifier)).toEqual({ plan: 'pro', seats: 4 });

    const second = await started();
    await second.identify(identifier);
    expect(second.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    expect(second.getTrait('seats')).toBe(4);
  });

  it('given an identifier with spaces, slashes, query characters and non-ASCII letters, then its traits are stored under it and read back by a later identify', async () => {
    const identifier = 'a b/c?d&e=f#g%ü+';
    const first = await started();
    await first.identify(identifier, { plan: 'pro' });
    expect(await storedTraits(identifier)).toEqual({ plan: 'pro' });
    const second = await started();
    await second.identify(identifier);
    expect(second.getTrait('plan')).toBe('pro');
    expect(second.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
  });

  it('when traits are changed with setTraits, then the new values are stored and used', async () => {
    const identifier = 'browser-settraits-1';
    const flagsmith = await started();
    await flagsmith.identify(identifier, { plan: 'free' });
    expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.value);
    await flagsmith.setTraits({ plan: 'pro' });
    expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    expect(await storedTraits(identifier)).toEqual({ plan: 'pro' });
  });

  it('when it identifies as a transient identity, then the traits are used but nothing is stored', async () => {
    const identifier = 'browser-transient-1';
    const flagsmith = await started();
    await identifyTransient(flagsmith, identifier, { plan: 'pro' });
    expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    expect(await storedTraits(identifier)).toBe('not stored');
  });

  describe('given the environment does not allow client traits', () => {
    beforeAll(async () => {
      expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}`, { allowClientTraits: false }), 200);
    });

    afterAll(async () => {
      expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}`, { allowClientTraits: true }), 200);
    });

    it('when it identifies with traits, then they still decide this evaluation', async () => {
      const flagsmith = await started();
      await flagsmith.identify('browser-locked-1', { plan: 'pro' });
      expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.segmentValue);
      expect(flagsmith.getValue(f.maxItems.name)).toBe(f.maxItems.segmentValue);
    });

    it('then the traits are not stored, so a later identify without traits does not match the segment', async () => {
      const identifier = 'browser-locked-2';
      const first = await started();
      await first.identify(identifier, { plan: 'pro' });
      expect(await storedTraits(identifier)).not.toEqual(expect.objectContaining({ plan: 'pro' }));

      const second = await started();
      await second.identify(identifier);
      expect(second.getValue(f.checkout.name)).toBe(f.checkout.value);
    });

    it('then traits stored earlier are kept and not overwritten by a client key', async () => {
      const identifier = 'browser-locked-3';
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier, traits: { plan: 'pro' } }), 201);
      const flagsmith = await started();
      await flagsmith.identify(identifier, { plan: 'free' });
      expect(flagsmith.getValue(f.checkout.name)).toBe(f.checkout.value);
      expect(await storedTraits(identifier)).toEqual({ plan: 'pro' });
    });
  });

  it('when the admin API changes a flag, then the client sees it on its next fetch', async () => {
    const flagsmith = await started();
    expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.legacyExport}`, { enabled: true }), 200);
    try {
      await flagsmith.getFlags();
      expect(flagsmith.hasFeature(f.legacyExport.name)).toBe(true);
    } finally {
      expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.legacyExport}`, { enabled: false }), 200);
    }
  });
});
