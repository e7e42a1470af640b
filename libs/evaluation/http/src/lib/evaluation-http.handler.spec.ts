import { readModelKeys, type EnvironmentDocument } from '@flagline/contracts';
import { EnvironmentRegistry } from '@flagline/evaluation-application';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { serveHandler, type ServedHandler } from './handler-server.testing';

const environment = (environmentId: number, apiKey: string, updatedAt: string): EnvironmentDocument => ({
  schemaVersion: 1,
  environmentId,
  name: `Environment ${environmentId}`,
  apiKey,
  serverKeys: [],
  settings: { hideDisabledFlags: null, allowClientTraits: true, hideSensitiveData: false, useIdentityCompositeKeyForHashing: false, useIdentityOverridesInLocalEval: true },
  project: { id: 3, name: 'Storefront', organisationId: 1, hideDisabledFlags: false },
  features: [],
  segments: [],
  identityOverrides: [],
  revision: 1,
  updatedAt,
});

/** The SDK API's answers on a real node:http server: status, headers and body as a client reads them. */
describe('EvaluationHttpHandler answers', () => {
  let served: ServedHandler;
  let registry: EnvironmentRegistry;
  let base = '';

  beforeAll(async () => {
    const store = new InMemoryReadModelStore();
    await store.commit({
      checkpoint: { key: 'spec', expected: 0, next: 1 },
      writes: [
        { key: readModelKeys.environment(7), value: environment(7, 'key-seven', '2026-01-01T00:00:00.000Z') },
        { key: readModelKeys.environment(8), value: environment(8, 'key-eight', '2026-02-01T00:00:00.000Z') },
      ],
      changedEnvironments: [],
    });
    registry = new EnvironmentRegistry(store);
    await registry.start();
    served = await serveHandler(registry);
    base = served.base;
  });

  afterAll(async () => {
    registry.stop();
    await served.close();
  });

  const identify = (key: string, body: string): Promise<Response> =>
    fetch(`${base}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': key, 'content-type': 'application/json' }, body });

  it("answers identify calls of environments in turn with each one's headers, CORS, type and exact length", async () => {
    for (const [key, updatedAt] of [
      ['key-seven', String(Date.parse('2026-01-01T00:00:00.000Z') / 1000)],
      ['key-eight', String(Date.parse('2026-02-01T00:00:00.000Z') / 1000)],
      ['key-seven', String(Date.parse('2026-01-01T00:00:00.000Z') / 1000)],
    ] as const) {
      const response = await identify(key, JSON.stringify({ identifier: 'ada', traits: [{ trait_key: 'plan', trait_value: 'pro' }], transient: true }));
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(200);
      expect(response.headers.get('x-flagsmith-document-updated-at')).toBe(updatedAt);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-expose-headers')).toBe('etag, last-modified, x-flagsmith-document-updated-at');
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('content-length')).toBe(String(body.length));
      expect(JSON.parse(body.toString('utf8'))).toEqual({
        identifier: 'ada',
        flags: [],
        traits: [{ trait_key: 'plan', trait_value: 'pro', transient: true }],
      });
    }
  });

  it('answers a validation problem with a 400 naming the field, and a wrong method with a 405 naming the methods, CORS headers on both', async () => {
    const invalid = await identify('key-seven', JSON.stringify({ identifier: 'ada', traits: [{ trait_key: 'plan', trait_value: 'pro' }, { trait_key: '', trait_value: 1 }, 'x'] }));
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe('*');
    expect(invalid.headers.get('content-type')).toBe('application/json');
    expect(((await invalid.json()) as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['traits[1].trait_key', 'traits[2]']);

    const wrongMethod = await fetch(`${base}/api/v1/flags/`, { method: 'DELETE', headers: { 'x-environment-key': 'key-seven' } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(wrongMethod.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await wrongMethod.json()) as { code: string }).code).toBe('METHOD_NOT_ALLOWED');
  });
});
