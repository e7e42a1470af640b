import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReadyBalancer } from './balancer';

interface FakeInstance {
  readonly name: string;
  readonly url: string;
  ready: boolean;
  served: number;
  close(): Promise<void>;
}

/** An evaluation instance stand-in: `/health/ready` answers 200 or 503 as told, anything else names the instance. */
async function fakeInstance(name: string): Promise<FakeInstance> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/health/ready') {
      response.writeHead(instance.ready ? 200 : 503).end(instance.ready ? '{"ready":true}' : '{"ready":false,"reason":"first load pending"}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      instance.served++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, method: request.method, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const instance: FakeInstance = {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ready: true,
    served: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return instance;
}

async function get(url: string): Promise<{ status: number; body: { name?: string; error?: string } }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as { name?: string; error?: string } };
}

describe('ReadyBalancer', () => {
  let instances: FakeInstance[];
  let balancer: ReadyBalancer;
  let url: string;

  beforeEach(async () => {
    instances = [await fakeInstance('a'), await fakeInstance('b')];
  });

  afterEach(async () => {
    await balancer.close();
    await Promise.all(instances.map((instance) => instance.close()));
  });

  const start = async (pollIntervalMs = 20): Promise<void> => {
    balancer = new ReadyBalancer({ upstreams: instances.map(({ name, url: upstream }) => ({ name, url: upstream })), pollIntervalMs });
    url = `http://127.0.0.1:${await balancer.listen(0, '127.0.0.1')}`;
  };

  it('alternates between ready instances and forwards method and body', async () => {
    await start();
    const names = [];
    for (let i = 0; i < 4; i++) names.push((await get(`${url}/api/v1/flags/`)).body.name);
    expect(names).toEqual(['a', 'b', 'a', 'b']);
    const response = await fetch(`${url}/ofrep/v1/evaluate/flags`, { method: 'POST', body: '{"context":{}}', headers: { 'content-type': 'application/json' } });
    expect(await response.json()).toEqual({ name: expect.any(String), method: 'POST', body: '{"context":{}}' });
  });

  it('sends nothing to an instance whose readiness fails, and answers 503 with the reasons when none is ready', async () => {
    const [a, b] = instances;
    if (!a || !b) throw new Error('two instances');
    a.ready = false;
    await start();
    for (let i = 0; i < 4; i++) expect((await get(`${url}/x`)).body.name).toBe('b');
    expect(a.served).toBe(0);
    b.ready = false;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const none = await get(`${url}/x`);
    expect(none.status).toBe(503);
    expect(JSON.stringify(none.body)).toContain('first load pending');
  });

  it('sends a request refused by a stopped instance to the next one, before readiness has noticed', async () => {
    await start(60_000);
    const [a] = instances;
    if (!a) throw new Error('two instances');
    await a.close();
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(`${url}/x`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.every((answer) => answer.body.name === 'b')).toBe(true);
    expect(balancer.retried).toBeGreaterThan(0);
  });
});
