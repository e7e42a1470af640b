import { FloatNumber } from '@flagline/python-compat';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpIdentityWriter } from './http-identity-writer';

describe('HttpIdentityWriter', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        bodies.push(text);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('when a trait was written 5.0, then the command service is sent 5.0, and ints stay ints', async () => {
    const writer = new HttpIdentityWriter(url, 'token-token-token-token');
    await writer.record({
      environmentId: 1,
      identifier: 'ada',
      traits: { score: new FloatNumber(5), age: 18, ratio: 0.5, gone: null },
      actor: { keyKind: 'server', keyPrefix: 'ser.' },
      correlationId: 'c-1',
    });
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('"traits":{"score":5.0,"age":18,"ratio":0.5,"gone":null}');
  });

  it('does not send the in-process hint that the identity was not found (the internal API refuses unknown fields)', async () => {
    const writer = new HttpIdentityWriter(url, 'token-token-token-token');
    await writer.record({ environmentId: 1, identifier: 'new-one', traits: {}, actor: { keyKind: 'server', keyPrefix: 'ser.' }, correlationId: 'c-2', absent: true });
    expect(JSON.parse(bodies.at(-1) as string)).toEqual({ environmentId: 1, identifier: 'new-one', traits: {}, actor: { keyKind: 'server', keyPrefix: 'ser.' }, correlationId: 'c-2' });
  });
});
