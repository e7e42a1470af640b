import { request as httpRequest } from 'node:http';
import { ADMIN, arr, expectStatus, obj, str, type ApiClient, type ApiResponse, type Json, type JsonObject } from '../testing/http-harness';
import { expectedEarlyAdopter, expectedFlags } from './testing/storefront.expectations';
import { startStorefront, STOREFRONT, type Storefront } from './testing/storefront.fixture';

const { features: f } = STOREFRONT;

const flagNames = (body: Json): string[] => arr(body).map((flag) => str(obj(flag)['feature'], 'name')).sort();
const flagOf = (flags: Json, name: string): JsonObject | undefined => arr(flags).map(obj).find((flag) => str(obj(flag['feature']), 'name') === name);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Flagsmith's SDK-facing API over raw HTTP: authentication, the query options, settings that hide
 * flags, identities (transient, trait removal), the environment document's caching headers,
 * analytics, and malformed input that must be a 4xx, never a 5xx.
 */
describe('the Flagsmith SDK API over raw HTTP', () => {
  let w: Storefront;
  let api: ApiClient;
  const as = (key: string): { headers: Record<string, string> } => ({ headers: { 'x-environment-key': key } });

  beforeAll(async () => {
    w = await startStorefront('Edges');
    api = w.t.client(null);
  });

  afterAll(async () => {
    await w.t.dispose();
  });

  const storedIdentity = async (identifier: string): Promise<ApiResponse> =>
    w.admin.get(`${ADMIN}/environments/${w.environmentId}/identities/${encodeURIComponent(identifier)}`);
  const identify = (key: string, body: unknown): Promise<ApiResponse> => api.post('/api/v1/identities/', body, as(key));
  const patchEnvironment = async (body: Record<string, unknown>): Promise<void> => {
    expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}`, body), 200);
  };

  describe('authentication', () => {
    const routes: ReadonlyArray<readonly [string, 'GET' | 'POST', string, unknown]> = [
      ['flags', 'GET', '/api/v1/flags/', undefined],
      ['identities (POST)', 'POST', '/api/v1/identities/', { identifier: 'auth-check' }],
      ['identities (GET)', 'GET', '/api/v1/identities/?identifier=auth-check', undefined],
      ['environment document', 'GET', '/api/v1/environment-document/', undefined],
      ['analytics', 'POST', '/api/v1/analytics/flags/', { [f.welcome.name]: 1 }],
    ];

    it.each(routes)('given no key, when %s is called, then the answer is 401 with a JSON detail', async (_name, method, path, body) => {
      const response = await api.request(method, path, body === undefined ? {} : { body });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(str(response.body, 'detail')).toBe('Invalid or missing Environment key');
    });

    it.each(routes)('given an unknown key, when %s is called, then the answer is 403 with a JSON detail', async (_name, method, path, body) => {
      for (const key of ['not-a-key', 'ser.not-a-key']) {
        const response = await api.request(method, path, { ...as(key), ...(body === undefined ? {} : { body }) });
        expect(response.status).toBe(403);
        expect(str(response.body, 'detail')).toBe('Invalid or missing Environment key');
      }
    });

    it('given a deleted server-side key, when it is used, then the answer is 403', async () => {
      const created = obj(expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/api-keys`, { name: 'short-lived' }), 201));
      expect((await api.get('/api/v1/flags/', as(str(created, 'key')))).status).toBe(200);
      expect((await w.admin.delete(`${ADMIN}/environments/${w.environmentId}/api-keys/${str(created, 'id')}`)).status).toBe(204);
      expect((await api.get('/api/v1/flags/', as(str(created, 'key')))).status).toBe(403);
    });
  });

  describe('environment flags', () => {
    it('when one feature is asked for by name, then only that flag comes back', async () => {
      const response = await api.get(`/api/v1/flags/?feature=${f.checkout.name}`, as(w.clientKey));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ feature: { name: f.checkout.name, id: w.featureIds.checkout }, feature_state_value: f.checkout.value, enabled: true });
    });

    it('when an unknown feature is asked for by name, then the answer is 404 with a JSON detail', async () => {
      const response = await api.get('/api/v1/flags/?feature=no_such_feature', as(w.clientKey));
      expect(response.status).toBe(404);
      expect(str(response.body, 'detail')).toBe('Given feature not found');
    });

    it('given the server-key-only feature, then client-side keys do not see it, by list or by name, and server-side keys do', async () => {
      expect(flagNames((await api.get('/api/v1/flags/', as(w.clientKey))).body)).not.toContain(f.internal.name);
      expect((await api.get(`/api/v1/flags/?feature=${f.internal.name}`, as(w.clientKey))).status).toBe(404);
      const identity = await identify(w.clientKey, { identifier: 'edge-hidden', transient: true });
      expect(flagNames(obj(identity.body)['flags'] ?? null)).not.toContain(f.internal.name);
      expect(flagNames((await api.get('/api/v1/flags/', as(w.serverKey))).body)).toContain(f.internal.name);
      expect((await api.get(`/api/v1/flags/?feature=${f.internal.name}`, as(w.serverKey))).status).toBe(200);
    });

    it('then the answer carries the document time in X-Flagsmith-Document-Updated-At (epoch seconds)', async () => {
      const header = (await api.get('/api/v1/flags/', as(w.clientKey))).headers.get('x-flagsmith-document-updated-at');
      expect(Math.abs(Number(header) - Date.now() / 1000)).toBeLessThan(600);
    });

    describe('given the environment hides disabled flags', () => {
      beforeAll(async () => {
        await patchEnvironment({ hideDisabledFlags: true });
      });

      afterAll(async () => {
        await patchEnvironment({ hideDisabledFlags: null });
      });

      it('then disabled flags are left out of environment flags, by list and by name', async () => {
        const expected = Object.values(expectedFlags(w, null, {}, 'client')).filter((flag) => flag.enabled).map((flag) => flag.name).sort();
        expect(flagNames((await api.get('/api/v1/flags/', as(w.clientKey))).body)).toEqual(expected);
        expect((await api.get(`/api/v1/flags/?feature=${f.legacyExport.name}`, as(w.clientKey))).status).toBe(404);
      });

      it('then an identity’s flags leave out what is disabled for that identity only', async () => {
        const member = Array.from({ length: 40 }, (_, index) => `edge-hide-${index}`).find((identifier) => expectedEarlyAdopter(w, identifier)) ?? '';
        const names = flagNames(obj((await identify(w.clientKey, { identifier: member, transient: true })).body)['flags'] ?? null);
        expect(names).toContain(f.dashboard.name);
        expect(names).not.toContain(f.legacyExport.name);
      });
    });

    it('given the project hides disabled flags and the environment follows the project, then disabled flags are left out', async () => {
      expectStatus(await w.admin.patch(`${ADMIN}/projects/${w.projectId}`, { hideDisabledFlags: true }), 200);
      try {
        expect(flagNames((await api.get('/api/v1/flags/', as(w.clientKey))).body)).not.toContain(f.legacyExport.name);
        await patchEnvironment({ hideDisabledFlags: false });
        expect(flagNames((await api.get('/api/v1/flags/', as(w.clientKey))).body)).toContain(f.legacyExport.name);
      } finally {
        await patchEnvironment({ hideDisabledFlags: null });
        expectStatus(await w.admin.patch(`${ADMIN}/projects/${w.projectId}`, { hideDisabledFlags: false }), 200);
      }
      expect(flagNames((await api.get('/api/v1/flags/', as(w.clientKey))).body)).toContain(f.legacyExport.name);
    });

    it('given the environment hides sensitive data, then flags carry no ids or descriptions and identities no traits', async () => {
      await patchEnvironment({ hideSensitiveData: true });
      try {
        const flag = obj((await api.get(`/api/v1/flags/?feature=${f.welcome.name}`, as(w.clientKey))).body);
        expect(flag).toMatchObject({ id: null, environment: null, feature: { name: f.welcome.name, description: null, created_date: null }, feature_state_value: f.welcome.value });
        const identity = obj((await identify(w.serverKey, { identifier: 'edge-sensitive', transient: true, traits: [{ trait_key: 'plan', trait_value: 'pro' }] })).body);
        expect(identity['traits']).toEqual([]);
        expect(flagOf(identity['flags'] ?? null, f.checkout.name)).toMatchObject({ feature_state_value: f.checkout.segmentValue });
      } finally {
        await patchEnvironment({ hideSensitiveData: false });
      }
    });
  });

  describe('identities', () => {
    it('when an identity is transient, then its traits decide the flags but neither it nor they are stored', async () => {
      const response = await identify(w.clientKey, { identifier: 'edge-transient', transient: true, traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
      expect(response.status).toBe(200);
      expect(flagOf(obj(response.body)['flags'] ?? null, f.checkout.name)).toMatchObject({ feature_state_value: f.checkout.segmentValue });
      expect(obj(response.body)['traits']).toEqual([{ trait_key: 'plan', trait_value: 'pro', transient: true }]);
      expect((await storedIdentity('edge-transient')).status).toBe(404);
    });

    it('when one trait is transient, then only the others are stored', async () => {
      const traits = [
        { trait_key: 'plan', trait_value: 'pro', transient: true },
        { trait_key: 'country', trait_value: 'FR' },
      ];
      expectStatus(await identify(w.clientKey, { identifier: 'edge-trait-transient', traits }), 200);
      expect(obj(expectStatus(await storedIdentity('edge-trait-transient'), 200))['traits']).toEqual({ country: 'FR' });
    });

    it('when a trait is sent with the value null, then it is removed from the identity and no longer matches', async () => {
      const identifier = 'edge-trait-removal';
      expectStatus(await identify(w.serverKey, { identifier, traits: [{ trait_key: 'plan', trait_value: 'pro' }, { trait_key: 'seats', trait_value: 5 }] }), 200);
      expect(obj(expectStatus(await storedIdentity(identifier), 200))['traits']).toEqual({ plan: 'pro', seats: 5 });

      const response = await identify(w.serverKey, { identifier, traits: [{ trait_key: 'plan', trait_value: null }] });
      expect(obj(response.body)['traits']).toEqual([{ trait_key: 'seats', trait_value: 5, transient: false }]);
      expect(flagOf(obj(response.body)['flags'] ?? null, f.checkout.name)).toMatchObject({ feature_state_value: f.checkout.value });
      expect(obj(expectStatus(await storedIdentity(identifier), 200))['traits']).toEqual({ seats: 5 });
    });

    it('when an identity is read with GET, then its stored traits decide its flags, and ?feature= narrows the flags', async () => {
      const identifier = 'edge-get-identity';
      expectStatus(await w.admin.post(`${ADMIN}/environments/${w.environmentId}/identities`, { identifier, traits: { plan: 'pro' } }), 201);
      const response = await api.get(`/api/v1/identities/?identifier=${identifier}`, as(w.clientKey));
      expect(response.status).toBe(200);
      expect(obj(response.body)).toMatchObject({ identifier, traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
      expect(flagOf(obj(response.body)['flags'] ?? null, f.checkout.name)).toMatchObject({ feature_state_value: f.checkout.segmentValue, reason: `TARGETING_MATCH; segment=${STOREFRONT.segments.pro.name}` });
      const narrowed = await api.get(`/api/v1/identities/?identifier=${identifier}&feature=${f.maxItems.name}`, as(w.clientKey));
      expect(flagNames(obj(narrowed.body)['flags'] ?? null)).toEqual([f.maxItems.name]);
    });

    it('when GET has no identifier, then the answer is 400', async () => {
      expect((await api.get('/api/v1/identities/', as(w.clientKey))).status).toBe(400);
      expect((await api.get('/api/v1/identities/?identifier=', as(w.clientKey))).status).toBe(400);
    });

    it('when POST has traits but no identifier, then flags are evaluated for a derived identifier that is not stored', async () => {
      const response = await identify(w.clientKey, { traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
      expect(response.status).toBe(200);
      const identifier = str(response.body, 'identifier');
      expect(flagOf(obj(response.body)['flags'] ?? null, f.maxItems.name)).toMatchObject({ feature_state_value: f.maxItems.segmentValue });
      expect((await storedIdentity(identifier)).status).toBe(404);
    });

    it.each([
      ['traits that are not a list', { identifier: 'edge-bad', traits: { plan: 'pro' } }, 'traits'],
      ['a trait without a key', { identifier: 'edge-bad', traits: [{ trait_value: 'pro' }] }, 'traits[0].trait_key'],
      ['a trait value that is an object', { identifier: 'edge-bad', traits: [{ trait_key: 'plan', trait_value: { nested: true } }] }, 'traits[0].trait_value'],
      ['an identifier that is a number', { identifier: 42 }, 'identifier'],
      ['an identifier over 2000 characters', { identifier: 'x'.repeat(2001) }, 'identifier'],
      ['transient that is not a boolean', { identifier: 'edge-bad', transient: 'yes' }, 'transient'],
    ])('when POST has %s, then the answer is 400 naming the field', async (_case, body, field) => {
      const response = await identify(w.clientKey, body);
      expect(response.status).toBe(400);
      expect(arr(obj(response.body)['errors']).map((error) => str(error, 'field'))).toContain(field);
      expect((await storedIdentity('edge-bad')).status).toBe(404);
    });
  });

  describe('environment document', () => {
    it('given a client-side key, then the environment document is refused with 403', async () => {
      const response = await api.get('/api/v1/environment-document/', as(w.clientKey));
      expect(response.status).toBe(403);
      expect(obj(response.body)).toHaveProperty('detail');
    });

    it('given a server-side key, then the document holds what the admin API set up, with Last-Modified', async () => {
      const response = await api.get('/api/v1/environment-document/', as(w.serverKey));
      expect(response.status).toBe(200);
      const document = obj(response.body);
      expect(document['api_key']).toBe(w.clientKey);
      expect(arr(document['feature_states']).map((state) => str(obj(state)['feature'], 'name')).sort()).toEqual(Object.values(f).map((feature) => feature.name).sort());
      expect(arr(obj(document['project'])['segments']).map((segment) => str(segment, 'name')).sort()).toEqual(Object.values(STOREFRONT.segments).map((segment) => segment.name).sort());
      expect(arr(document['identity_overrides']).map((identity) => str(identity, 'identifier'))).toContain(STOREFRONT.vip.identifier);
      expect(Number.isNaN(Date.parse(response.headers.get('last-modified') ?? ''))).toBe(false);
    });

    it('given an unchanged document, when If-Modified-Since repeats Last-Modified, then the answer is 304; after an admin change it is 200 again', async () => {
      // Last-Modified has second precision: a document is only called unmodified once it is settled.
      await sleep(2100);
      const first = await api.get('/api/v1/environment-document/', as(w.serverKey));
      const lastModified = first.headers.get('last-modified') ?? '';
      const again = await api.get('/api/v1/environment-document/', { headers: { ...as(w.serverKey).headers, 'if-modified-since': lastModified } });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');

      expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.welcome}`, { value: 'Changed' }), 200);
      try {
        const changed = await api.get('/api/v1/environment-document/', { headers: { ...as(w.serverKey).headers, 'if-modified-since': lastModified } });
        expect(changed.status).toBe(200);
        expect(JSON.stringify(changed.body)).toContain('"Changed"');
      } finally {
        expectStatus(await w.admin.patch(`${ADMIN}/environments/${w.environmentId}/feature-states/${w.featureIds.welcome}`, { value: f.welcome.value }), 200);
      }
    });

    it('when If-Modified-Since is not a date, then the document is sent', async () => {
      expect((await api.get('/api/v1/environment-document/', { headers: { ...as(w.serverKey).headers, 'if-modified-since': 'yesterday' } })).status).toBe(200);
    });
  });

  describe('analytics', () => {
    const totals = async (): Promise<JsonObject> => obj(obj(expectStatus(await w.admin.get(`${ADMIN}/environments/${w.environmentId}/analytics/flags`), 200))['totals']);
    const count = (from: JsonObject, name: string): number => {
      const value = from[name];
      return typeof value === 'number' ? value : 0;
    };

    it('when counts are posted, then the known features’ integer counts are added and readable through the admin API', async () => {
      const before = await totals();
      const response = await api.post('/api/v1/analytics/flags/', { [f.welcome.name]: 3, [f.checkout.name]: 2, no_such_feature: 5, [f.maxItems.name]: 'many' }, as(w.clientKey));
      expect(response.status).toBe(200);
      expectStatus(await api.post('/api/v1/analytics/flags/', { [f.welcome.name]: 4 }, as(w.serverKey)), 200);
      const after = await totals();
      expect(count(after, f.welcome.name) - count(before, f.welcome.name)).toBe(7);
      expect(count(after, f.checkout.name) - count(before, f.checkout.name)).toBe(2);
      expect(count(after, f.maxItems.name)).toBe(count(before, f.maxItems.name));
      expect(after).not.toHaveProperty('no_such_feature');
    });

    it('when the body is not an object, then the answer is 400', async () => {
      expect((await api.post('/api/v1/analytics/flags/', [f.welcome.name], as(w.clientKey))).status).toBe(400);
      expect((await api.request('POST', '/api/v1/analytics/flags/', { ...as(w.clientKey), raw: '{"welcome_message": ' })).status).toBe(400);
    });
  });

  describe('malformed requests', () => {
    it.each(['/api/v1/identities/', '/api/v1/analytics/flags/'])('when %s gets a body that is not JSON, then the answer is 400 with a JSON body', async (path) => {
      const response = await api.request('POST', path, { ...as(w.clientKey), raw: '{"identifier": "x", ' });
      expect(response.status).toBe(400);
      expect(obj(response.body)).toHaveProperty('detail');
    });

    it('when a route gets a method it does not take, then the answer is 405', async () => {
      expect((await api.request('DELETE', '/api/v1/flags/', as(w.clientKey))).status).toBe(405);
      expect((await api.request('GET', '/api/v1/analytics/flags/', as(w.clientKey))).status).toBe(405);
    });

    it('when a body is larger than allowed, then the answer is 413', async () => {
      const response = await api.request('POST', '/api/v1/identities/', { ...as(w.clientKey), raw: JSON.stringify({ identifier: 'big', padding: 'x'.repeat(2 * 1024 * 1024) }) });
      expect(response.status).toBe(413);
    });

    it.each([
      ['with a declared length, arriving in pieces', true],
      ['chunked, without a declared length', false],
    ])('when a body comes %s, then it is read whole', async (_label, declareLength) => {
      const body = JSON.stringify({ identifier: 'in-pieces', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
      const expected = await api.request('POST', '/api/v1/identities/', { ...as(w.serverKey), raw: body });
      expect(expected.status).toBe(200);
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const headers: Record<string, string | number> = { 'x-environment-key': w.serverKey, 'content-type': 'application/json' };
        if (declareLength) headers['content-length'] = Buffer.byteLength(body);
        const request = httpRequest(`${w.t.app.url}/api/v1/identities/`, { method: 'POST', headers }, (response) => {
          let received = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (received += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: received }));
        });
        request.on('error', reject);
        request.flushHeaders();
        request.write(body.slice(0, 10));
        setTimeout(() => {
          request.write(body.slice(10, 30));
          setTimeout(() => request.end(body.slice(30)), 20);
        }, 20);
      });
      expect(status).toBe(200);
      expect(JSON.parse(text)).toEqual(expected.body);
    });

    /** Posts a chunked body in the pieces given; resolves with the answer, or 0 if the connection closed first. */
    const postInPieces = (path: string, pieces: readonly string[], abortAfter?: number): Promise<{ status: number; text: string }> =>
      new Promise((resolve) => {
        const request = httpRequest(`${w.t.app.url}${path}`, { method: 'POST', headers: { 'x-environment-key': w.serverKey, 'content-type': 'application/json' } }, (response) => {
          let received = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (received += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: received }));
        });
        request.on('error', () => resolve({ status: 0, text: '' }));
        request.flushHeaders();
        const next = (at: number): void => {
          if (at === abortAfter) return void setTimeout(() => request.destroy(), 20);
          if (at === pieces.length) return void request.end();
          if (request.destroyed) return;
          request.write(pieces[at], () => setTimeout(() => next(at + 1), 5));
        };
        next(0);
      });

    it.each(['/api/v1/identities/', '/ofrep/v1/evaluate/flags'])('when a chunked body to %s grows past the limit, then the answer is 413 and nothing is stored', async (path) => {
      const piece = 'x'.repeat(256 * 1024);
      const pieces = [`{"identifier": "too-big", "context": {"targetingKey": "too-big"}, "padding": "`, ...Array.from({ length: 6 }, () => piece), '"}'];
      const { status, text } = await postInPieces(path, pieces);
      expect(status).toBe(413);
      expect(JSON.parse(text)).toEqual(expect.objectContaining({ detail: expect.stringContaining('at most') }));
      expectStatus(await storedIdentity('too-big'), 404);
    });

    it('when a client goes away in the middle of a body, then nothing is stored and the next identify on the server is answered', async () => {
      const { status } = await postInPieces('/api/v1/identities/', ['{"identifier": "gone-away", ', '"traits": [{"trait_key": "plan", '], 2);
      expect(status).toBe(0);
      const next = await identify(w.serverKey, { identifier: 'after-gone-away', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
      expect(next.status).toBe(200);
      expectStatus(await storedIdentity('gone-away'), 404);
    });

    it('when a browser sends a preflight, then CORS allows the SDK headers', async () => {
      const response = await api.request('OPTIONS' as 'GET', '/api/v1/flags/', { headers: { origin: 'https://shop.example', 'access-control-request-headers': 'x-environment-key' } });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-headers')).toMatch(/x-environment-key/);
    });

    it('when odd requests arrive on every route, then none is answered with a 5xx', async () => {
      const bodies = ['', 'null', '[]', '"text"', '42', '{}', '{"identifier": null}', '{"identifier": "", "traits": null}', '{"traits": [null, 1, "x"]}',
        '{"identifier": "odd", "traits": [{"trait_key": "__proto__", "trait_value": "x"}, {"trait_key": "constructor", "trait_value": 1}]}',
        '{"identifier": "odd", "traits": [{"trait_key": "n", "trait_value": 1e309}]}', '{"context": {"targetingKey": "odd", "__proto__": {"plan": "pro"}}}',
        `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`, '\u0000\u0001', '{"identifier": "\ud800"}', '{"__proto__": 1}'];
      const paths = ['/api/v1/flags/', '/api/v1/flags/?feature=', `/api/v1/flags/?feature=%ZZ`, '/api/v1/identities/', '/api/v1/identities/?identifier=%E0%A4%A',
        '/api/v1/environment-document/', '/api/v1/analytics/flags/', '/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/%E0%A4%A', '/ofrep/v1/evaluate/flags/__proto__', '/ofrep/v1/configuration'];
      const failures: string[] = [];
      for (const path of paths)
        for (const key of [w.clientKey, w.serverKey])
          for (const method of ['GET', 'POST'] as const)
            for (const body of method === 'GET' ? [undefined] : bodies) {
              const response = await api.request(method, path, { ...as(key), ...(body !== undefined ? { raw: body } : {}) });
              if (response.status >= 500 || (response.text !== '' && response.body === null))
                failures.push(`${method} ${path} ${body?.slice(0, 40) ?? ''} → ${response.status} ${response.text.slice(0, 100)}`);
            }
      expect(failures).toEqual([]);
    });
  });
});
