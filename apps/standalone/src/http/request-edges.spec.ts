import { connect } from 'node:net';
import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { readHistory } from '../testing/history';
import { ADMIN, errorFields, obj, startTestApp, type ApiResponse, type Json, type Method, type TestApp } from '../testing/http-harness';

/** JSON text nesting arrays `levels` deep inside `{"name": …}`. */
const nested = (levels: number, key = 'name'): string => `{"${key}": ${'['.repeat(levels)}${']'.repeat(levels)}}`;

/** Sends raw bytes on a fresh connection and resolves with everything the server wrote before closing it. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no close within 5 s; got ${JSON.stringify(received)}`)));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' && received !== '' ? resolve(received) : reject(error)));
    socket.on('close', () => resolve(received));
    socket.on('connect', () => socket.write(bytes));
  });
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Json;
}

function parseRaw(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`not an HTTP response: ${JSON.stringify(text)}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '')?.[1]);
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const body = text.slice(split + 4);
  expect(Buffer.byteLength(body, 'latin1')).toBe(Number(headers['content-length']));
  return { status, headers, body: JSON.parse(body) as Json };
}

describe('Requests at the edges of HTTP and JSON', () => {
  let t: TestApp;
  let a: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'Edge');
  });

  afterAll(async () => {
    await t.dispose();
  });

  const expectError = (response: ApiResponse, status: number, code?: string): void => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(obj(response.body)).toMatchObject({ statusCode: status, error: expect.any(String), code: code ?? expect.any(String), message: expect.any(String) });
  };

  const send = async (method: Method, path: string, options: { raw?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> => {
    const { response, written } = await withoutWrites(t, () => t.admin.request(method, path, options));
    expect(written).toBe(0);
    return response;
  };

  describe('given a query parameter given more than once', () => {
    it.each([
      ['identities search', (s: OrganisationSetup) => `/environments/${s.environmentId}/identities?search=a&search=b`, ['search']],
      ['feature list filters', (s: OrganisationSetup) => `/projects/${s.projectId}/features?search=a&search=b&tag=${s.tagId}&tag=${s.tagId}`, ['search', 'tag']],
      ['organisation filter of projects', (s: OrganisationSetup) => `/projects?organisation=${s.organisationId}&organisation=${s.organisationId}`, ['organisation']],
      ['history page size and type', (s: OrganisationSetup) => `/projects/${s.projectId}/history?pageSize=5&pageSize=6&type=A&type=B`, ['pageSize', 'type']],
      ['analytics range', (s: OrganisationSetup) => `/environments/${s.environmentId}/analytics/flags?from=2026-01-01&from=2026-01-02`, ['from']],
      ['segment override filter', (s: OrganisationSetup) => `/environments/${s.environmentId}/segment-overrides?feature=${s.featureId}&feature=${s.featureId}`, ['feature']],
    ] as const)('when the %s is repeated, then 400 names each repeated parameter', async (_what, path, fields) => {
      const response = await send('GET', `${ADMIN}${path(a)}`);
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(new Set(errorFields(response.body))).toEqual(new Set(fields));
    });

    it('when a write has a repeated query parameter and a bad body, then 400 names both and nothing is written', async () => {
      const response = await send('POST', `${ADMIN}/projects/${a.projectId}/tags?x=1&x=2`, { body: { label: '' } });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(new Set(errorFields(response.body))).toEqual(new Set(['x', 'label']));
    });

    it('when a query parameter the route does not know is given once, then it is ignored', async () => {
      const response = await t.admin.get(`${ADMIN}/projects/${a.projectId}/features?unknown=1`);
      expect(response.status).toBe(200);
    });
  });

  describe('given JSON bodies nested too deep', () => {
    const writes: [Method, (s: OrganisationSetup) => string][] = [
      ['POST', () => '/organisations'],
      ['POST', () => '/users'],
      ['POST', () => '/projects'],
      ['PATCH', (s) => `/organisations/${s.organisationId}`],
      ['PATCH', (s) => `/projects/${s.projectId}`],
      ['POST', (s) => `/projects/${s.projectId}/features`],
      ['PATCH', (s) => `/projects/${s.projectId}/features/${s.featureId}`],
      ['POST', (s) => `/projects/${s.projectId}/segments`],
      ['PATCH', (s) => `/projects/${s.projectId}/segments/${s.segmentId}`],
      ['POST', (s) => `/projects/${s.projectId}/environments`],
      ['PATCH', (s) => `/environments/${s.environmentId}/feature-states/${s.featureId}`],
      ['POST', (s) => `/environments/${s.environmentId}/identities`],
      ['PATCH', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`],
      ['PUT', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/overrides/${s.featureId}`],
    ];

    it.each([2_000, 100_000])('when a body %i levels deep is sent to every write route, then each answers 400 JSON_TOO_DEEP and nothing is written', async (levels) => {
      const raw = nested(levels, 'traits');
      for (const [method, path] of writes) {
        const response = await send(method, `${ADMIN}${path(a)}`, { raw });
        expectError(response, 400, 'JSON_TOO_DEEP');
      }
    });

    it('when deep brackets are only inside a string, then the body is read as usual', async () => {
      const response = await t.admin.post(`${ADMIN}/projects/${a.projectId}/tags`, { label: 'deep', description: '['.repeat(150) });
      expect(response.status).toBe(201);
    });

    it('when a body is nested 64 levels deep, then it reaches validation, which names the field', async () => {
      const response = await send('POST', `${ADMIN}/projects/${a.projectId}/tags`, { raw: nested(63, 'label') });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(errorFields(response.body)).toContain('label');
    });

    it('when SDK and OFREP bodies are nested too deep, then each answers 400 in its API’s error shape and nothing is written', async () => {
      const sdk = t.client(null);
      const key = { 'x-environment-key': a.environmentKey };
      const identify = await send('POST', '/api/v1/identities/', { raw: `{"identifier": "deep", "traits": ${nested(5_000, 'x')}}`, headers: key });
      expectError(identify, 400, 'JSON_TOO_DEEP');
      const analytics = await send('POST', '/api/v1/analytics/flags/', { raw: nested(5_000, 'checkout'), headers: key });
      expectError(analytics, 400, 'JSON_TOO_DEEP');
      const ofrep = await sdk.request('POST', '/ofrep/v1/evaluate/flags/checkout', { raw: `{"context": ${nested(5_000, 'plan')}}`, headers: { 'x-api-key': a.environmentKey } });
      expect(ofrep.status).toBe(400);
      expect(obj(ofrep.body)).toMatchObject({ key: 'checkout', errorCode: 'PARSE_ERROR', errorDetails: expect.stringContaining('64 levels') });
      const bulk = await sdk.request('POST', '/ofrep/v1/evaluate/flags', { raw: `{"context": ${nested(5_000, 'plan')}}`, headers: { 'x-api-key': a.environmentKey } });
      expect(bulk.status).toBe(400);
      expect(obj(bulk.body)).toMatchObject({ errorCode: 'PARSE_ERROR' });
    });
  });

  describe('given a PATCH that would change nothing', () => {
    const patches: [string, (s: OrganisationSetup) => string][] = [
      ['user', (s) => `/users/${s.userId}`],
      ['organisation', (s) => `/organisations/${s.organisationId}`],
      ['member', (s) => `/organisations/${s.organisationId}/members/${s.userId}`],
      ['project', (s) => `/projects/${s.projectId}`],
      ['tag', (s) => `/projects/${s.projectId}/tags/${s.tagId}`],
      ['feature', (s) => `/projects/${s.projectId}/features/${s.featureId}`],
      ['multivariate option', (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options/${s.optionId}`],
      ['segment', (s) => `/projects/${s.projectId}/segments/${s.segmentId}`],
      ['environment', (s) => `/environments/${s.environmentId}`],
      ['feature state', (s) => `/environments/${s.environmentId}/feature-states/${s.featureId}`],
      ['segment override', (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}`],
      ['identity traits', (s) => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}/traits`],
    ];

    it.each(patches)('when the %s is patched with no body, then 400 names the body and nothing is written', async (_what, path) => {
      const response = await send('PATCH', `${ADMIN}${path(a)}`);
      expectError(response, 400, 'VALIDATION_FAILED');
      // Routes with a required field (a member's role, identity traits) name it as well.
      expect(obj(response.body)['errors']).toContainEqual({ field: 'body', message: expect.stringMatching(/JSON object .*at least one field/) });
    });

    it.each(patches)('when the %s is patched with an empty object, then 400 says there is nothing to change', async (_what, path) => {
      const response = await send('PATCH', `${ADMIN}${path(a)}`, { body: {} });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(obj(response.body)['errors']).toContainEqual({ field: 'body', message: 'must name at least one field to change' });
    });

    it('when traits are patched with an empty trait map, then 400 names traits and nothing is written', async () => {
      const response = await send('PATCH', `${ADMIN}/environments/${a.environmentId}/identities/${encodeURIComponent(a.identifier)}/traits`, { body: { traits: {} } });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(errorFields(response.body)).toEqual(['traits']);
    });

    it('when an empty PATCH also has a bad id, then 400 names both', async () => {
      const response = await send('PATCH', `${ADMIN}/projects/${a.projectId}/features/none`, { body: {} });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(new Set(errorFields(response.body))).toEqual(new Set(['featureId', 'body']));
    });

    it('when a PATCH names a field, then it still changes it', async () => {
      const response = await t.admin.patch(`${ADMIN}/projects/${a.projectId}/tags/${a.tagId}`, { description: 'changed' });
      expect(response.status).toBe(200);
      expect(obj(response.body)['description']).toBe('changed');
    });
  });

  describe('given requests that Node’s HTTP parser rejects', () => {
    const cases: [string, () => string, number, string][] = [
      ['headers past the size limit', () => `GET /admin/v1/users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['two different Content-Length headers', () => `POST /admin/v1/organisations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 400, 'MALFORMED_HTTP'],
      ['a chunk size that is not hexadecimal', () => `POST /admin/v1/organisations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, 'MALFORMED_HTTP'],
      ['both Content-Length and chunked', () => `POST /admin/v1/organisations HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'MALFORMED_HTTP'],
      ['an unknown method', () => `BREW /admin/v1/organisations HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'METHOD_UNKNOWN'],
      ['a request line that is not HTTP', () => `\u0001\u0002garbage\r\n\r\n`, 400, 'MALFORMED_HTTP'],
      ['a header line without a colon', () => `GET /admin/v1/users/me HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n`, 400, 'MALFORMED_HTTP'],
    ];

    it.each(cases)('when a request has %s, then a complete JSON error answers it and the connection closes', async (_what, request, status, code) => {
      const before = await t.app.store.headPosition();
      const text = await rawExchange(t.app.port, request());
      // A request whose body turns out malformed may be answered first (by the handler that was
      // reading it); the parser's error always comes last, before the connection closes.
      const response = parseRaw(text.slice(text.lastIndexOf('HTTP/1.1 ')));
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.headers['connection']).toBe('close');
      expect(response.body).toEqual({ detail: expect.any(String), statusCode: status, error: expect.any(String), code, message: expect.any(String) });
      expect(await t.app.store.headPosition()).toBe(before);
    });

    it('when a query string carries the longest identifier in 3-byte characters (18,000 bytes encoded), then it is read, not refused as too large', async () => {
      const identifier = '\u20AC'.repeat(2_000);
      expect(encodeURIComponent(identifier).length).toBe(18_000);
      const response = await t.client(null).get(`/api/v1/identities/?identifier=${encodeURIComponent(identifier)}&transient=true`, { headers: { 'x-environment-key': a.environmentKey } });
      expect(response.status).toBe(200);
      expect(obj(response.body)['flags']).toEqual(expect.any(Array));
    });

    it('when a bad request follows a good one on a kept-alive connection, then both are answered in order', async () => {
      const good = `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`;
      const text = await rawExchange(t.app.port, `${good}BREW / HTTP/1.1\r\nHost: x\r\n\r\n`);
      const second = text.indexOf('HTTP/1.1 400 Bad Request');
      expect(text.startsWith('HTTP/1.1 200')).toBe(true);
      expect(second).toBeGreaterThan(0);
      expect(parseRaw(text.slice(second)).body).toMatchObject({ statusCode: 400, code: 'METHOD_UNKNOWN' });
    });
  });

  describe('given tracing and idempotency headers', () => {
    it.each([
      ['an Idempotency-Key past 200 characters', { 'idempotency-key': 'k'.repeat(201) }, 'Idempotency-Key'],
      ['an X-Correlation-Id past 200 characters', { 'x-correlation-id': 'c'.repeat(5_000) }, 'X-Correlation-Id'],
      ['an X-Correlation-Id with a space', { 'x-correlation-id': 'two words' }, 'X-Correlation-Id'],
      ['an empty Idempotency-Key', { 'idempotency-key': '' }, 'Idempotency-Key'],
    ] as const)('when an admin write carries %s, then 400 names the header and nothing is written', async (_what, headers, field) => {
      const response = await send('POST', `${ADMIN}/projects/${a.projectId}/tags`, { body: { label: 'traced' }, headers });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(errorFields(response.body)).toEqual([field]);
    });

    it('when an admin write carries a 200-character correlation id, then it is kept in the history', async () => {
      const correlationId = `t-${'0123456789'.repeat(19)}12345678`;
      expect(correlationId).toHaveLength(200);
      const response = await t.admin.request('POST', `${ADMIN}/projects/${a.projectId}/tags`, { body: { label: 'traced-ok' }, headers: { 'x-correlation-id': correlationId } });
      expect(response.status).toBe(201);
      const history = await readHistory(t.admin, `/projects/${a.projectId}/history`, 500);
      expect(history.at(-1)).toMatchObject({ type: 'TagCreated', correlationId });
    });

    it('when an SDK identify carries an oversized correlation id, then it is answered and the stored event gets a new id instead', async () => {
      const response = await t.client(null).request('POST', '/api/v1/identities/', {
        body: { identifier: 'traced-sdk', traits: [{ trait_key: 'plan', trait_value: 'pro' }] },
        headers: { 'x-environment-key': a.environmentKey, 'x-correlation-id': 'c'.repeat(5_000) },
      });
      expect(response.status).toBe(200);
      const history = await readHistory(t.admin, `/environments/${a.environmentId}/identities/traced-sdk/history`, 50);
      expect(history.length).toBeGreaterThan(0);
      for (const entry of history) expect(entry['correlationId']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
