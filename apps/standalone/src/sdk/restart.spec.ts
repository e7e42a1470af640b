import type { Flagsmith } from 'flagsmith-nodejs';
import { ADMIN, expectStatus, obj, startTestApp, type TestApp } from '../testing/http-harness';
import { mapConcurrently, nodeClient, seenFlags, type SeenFlag } from './testing/sdk-clients';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f } = STOREFRONT;

/**
 * The standalone app rebuilds its read models from its event log at start: after a restart on the
 * same data directory, SDKs get exactly what they got before.
 */
describe('SDKs across a restart of the standalone app', () => {
  let w: Storefront;
  let restarted: TestApp;
  const identifiers = [...Array.from({ length: 100 }, (_, index) => `restart-${index}`), STOREFRONT.vip.identifier];
  let before: { flags: Record<string, SeenFlag>[]; document: string };

  const observe = async (client: Flagsmith, apiUrl: string): Promise<{ flags: Record<string, SeenFlag>[]; document: string }> => ({
    flags: await mapConcurrently(identifiers, 16, async (identifier) => seenFlags(await client.getIdentityFlags(identifier, {}, true))),
    document: await (await fetch(`${apiUrl}environment-document/`, { headers: { 'x-environment-key': w.serverKey } })).text(),
  });

  beforeAll(async () => {
    w = await startStorefront('Restart');
    const client = nodeClient(w.apiUrl, w.serverKey);
    await client.getIdentityFlags('restart-stored', { plan: 'pro' });
    expectStatus(await w.t.client(null).post('/api/v1/analytics/flags/', { [f.welcome.name]: 5 }, { headers: { 'x-environment-key': w.clientKey } }), 200);
    before = await observe(client, w.apiUrl);
    await client.close();
    await w.t.stop();
    restarted = await startTestApp({ dataDir: w.t.dataDir });
  });

  afterAll(async () => {
    await restarted.dispose();
  });

  it('then every identity gets the same flags, buckets and overrides, and the environment document is the same', async () => {
    const apiUrl = `${restarted.app.url}/api/v1/`;
    const client = nodeClient(apiUrl, w.serverKey);
    expect(await observe(client, apiUrl)).toEqual(before);
    await client.close();
  });

  it('then traits stored through the SDK are still used', async () => {
    const client = nodeClient(`${restarted.app.url}/api/v1/`, w.clientKey);
    expect((await client.getIdentityFlags('restart-stored')).getFeatureValue(f.checkout.name)).toBe(f.checkout.segmentValue);
    await client.close();
  });

  it('then analytics posted before the restart are still counted', async () => {
    const body = obj(expectStatus(await restarted.admin.get(`${ADMIN}/environments/${w.environmentId}/analytics/flags`), 200));
    expect(obj(body['totals'])[f.welcome.name]).toBe(5);
  });
});
