import { EnvironmentRegistry, FlagsmithSdkService, OfrepService } from '@flagline/evaluation-application';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EvaluationHttpHandler } from './evaluation-http.handler';
import { SdkIncomingMessage } from './sdk-incoming-message';

/** A replica that has not loaded its read models answers 503 on every SDK and OFREP route, so a balancer passes the request on. */
describe('EvaluationHttpHandler before its read models are loaded', () => {
  let server: Server;
  let base = '';

  beforeAll(async () => {
    const registry = new EnvironmentRegistry(new InMemoryReadModelStore());
    expect(registry.ready).toBe(false);
    const handler = new EvaluationHttpHandler(registry, new FlagsmithSdkService(registry), new OfrepService(registry));
    server = createServer({ IncomingMessage: SdkIncomingMessage }, (request, response) => {
      if (!handler.handle(request, response)) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

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
