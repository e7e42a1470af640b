import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import type { Flagsmith } from 'flagsmith-nodejs';
import { ADMIN, expectStatus, num, obj, str } from '../testing/http-harness';
import { mapConcurrently, nodeClient } from './testing/sdk-clients';
import { expectedColourBucket, expectedEarlyAdopter, type ColourBucket } from './testing/storefront.expectations';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f, segments: s } = STOREFRONT;
/**
 * Shares are measured over 3,000 identities: the environment key (and so every hash) is new on each
 * run, and at 1,000 a ±4-point check would fail by chance about once in forty runs.
 */
const IDENTITIES = 3000;
/** Identities also asked through OFREP (two requests each). */
const OFREP_SAMPLE = 600;
/** Allowed distance, in percentage points, between an observed share and its allocation. */
const TOLERANCE = 4;

interface Observation {
  readonly identifier: string;
  readonly colour: ColourBucket;
  readonly earlyAdopter: boolean;
}

function colourBucket(value: unknown): ColourBucket {
  const variant = f.colour.variants.find((candidate) => candidate.value === value);
  if (variant) return variant.key;
  if (value === f.colour.control) return 'control';
  throw new Error(`unexpected ${f.colour.name} value ${JSON.stringify(value)}`);
}

const share = (observations: readonly Observation[], predicate: (observation: Observation) => boolean): number =>
  (observations.filter(predicate).length / observations.length) * 100;

/**
 * A 30/30/40 multivariate split and a 25 % percentage split over thousands of identities: the
 * shares match the allocations, and every identity lands in the same bucket whichever client asks.
 */
describe('bucketing over 3,000 identities', () => {
  let w: Storefront;
  let openFeature: Client;
  let remote: Flagsmith;
  let local: Flagsmith;
  const identifiers = Array.from({ length: IDENTITIES }, (_, index) => `user-${index}-${(index * 7919) % 10007}`);
  let viaOfrep: Observation[];
  let viaRemote: Observation[];
  let viaLocal: Observation[];

  beforeAll(async () => {
    w = await startStorefront('Distribution');
    await OpenFeature.setProviderAndWait('distribution', new OFREPProvider({ baseUrl: w.t.app.url, headers: { 'X-API-Key': w.clientKey } }));
    openFeature = OpenFeature.getClient('distribution');
    remote = nodeClient(w.apiUrl, w.clientKey);
    local = nodeClient(w.apiUrl, w.serverKey, { local: true });

    viaRemote = await mapConcurrently(identifiers, 32, async (identifier) => {
      const flags = await remote.getIdentityFlags(identifier, {}, true);
      return { identifier, colour: colourBucket(flags.getFeatureValue(f.colour.name)), earlyAdopter: flags.isFeatureEnabled(f.dashboard.name) };
    });
    viaLocal = await mapConcurrently(identifiers, 8, async (identifier) => {
      const flags = await local.getIdentityFlags(identifier, {});
      return { identifier, colour: colourBucket(flags.getFeatureValue(f.colour.name)), earlyAdopter: flags.isFeatureEnabled(f.dashboard.name) };
    });
    viaOfrep = await mapConcurrently(identifiers.slice(0, OFREP_SAMPLE), 32, async (identifier) => ({
      identifier,
      colour: colourBucket(await openFeature.getStringValue(f.colour.name, 'none', { targetingKey: identifier })),
      earlyAdopter: await openFeature.getBooleanValue(f.dashboard.name, false, { targetingKey: identifier }),
    }));
  }, 30_000);

  afterAll(async () => {
    await OpenFeature.close();
    await remote.close();
    await local.close();
    await w.t.dispose();
  });

  it.each(f.colour.variants.map((variant) => [variant.key, variant.percentage] as const))(
    'then the share of variant %s is within the tolerance of its %d % allocation',
    (key, percentage) => {
      expect(Math.abs(share(viaRemote, (observation) => observation.colour === key) - percentage)).toBeLessThanOrEqual(TOLERANCE);
    },
  );

  it('then the share of the control value is within the tolerance of the unallocated remainder', () => {
    const remainder = 100 - f.colour.variants.reduce((sum, variant) => sum + variant.percentage, 0);
    expect(Math.abs(share(viaRemote, (observation) => observation.colour === 'control') - remainder)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('then the share of identities in the percentage split segment is within the tolerance of its percentage', () => {
    expect(Math.abs(share(viaRemote, (observation) => observation.earlyAdopter) - s.earlyAdopters.percentage)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('then each identity lands in the same buckets through flagsmith-nodejs remote and local evaluation and through OFREP', () => {
    expect(viaLocal).toEqual(viaRemote);
    expect(viaOfrep).toEqual(viaRemote.slice(0, OFREP_SAMPLE));
  });

  it('then each identity lands where Flagsmith’s hashing of its key puts it', () => {
    const expected = identifiers.map((identifier) => ({ identifier, colour: expectedColourBucket(w, identifier), earlyAdopter: expectedEarlyAdopter(w, identifier) }));
    expect(viaRemote).toEqual(expected);
  });

  it('when the same identities are asked again, then every answer is the same', async () => {
    const again = await mapConcurrently(identifiers.slice(0, 300), 32, async (identifier) => {
      const flags = await remote.getIdentityFlags(identifier, {}, true);
      return { identifier, colour: colourBucket(flags.getFeatureValue(f.colour.name)), earlyAdopter: flags.isFeatureEnabled(f.dashboard.name) };
    });
    expect(again).toEqual(viaRemote.slice(0, 300));
  });

  describe('given an environment that hashes identities by their own key rather than the composite key', () => {
    it('then an identity keeps its bucket from its first identify call on, and OFREP agrees', async () => {
      const created = obj(
        expectStatus(await w.admin.post(`${ADMIN}/projects/${w.projectId}/environments`, { name: 'Own keys', useIdentityCompositeKeyForHashing: false }), 201),
      );
      const key = str(created, 'apiKey');
      await OpenFeature.setProviderAndWait('distribution-own-keys', new OFREPProvider({ baseUrl: w.t.app.url, headers: { 'X-API-Key': key } }));
      const ownKeys = OpenFeature.getClient('distribution-own-keys');
      const sdk = nodeClient(w.apiUrl, key);
      const sample = identifiers.slice(0, 60);
      const answers = await mapConcurrently(sample, 16, async (identifier) => {
        const first = (await sdk.getIdentityFlags(identifier, { seen: 1 })).getFeatureValue(f.colour.name);
        const second = (await sdk.getIdentityFlags(identifier, { seen: 2 })).getFeatureValue(f.colour.name);
        const ofrep = await ownKeys.getStringValue(f.colour.name, 'none', { targetingKey: identifier });
        return { identifier, first, second, ofrep };
      });
      expect(answers.filter((answer) => answer.second !== answer.first || answer.ofrep !== answer.first)).toEqual([]);
      // Each identity was stored by its first call.
      expect(obj(expectStatus(await w.admin.get(`${ADMIN}/environments/${num(created, 'id')}/identities/${sample[0] ?? ''}`), 200))['traits']).toEqual({ seen: 2 });
      await sdk.close();
    });
  });
});
