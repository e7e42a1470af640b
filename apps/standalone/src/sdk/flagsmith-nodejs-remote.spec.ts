import { DefaultFlag, type Flagsmith } from 'flagsmith-nodejs';
import { ADMIN, expectStatus, num, obj } from '../testing/http-harness';
import { asSeen, nodeClient, seenFlags } from './testing/sdk-clients';
import { expectedColourBucket, expectedEarlyAdopter, expectedFlags } from './testing/storefront.expectations';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f } = STOREFRONT;

/**
 * The real flagsmith-nodejs SDK (remote evaluation: `GET /flags/`, `POST /identities/`) against the
 * standalone app, with everything set up through the admin API.
 */
describe('flagsmith-nodejs in remote evaluation mode', () => {
  let w: Storefront;
  let client: Flagsmith;
  let server: Flagsmith;

  beforeAll(async () => {
    w = await startStorefront('Remote');
    client = nodeClient(w.apiUrl, w.clientKey);
    server = nodeClient(w.apiUrl, w.serverKey);
  });

  afterAll(async () => {
    await client.close();
    await server.close();
    await w.t.dispose();
  });

  describe('environment flags', () => {
    it('given a client-side key, when the environment flags are read, then each flag has the enabled state and value the admin API set up', async () => {
      const flags = await client.getEnvironmentFlags();
      expect(seenFlags(flags)).toEqual(asSeen(expectedFlags(w, null, {}, 'client')));
    });

    it('given a client-side key, then the server-key-only feature is not served', async () => {
      const flags = await client.getEnvironmentFlags();
      expect(flags.getFlag(f.internal.name).isDefault).toBe(true);
    });

    it('given a server-side key, when the environment flags are read, then the server-key-only feature is served too', async () => {
      const flags = await server.getEnvironmentFlags();
      expect(seenFlags(flags)).toEqual(asSeen(expectedFlags(w, null, {}, 'server')));
      expect(flags.getFeatureValue(f.internal.name)).toBe(f.internal.value);
    });

    it('given a flag the environment lacks, when it is read, then the default flag handler answers', async () => {
      const withHandler = nodeClient(w.apiUrl, w.clientKey);
      withHandler.defaultFlagHandler = (name) => new DefaultFlag(`fallback-${name}`, true);
      const flags = await withHandler.getEnvironmentFlags();
      expect(flags.getFlag('no_such_flag')).toMatchObject({ isDefault: true, enabled: true, value: 'fallback-no_such_flag' });
      expect(flags.isFeatureEnabled(f.legacyExport.name)).toBe(false);
    });
  });

  describe('identity flags', () => {
    it('given a new identity without traits, when its flags are read, then defaults apply and the multivariate and split flags follow its bucket', async () => {
      const identifier = 'remote-plain-1';
      const flags = await client.getIdentityFlags(identifier, {}, true);
      expect(seenFlags(flags)).toEqual(asSeen(expectedFlags(w, identifier, {}, 'client')));
    });

    it('given the trait the segment matches on, when flags are read, then the segment overrides apply', async () => {
      const identifier = 'remote-pro-1';
      const flags = await client.getIdentityFlags(identifier, { plan: 'pro' }, true);
      expect(flags.getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
      expect(flags.getFeatureValue(f.maxItems.name)).toBe(f.maxItems.segmentValue);
      expect(seenFlags(flags)).toEqual(asSeen(expectedFlags(w, identifier, { plan: 'pro' }, 'client')));
    });

    it('given another trait value, when flags are read, then the segment overrides do not apply', async () => {
      const flags = await client.getIdentityFlags('remote-free-1', { plan: 'free' }, true);
      expect(flags.getFeatureValue(f.checkout.name)).toBe(f.checkout.value);
      expect(flags.getFeatureValue(f.maxItems.name)).toBe(f.maxItems.value);
    });

    it('given the identity with an identity override and the segment trait, when flags are read, then the identity override wins', async () => {
      const flags = await client.getIdentityFlags(STOREFRONT.vip.identifier, { plan: 'pro' }, true);
      expect(flags.getFeatureValue(f.checkout.name)).toBe(f.checkout.vipValue);
      expect(flags.getFeatureValue(f.maxItems.name)).toBe(f.maxItems.segmentValue);
      expect(seenFlags(flags)).toEqual(asSeen(expectedFlags(w, STOREFRONT.vip.identifier, { plan: 'pro' }, 'client')));
    });

    it('given identities inside and outside the percentage split and in each multivariate bucket, then each gets its own flags', async () => {
      const identifiers = Array.from({ length: 40 }, (_, index) => `remote-mix-${index}`);
      // The sample must cover every branch, or this test would prove little.
      expect(new Set(identifiers.map((identifier) => expectedColourBucket(w, identifier)))).toEqual(new Set(['red', 'blue', 'control']));
      expect(new Set(identifiers.map((identifier) => expectedEarlyAdopter(w, identifier)))).toEqual(new Set([true, false]));
      for (const identifier of identifiers) {
        const flags = await server.getIdentityFlags(identifier, {}, true);
        expect({ identifier, flags: seenFlags(flags) }).toEqual({ identifier, flags: asSeen(expectedFlags(w, identifier, {}, 'server')) });
      }
    });
  });

  describe('traits sent with identity flags', () => {
    const readIdentity = async (identifier: string) =>
      w.admin.get(`${ADMIN}/environments/${w.environmentId}/identities/${encodeURIComponent(identifier)}`);

    it('when traits are sent, then they are stored on the identity and used by the next call without traits', async () => {
      const identifier = 'remote-stored-1';
      await server.getIdentityFlags(identifier, { plan: 'pro', seats: 12 });
      expect(obj(expectStatus(await readIdentity(identifier), 200))['traits']).toEqual({ plan: 'pro', seats: 12 });
      const again = await server.getIdentityFlags(identifier);
      expect(again.getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    });

    it('when a trait is marked transient, then it is used for the evaluation but not stored', async () => {
      const identifier = 'remote-transient-trait-1';
      const flags = await server.getIdentityFlags(identifier, { plan: { value: 'pro', transient: true }, seats: 3 });
      expect(flags.getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
      expect(obj(expectStatus(await readIdentity(identifier), 200))['traits']).toEqual({ seats: 3 });
    });

    it('when several servers identify one new identity at the same time, each with its own trait, then every trait is stored', async () => {
      const identifier = 'remote-concurrent-1';
      const servers = Array.from({ length: 8 }, () => nodeClient(w.apiUrl, w.serverKey));
      await Promise.all(servers.map((each, index) => each.getIdentityFlags(identifier, { [`trait_${index}`]: index })));
      const expected = Object.fromEntries(servers.map((_, index) => [`trait_${index}`, index]));
      expect(obj(expectStatus(await readIdentity(identifier), 200))['traits']).toEqual(expected);
      await Promise.all(servers.map((each) => each.close()));
    });

    it('when the identity is transient, then nothing is stored', async () => {
      const identifier = 'remote-transient-identity-1';
      const flags = await server.getIdentityFlags(identifier, { plan: 'pro' }, true);
      expect(flags.getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
      expect((await readIdentity(identifier)).status).toBe(404);
    });
  });

  describe('analytics', () => {
    it('given analytics enabled, when flags are read and the processor flushes, then the counts are readable through the admin API', async () => {
      const readTotals = async (): Promise<Record<string, number>> => {
        const totals = obj(obj(expectStatus(await w.admin.get(`${ADMIN}/environments/${w.environmentId}/analytics/flags`), 200))['totals']);
        return Object.fromEntries(Object.entries(totals).map(([name, count]) => [name, typeof count === 'number' ? count : Number.NaN]));
      };
      const before = await readTotals();
      const tracking = nodeClient(w.apiUrl, w.clientKey, { analytics: true });
      const flags = await tracking.getEnvironmentFlags();
      flags.getFlag(f.welcome.name);
      flags.isFeatureEnabled(f.welcome.name);
      flags.getFeatureValue(f.checkout.name);
      expect(flags.analyticsProcessor).toBeDefined();
      await flags.analyticsProcessor?.flush();
      const after = await readTotals();
      expect((after[f.welcome.name] ?? 0) - (before[f.welcome.name] ?? 0)).toBe(2);
      expect((after[f.checkout.name] ?? 0) - (before[f.checkout.name] ?? 0)).toBe(1);
      await tracking.close();
    });
  });

  describe('admin changes', () => {
    const patchState = async (featureId: number, body: Record<string, unknown>): Promise<void> => {
      expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}/feature-states/${featureId}`, body), 200);
    };

    afterAll(async () => {
      await patchState(w.featureIds.welcome, { enabled: f.welcome.enabled, value: f.welcome.value });
    });

    it('when a feature state is changed, then the very next environment and identity calls see each change', async () => {
      const steps = [
        { enabled: true, value: 'Welcome back' },
        { enabled: false, value: 'Welcome back' },
        { enabled: true, value: 'Hi' },
        { enabled: true, value: f.welcome.value },
      ];
      for (const step of steps) {
        await patchState(w.featureIds.welcome, step);
        const environmentFlags = await client.getEnvironmentFlags();
        expect(environmentFlags.getFlag(f.welcome.name)).toMatchObject(step);
        const identityFlags = await client.getIdentityFlags('remote-change-watcher', { plan: 'pro' }, true);
        expect(identityFlags.getFlag(f.welcome.name)).toMatchObject(step);
      }
    });

    it('when a segment override is changed, then the very next identity call sees it', async () => {
      const path = `${ADMIN}/environments/${w.environmentId}/segment-overrides/${w.featureIds.checkout}/${w.segmentIds.pro}`;
      expectStatus(await w.admin.patch(path, { value: 'one-click' }), 200);
      const changed = await client.getIdentityFlags('remote-change-pro', { plan: 'pro' }, true);
      expect(changed.getFeatureValue(f.checkout.name)).toBe('one-click');
      expectStatus(await w.admin.patch(path, { value: f.checkout.segmentValue }), 200);
      const restored = await client.getIdentityFlags('remote-change-pro', { plan: 'pro' }, true);
      expect(restored.getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    });

    it('when an identity override is set, then the very next call for that identity sees it and other identities do not', async () => {
      const identifier = 'remote-override-target';
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier }), 201);
      expectStatus(
        await w.admin.put(`${ADMIN}/environments/${w.environmentId}/identities/${identifier}/overrides/${w.featureIds.maxItems}`, { enabled: true, value: 99 }),
        200,
      );
      expect((await client.getIdentityFlags(identifier, {}, true)).getFeatureValue(f.maxItems.name)).toBe(99);
      expect((await client.getIdentityFlags('remote-override-bystander', {}, true)).getFeatureValue(f.maxItems.name)).toBe(f.maxItems.value);
      expect(
        (await w.admin.delete(`${ADMIN}/environments/${w.environmentId}/identities/${identifier}/overrides/${w.featureIds.maxItems}`)).status,
      ).toBe(204);
      expect((await client.getIdentityFlags(identifier, {}, true)).getFeatureValue(f.maxItems.name)).toBe(f.maxItems.value);
    });

    it('when a segment, an identity and a feature are deleted, then the very next calls no longer see them', async () => {
      const segment = num(
        expectStatus(
          await w.admin.post(`${ADMIN}/projects/${w.projectId}/segments`, {
            name: 'doomed',
            rules: [{ type: 'ALL', conditions: [{ property: 'doomed', operator: 'IS_SET' }], rules: [] }],
          }),
          201,
        ),
        'id',
      );
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/segment-overrides`, { feature: w.featureIds.legacyExport, segment, enabled: true, value: 'pdf' }), 201);
      expect((await client.getIdentityFlags('remote-doomed', { doomed: true }, true)).getFlag(f.legacyExport.name)).toMatchObject({ enabled: true, value: 'pdf' });
      expect((await w.admin.delete(`${ADMIN}/projects/${w.projectId}/segments/${segment}`)).status).toBe(204);
      expect((await client.getIdentityFlags('remote-doomed', { doomed: true }, true)).getFlag(f.legacyExport.name)).toMatchObject({ enabled: false, value: f.legacyExport.value });

      const identifier = 'remote-doomed-identity';
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier, traits: { plan: 'pro' } }), 201);
      expect((await client.getIdentityFlags(identifier)).getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
      expect((await w.admin.delete(`${ADMIN}/environments/${w.environmentId}/identities/${identifier}`)).status).toBe(204);
      expect((await client.getIdentityFlags(identifier, {}, true)).getFeatureValue(f.checkout.name)).toBe(f.checkout.value);

      const doomed = num(expectStatus(await w.admin.post(`${ADMIN}/projects/${w.projectId}/features`, { name: 'doomed_feature', defaultEnabled: true }), 201), 'id');
      expect((await client.getEnvironmentFlags()).getFlag('doomed_feature').isDefault).toBe(false);
      expect((await w.admin.delete(`${ADMIN}/projects/${w.projectId}/features/${doomed}`)).status).toBe(204);
      expect((await client.getEnvironmentFlags()).getFlag('doomed_feature').isDefault).toBe(true);
    });

    it('when a feature is created, then the very next environment call serves it', async () => {
      const created = expectStatus(
        await w.admin.post(`${ADMIN}/projects/${w.projectId}/features`, { name: 'fresh_feature', defaultEnabled: true, initialValue: 7 }),
        201,
      );
      expect(num(created, 'id')).toBeGreaterThan(0);
      const flags = await client.getEnvironmentFlags();
      expect(flags.getFlag('fresh_feature')).toMatchObject({ isDefault: false, enabled: true, value: 7 });
    });
  });
});
