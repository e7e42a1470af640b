import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { ADMIN, arr, expectStatus, num, obj, startTestApp, str, type TestApp } from '../testing/http-harness';

/**
 * What OFREP answers for flags without a variant and for empty values: `variant` is a string in
 * OFREP's schema, so a flag without one omits it; a value set to `""` is the string `""`, and
 * only a flag with no value at all answers its enabled state.
 */
describe('OFREP values and variants', () => {
  let t: TestApp;
  let clientKey: string;
  let openFeature: Client;

  beforeAll(async () => {
    t = await startTestApp();
    const organisation = num(expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name: 'OfrepValues' }), 201), 'id');
    const project = num(expectStatus(await t.admin.post(`${ADMIN}/projects`, { organisation, name: 'OfrepValues' }), 201), 'id');
    clientKey = str(expectStatus(await t.admin.post(`${ADMIN}/projects/${project}/environments`, { name: 'Production' }), 201), 'apiKey');
    for (const feature of [
      { name: 'empty_text', defaultEnabled: true, initialValue: '' },
      { name: 'no_value', defaultEnabled: true },
      { name: 'text', defaultEnabled: true, initialValue: 'blue' },
      { name: 'split', defaultEnabled: true, initialValue: 'control', multivariateOptions: [{ value: 'treatment', key: 'treatment', defaultPercentageAllocation: 100 }] },
    ])
      expectStatus(await t.admin.post(`${ADMIN}/projects/${project}/features`, feature), 201);
    await OpenFeature.setProviderAndWait('ofrep-values', new OFREPProvider({ baseUrl: t.app.url, headers: { 'X-API-Key': clientKey } }));
    openFeature = OpenFeature.getClient('ofrep-values');
  });

  afterAll(async () => {
    await OpenFeature.close();
    await t.dispose();
  });

  const bulk = async () => {
    const response = await t.client(null).post('/ofrep/v1/evaluate/flags', { context: { targetingKey: 'user-1' } }, { headers: { 'x-api-key': clientKey } });
    expectStatus(response, 200);
    return { text: response.text, flags: Object.fromEntries(arr(obj(response.body)['flags']).map((flag) => [str(flag, 'key'), obj(flag)])) };
  };

  it('when flags are evaluated in bulk, then only the multivariate flag carries a variant, and none carries a null one', async () => {
    const { text, flags } = await bulk();
    expect(text).not.toContain('"variant":null');
    expect(Object.keys(flags).sort()).toEqual(['empty_text', 'no_value', 'split', 'text']);
    expect(flags['split']).toMatchObject({ value: 'treatment', variant: 'treatment', reason: 'SPLIT' });
    for (const name of ['empty_text', 'no_value', 'text']) expect(Object.hasOwn(flags[name] ?? {}, 'variant')).toBe(false);
  });

  it('when a flag’s value is the empty string, then it answers the string "", and a flag without a value its enabled state', async () => {
    const { flags } = await bulk();
    expect(flags['empty_text']).toMatchObject({ value: '' });
    expect(flags['no_value']).toMatchObject({ value: true });
    expect(flags['text']).toMatchObject({ value: 'blue' });
    const details = await openFeature.getStringDetails('empty_text', 'fallback', { targetingKey: 'user-1' });
    expect(details.value).toBe('');
    expect(details.errorCode).toBeUndefined();
  });

  it('when a flag no segment overrides is evaluated, then its reason is STATIC, as Flagsmith gives it', async () => {
    const { flags } = await bulk();
    expect(flags['text']).toMatchObject({ reason: 'STATIC', metadata: { flagsmithReason: 'STATIC' } });
  });
});
