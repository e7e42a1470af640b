import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, errorFields, expectStatus, obj, str, startTestApp, type TestApp } from '../testing/http-harness';

/** `\ud800` as JSON text: an escape that JSON.parse turns into a string no UTF-8 can carry. */
const LONE = '\\ud800';

describe('request bodies holding a lone surrogate escape', () => {
  let t: TestApp;
  let s: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'unicode');
  });

  afterAll(() => t.dispose());

  it.each([
    ['an organisation name', 'POST', (): string => `${ADMIN}/organisations`, `{"name":"a${LONE}"}`],
    ['a rename', 'PATCH', (): string => `${ADMIN}/organisations/${s.organisationId}`, `{"name":"${LONE}"}`],
    ['a feature name', 'POST', (): string => `${ADMIN}/projects/${s.projectId}/features`, `{"name":"f${LONE}x"}`],
    ['a trait key', 'PATCH', (): string => `${ADMIN}/environments/${s.environmentId}/identities/${s.identifier}/traits`, `{"traits":{"\\udc00":1}}`],
    ['an identifier', 'POST', (): string => `${ADMIN}/environments/${s.environmentId}/identities`, `{"identifier":"${LONE}"}`],
  ] as const)('when the admin API gets one in %s, then it is a 400 naming the body and nothing is written', async (_what, method, path, raw) => {
    const { response, written } = await withoutWrites(t, () => t.admin.request(method, path(), { raw }));
    expect(response.status).toBe(400);
    expect(errorFields(response.body)).toEqual(['body']);
    expect(written).toBe(0);
  });

  it('when SDK identify gets one, then it is a 400 JSON_INVALID_UNICODE and no identity is stored', async () => {
    const sdk = t.client(null);
    for (const raw of [`{"identifier":"who${LONE}"}`, `{"identifier":"who","traits":[{"trait_key":"k","trait_value":"\\udfff"}]}`]) {
      const { response, written } = await withoutWrites(t, () => sdk.post('/api/v1/identities/', undefined, { raw, headers: { 'x-environment-key': s.environmentKey } }));
      expect(response.status).toBe(400);
      expect(obj(response.body)['code']).toBe('JSON_INVALID_UNICODE');
      expect(written).toBe(0);
    }
  });

  it('when OFREP gets one, then it is a 400 PARSE_ERROR, for one flag and for all', async () => {
    const sdk = t.client(null);
    const raw = `{"context":{"targetingKey":"t${LONE}"}}`;
    const headers = { 'x-api-key': s.environmentKey };
    const one = await sdk.post('/ofrep/v1/evaluate/flags/anything', undefined, { raw, headers });
    expect(one.status).toBe(400);
    expect(obj(one.body)).toMatchObject({ key: 'anything', errorCode: 'PARSE_ERROR' });
    const all = await sdk.post('/ofrep/v1/evaluate/flags', undefined, { raw, headers });
    expect(all.status).toBe(400);
    expect(obj(all.body)).toMatchObject({ errorCode: 'PARSE_ERROR' });
  });

  it.each(['utf-16le', 'utf-16', 'UTF-32'])('when a JSON body is declared in %s, then it is a 415 on every kind of route and nothing is written', async (charset) => {
    for (const path of [`${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, `${ADMIN}/organisations/${s.organisationId}`]) {
      const body = path.endsWith('/traits') ? '{"traits":{"score":5.0}}' : '{"name":"Renamed"}';
      const { response, written } = await withoutWrites(t, () =>
        fetch(`${t.app.url}${path}`, { method: 'PATCH', headers: { authorization: `Api-Key ${t.adminKey}`, 'content-type': `application/json; charset=${charset}` }, body: Buffer.from(body, 'utf16le') }).then(
          async (answer) => ({ status: answer.status, headers: answer.headers, etag: null, text: await answer.text(), body: null }),
        ),
      );
      expect({ path, status: response.status, code: (JSON.parse(response.text) as { code?: string }).code }).toEqual({ path, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(written).toBe(0);
    }
  });

  it('when a JSON body is declared UTF-8, in capitals or quoted, then it is read', async () => {
    for (const contentType of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"']) {
      const response = await t.admin.request('PATCH', `${ADMIN}/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`, { raw: '{"traits":{"score":5.0}}', headers: { 'content-type': contentType } });
      expect(response.text).toContain('"score":5.0');
    }
  });

  it('when the escapes form a surrogate pair, then the character is accepted and answered as sent', async () => {
    const created = obj(expectStatus(await t.admin.request('POST', `${ADMIN}/organisations`, { raw: '{"name":"smile \\ud83d\\ude00"}' }), 201));
    expect(str(created, 'name')).toBe('smile 😀');
    const identified = await t.client(null).post('/api/v1/identities/', undefined, { raw: '{"identifier":"\\ud83d\\ude00"}', headers: { 'x-environment-key': s.environmentKey } });
    expect(obj(expectStatus(identified, 200))['identifier']).toBe('😀');
  });
});
