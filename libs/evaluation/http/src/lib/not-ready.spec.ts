import { EnvironmentRegistry } from '@flagline/evaluation-application';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { serveHandler, type ServedHandler } from './handler-server.testing';

/** A replica that has not loaded its read models answers 503 on every SDK and OFREP route, so a balancer passes the request on. */
describe('EvaluationHttpHandler before its read models are loaded', () => {
  let served: ServedHandler;
  let base = '';

  beforeAll(async () => {
    const registry = new EnvironmentRegistry(new InMemoryReadModelStore());
    expect(registry.ready).toBe(false);
    served = await serveHandler(registry);
    base = served.base;
  });

  afterAll(() => served.close());

  it.each([
    ['GET', '/api/v1/flags/', undefined],
    ['POST', '/api/v1/identities/', JSON.stringify({ identifier: 'ada' })],
    ['GET', '/api/v1/environment-document/', undefined],
    ['POST', '/ofrep/v1/evaluate/flags', JSON.stringify({ context: { targetingKey: 'ada' } })],
    ['POST', '/ofrep/v1/evaluate/flags/banner', JSON.stringify({ context: { targetingKey: 'ada' } })],
  ])('%s %s answers 503 NOT_READY', async (method, path, body) => {
    const response = await fetch(`${base}${path}`, { method, headers: { 'x-environment-key': 'key-seven', authorization: 'key-seven', 'content-type': 'application/json' }, ...(body ? { body } : {}) });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual(expect.objectContaining({ code: 'NOT_READY' }));
  });
});
