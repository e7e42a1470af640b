import { OFREPProvider } from '@openfeature/ofrep-provider';
import { ErrorCode, OpenFeature, StandardResolutionReasons, type Client, type Logger } from '@openfeature/server-sdk';
import { ADMIN, arr, expectStatus, obj, type ApiClient, type ApiResponse } from '../testing/http-harness';
import { expectedColourBucket, expectedEarlyAdopter, expectedFlags } from './testing/storefront.expectations';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f, segments: s } = STOREFRONT;

const silent: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/**
 * The OpenFeature server SDK with the OFREP provider against the standalone app's
 * `/ofrep/v1/evaluate/flags/{key}`, then the OFREP endpoints over raw HTTP.
 */
describe('OpenFeature with the OFREP provider', () => {
  let w: Storefront;
  let openFeature: Client;
  let serverSide: Client;
  let wrongKey: Client;
  let raw: ApiClient;
  const identifiers = Array.from({ length: 60 }, (_, index) => `ofrep-${index}`);

  const providerClient = async (domain: string, headers: Record<string, string>): Promise<Client> => {
    await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: w.t.app.url, headers }));
    const client = OpenFeature.getClient(domain);
    client.setLogger(silent);
    return client;
  };

  beforeAll(async () => {
    w = await startStorefront('Ofrep');
    openFeature = await providerClient('ofrep-client-key', { Authorization: `Bearer ${w.clientKey}` });
    serverSide = await providerClient('ofrep-server-key', { 'X-API-Key': w.serverKey });
    wrongKey = await providerClient('ofrep-wrong-key', { Authorization: 'Bearer not-a-key' });
    raw = w.t.client(null);
  });

  afterAll(async () => {
    await OpenFeature.close();
    await w.t.dispose();
  });

  const identifierWhere = (predicate: (identifier: string) => boolean): string => {
    const found = identifiers.find(predicate);
    if (found === undefined) throw new Error('no identifier of the sample fits');
    return found;
  };

  describe('evaluations through the SDK', () => {
    it('given an identity in the percentage split, when the on/off flag is evaluated as a boolean, then it is on by targeting match', async () => {
      const member = identifierWhere((identifier) => expectedEarlyAdopter(w, identifier));
      const details = await openFeature.getBooleanDetails(f.dashboard.name, false, { targetingKey: member });
      expect(details).toMatchObject({ value: true, reason: StandardResolutionReasons.TARGETING_MATCH });
      expect(details.flagMetadata).toMatchObject({ flagsmithReason: `TARGETING_MATCH; segment=${s.earlyAdopters.name}` });
      expect(details.errorCode).toBeUndefined();
    });

    it('given an identity outside the split, when the on/off flag is evaluated, then it is off with reason DISABLED', async () => {
      const outsider = identifierWhere((identifier) => !expectedEarlyAdopter(w, identifier));
      const details = await openFeature.getBooleanDetails(f.dashboard.name, true, { targetingKey: outsider });
      expect(details).toMatchObject({ value: false, reason: StandardResolutionReasons.DISABLED });
    });

    it('given the segment trait as an attribute, when a string flag is evaluated, then the segment override applies by targeting match', async () => {
      const details = await openFeature.getStringDetails(f.checkout.name, 'unset', { targetingKey: 'ofrep-pro', plan: 'pro' });
      expect(details).toMatchObject({ value: f.checkout.segmentValue, reason: StandardResolutionReasons.TARGETING_MATCH });
      expect(details.flagMetadata).toMatchObject({ enabled: true, flagsmithReason: `TARGETING_MATCH; segment=${s.pro.name}`, featureId: w.featureIds.checkout });
    });

    it('given no matching attribute, when a string flag is evaluated, then the environment default applies with reason DEFAULT', async () => {
      const details = await openFeature.getStringDetails(f.checkout.name, 'unset', { targetingKey: 'ofrep-free', plan: 'free' });
      expect(details).toMatchObject({ value: f.checkout.value, reason: StandardResolutionReasons.DEFAULT });
    });

    it('given the identity with an identity override, when evaluated with the segment trait, then the identity override wins', async () => {
      const details = await openFeature.getStringDetails(f.checkout.name, 'unset', { targetingKey: STOREFRONT.vip.identifier, plan: 'pro' });
      expect(details).toMatchObject({ value: f.checkout.vipValue, reason: StandardResolutionReasons.TARGETING_MATCH });
      expect(details.flagMetadata).toMatchObject({ flagsmithReason: 'TARGETING_MATCH; segment=identity_overrides' });
    });

    it('given a stored identity with the segment trait, when evaluated by its targeting key alone, then its stored traits apply', async () => {
      const identifier = 'ofrep-stored-pro';
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier, traits: { plan: 'pro' } }), 201);
      expect(await openFeature.getNumberValue(f.maxItems.name, 0, { targetingKey: identifier })).toBe(f.maxItems.segmentValue);
      // An attribute of the request beats the stored trait for this evaluation.
      expect(await openFeature.getNumberValue(f.maxItems.name, 0, { targetingKey: identifier, plan: 'free' })).toBe(f.maxItems.value);
    });

    it('when a number flag is evaluated, then the number comes back, overridden for the segment', async () => {
      expect(await openFeature.getNumberDetails(f.maxItems.name, 0, { targetingKey: 'ofrep-n1' })).toMatchObject({ value: f.maxItems.value, reason: 'DEFAULT' });
      expect(await openFeature.getNumberDetails(f.maxItems.name, 0, { targetingKey: 'ofrep-n2', plan: 'pro' })).toMatchObject({
        value: f.maxItems.segmentValue,
        reason: StandardResolutionReasons.TARGETING_MATCH,
      });
    });

    it('when the multivariate flag is evaluated for identities of every bucket, then each gets its variant with reason SPLIT, or the control value', async () => {
      const buckets = new Set<string>();
      for (const identifier of identifiers) {
        const bucket = expectedColourBucket(w, identifier);
        buckets.add(bucket);
        const details = await openFeature.getStringDetails(f.colour.name, 'none', { targetingKey: identifier });
        const expected = expectedFlags(w, identifier, {}, 'client')[f.colour.name];
        expect({ identifier, value: details.value, variant: details.variant }).toEqual({ identifier, value: expected?.value, variant: bucket });
        // No segment overrides this flag: its control value is Flagsmith's STATIC, and so OFREP's.
        expect(details.reason).toBe(bucket === 'control' ? StandardResolutionReasons.STATIC : StandardResolutionReasons.SPLIT);
      }
      expect(buckets).toEqual(new Set(['red', 'blue', 'control']));
    });

    it('when a disabled flag with a value is evaluated, then the reason is DISABLED', async () => {
      const details = await openFeature.getStringDetails(f.legacyExport.name, 'fallback', { targetingKey: 'ofrep-d1' });
      expect(details.reason).toBe(StandardResolutionReasons.DISABLED);
      expect(details.flagMetadata).toMatchObject({ enabled: false });
    });

    it('when an unknown flag is evaluated, then the default value comes back with FLAG_NOT_FOUND', async () => {
      const details = await openFeature.getBooleanDetails('no_such_flag', true, { targetingKey: 'ofrep-u1' });
      expect(details).toMatchObject({ value: true, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND });
    });

    it('when the multivariate flag is evaluated without a targeting key, then the default value comes back with TARGETING_KEY_MISSING', async () => {
      const details = await openFeature.getStringDetails(f.colour.name, 'none', {});
      expect(details).toMatchObject({ value: 'none', reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TARGETING_KEY_MISSING });
    });

    it('when a flag that does not depend on the identity is evaluated without a targeting key, then it is answered', async () => {
      expect(await openFeature.getStringDetails(f.welcome.name, 'none', {})).toMatchObject({ value: f.welcome.value, reason: 'STATIC' });
    });

    it('when a string flag is asked for as a number, then the default value comes back with TYPE_MISMATCH', async () => {
      const details = await openFeature.getNumberDetails(f.checkout.name, -1, { targetingKey: 'ofrep-t1' });
      expect(details).toMatchObject({ value: -1, errorCode: ErrorCode.TYPE_MISMATCH });
    });

    it('given a client-side key, then the server-key-only flag is not found; given a server-side key, it is served', async () => {
      expect(await openFeature.getStringDetails(f.internal.name, 'none', { targetingKey: 'ofrep-s1' })).toMatchObject({ value: 'none', errorCode: ErrorCode.FLAG_NOT_FOUND });
      expect(await serverSide.getStringDetails(f.internal.name, 'none', { targetingKey: 'ofrep-s1' })).toMatchObject({ value: f.internal.value, reason: 'STATIC' });
    });

    it('given an unknown key, when a flag is evaluated, then the default value comes back with an error', async () => {
      const details = await wrongKey.getStringDetails(f.welcome.name, 'offline', { targetingKey: 'ofrep-w1' });
      expect(details).toMatchObject({ value: 'offline', reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL });
    });

    it('when the admin API changes a flag, then the very next evaluation sees it', async () => {
      const path = `${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.welcome}`;
      expectStatus(await w.admin.patch(path, { value: 'Bonjour' }), 200);
      try {
        expect(await openFeature.getStringValue(f.welcome.name, 'none', { targetingKey: 'ofrep-c1' })).toBe('Bonjour');
      } finally {
        expectStatus(await w.admin.patch(path, { value: f.welcome.value }), 200);
      }
      expect(await openFeature.getStringValue(f.welcome.name, 'none', { targetingKey: 'ofrep-c1' })).toBe(f.welcome.value);
    });
  });

  describe('the OFREP endpoints over raw HTTP', () => {
    const bearer = (): Record<string, string> => ({ authorization: `Bearer ${w.clientKey}` });
    const bulk = (body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> =>
      raw.post('/ofrep/v1/evaluate/flags', body, { headers: { ...bearer(), ...headers } });
    const single = (key: string, rawBody: string, headers: Record<string, string> = bearer()): Promise<ApiResponse> =>
      raw.request('POST', `/ofrep/v1/evaluate/flags/${key}`, { raw: rawBody, headers });

    it('when flags are evaluated in bulk, then every flag the key may see is there, with an ETag', async () => {
      const response = await bulk({ context: { targetingKey: 'ofrep-bulk-1', plan: 'pro' } });
      expect(response.status).toBe(200);
      expect(response.etag).toMatch(/^(W\/)?".+"$/);
      const flags = arr(obj(response.body)['flags']).map(obj);
      const expected = expectedFlags(w, 'ofrep-bulk-1', { plan: 'pro' }, 'client');
      expect(flags.map((flag) => flag['key']).sort()).toEqual(Object.keys(expected).sort());
      expect(flags.find((flag) => flag['key'] === f.checkout.name)).toMatchObject({ value: f.checkout.segmentValue, reason: 'TARGETING_MATCH' });
    });

    it('given the ETag of a bulk answer, when the same request carries it in If-None-Match, then the answer is 304 without a body', async () => {
      const body = { context: { targetingKey: 'ofrep-bulk-2' } };
      const first = await bulk(body);
      const etag = first.etag ?? '';
      const again = await bulk(body, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect((await bulk(body, { 'if-none-match': `"other", ${etag}` })).status).toBe(304);
      expect((await bulk(body, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    });

    it('given the ETag of a bulk answer, when the context or the flags change, then the answer is 200 with a new ETag', async () => {
      const body = { context: { targetingKey: 'ofrep-bulk-3' } };
      const etag = (await bulk(body)).etag ?? '';
      const otherContext = await bulk({ context: { targetingKey: 'ofrep-bulk-3', plan: 'pro' } }, { 'if-none-match': etag });
      expect(otherContext.status).toBe(200);
      expect(otherContext.etag).not.toBe(etag);

      const path = `${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.legacyExport}`;
      expectStatus(await w.admin.patch(path, { value: 'xlsx' }), 200);
      try {
        const changed = await bulk(body, { 'if-none-match': etag });
        expect(changed.status).toBe(200);
        expect(changed.etag).not.toBe(etag);
      } finally {
        expectStatus(await w.admin.patch(path, { value: f.legacyExport.value }), 200);
      }
    });

    it('given no targeting key, when flags are evaluated in bulk, then the multivariate flag carries TARGETING_KEY_MISSING and the others are evaluated', async () => {
      const flags = arr(obj((await bulk({ context: {} })).body)['flags']).map(obj);
      expect(flags.find((flag) => flag['key'] === f.colour.name)).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
      expect(flags.find((flag) => flag['key'] === f.welcome.name)).toMatchObject({ value: f.welcome.value, reason: 'STATIC' });
    });

    it('when the body is not JSON, then the answer is 400 PARSE_ERROR, for one flag and in bulk', async () => {
      const one = await single(f.welcome.name, '{"context": ');
      expect(one.status).toBe(400);
      expect(one.body).toMatchObject({ key: f.welcome.name, errorCode: 'PARSE_ERROR' });
      const all = await raw.request('POST', '/ofrep/v1/evaluate/flags', { raw: 'not json', headers: bearer() });
      expect(all.status).toBe(400);
      expect(all.body).toMatchObject({ errorCode: 'PARSE_ERROR' });
    });

    it.each([
      ['a context that is not an object', '{"context": ["a"]}'],
      ['a context that is a string', '{"context": "user-1"}'],
      ['a targeting key that is not a string', '{"context": {"targetingKey": 42}}'],
      ['a body that is not an object', '[1, 2]'],
    ])('when the request has %s, then the answer is 400 INVALID_CONTEXT', async (_case, body) => {
      const one = await single(f.welcome.name, body);
      expect(one.status).toBe(400);
      expect(one.body).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
      const all = await raw.request('POST', '/ofrep/v1/evaluate/flags', { raw: body, headers: bearer() });
      expect(all.status).toBe(400);
      expect(all.body).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    });

    it('when an unknown flag is asked for, then the answer is 404 FLAG_NOT_FOUND with its key', async () => {
      const response = await single('no_such_flag', '{"context": {"targetingKey": "u"}}');
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ key: 'no_such_flag', errorCode: 'FLAG_NOT_FOUND' });
    });

    it('when no key is sent, then the answer is 401 with a JSON body', async () => {
      const response = await single(f.welcome.name, '{}', {});
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(obj(response.body)).toHaveProperty('errorDetails');
      expect((await raw.post('/ofrep/v1/evaluate/flags', {})).status).toBe(401);
    });

    it('when an unknown key is sent, then the answer is 403 with a JSON body', async () => {
      const response = await single(f.welcome.name, '{}', { authorization: 'Bearer nope' });
      expect(response.status).toBe(403);
      expect(obj(response.body)).toHaveProperty('errorDetails');
      expect((await raw.post('/ofrep/v1/evaluate/flags', {}, { headers: { 'x-api-key': 'ser.nope' } })).status).toBe(403);
    });

    it.each([
      ['Authorization: Bearer', (key: string) => ({ authorization: `Bearer ${key}` })],
      ['X-API-Key', (key: string) => ({ 'x-api-key': key })],
      ['X-Environment-Key', (key: string) => ({ 'x-environment-key': key })],
    ])('when the key is sent as %s, then the flag is evaluated', async (_how, headers) => {
      const response = await single(f.welcome.name, '{"context": {"targetingKey": "u"}}', headers(w.clientKey));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ key: f.welcome.name, value: f.welcome.value });
    });

    it('when the configuration is read, then it answers JSON', async () => {
      const response = await raw.get('/ofrep/v1/configuration', { headers: bearer() });
      expect(response.status).toBe(200);
      expect(obj(response.body)).toHaveProperty('capabilities');
    });
  });
});
