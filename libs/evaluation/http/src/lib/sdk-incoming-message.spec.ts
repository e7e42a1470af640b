import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { SdkIncomingMessage } from './sdk-incoming-message';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real node:http server making SdkIncomingMessage requests, with the handler swapped per test. */
describe('SdkIncomingMessage', () => {
  let server: Server;
  let port = 0;
  let handler: Handler = (_request, response) => response.end();
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer({ IncomingMessage: SdkIncomingMessage }, (request, response) => handler(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** A raw client: writes exactly the bytes given, in the pieces given, and collects what comes back. */
  const rawClient = async (): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> => {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, received: () => text, closed };
  };

  const until = async (check: () => boolean, what: string): Promise<void> => {
    for (let waited = 0; !check(); waited += 5) {
      if (waited > 5_000) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  };

  /** Sends one request on a new connection in the pieces given, a little apart; resolves with all that came back once it closes. */
  const exchange = async (...pieces: string[]): Promise<string> => {
    const client = await rawClient();
    for (const [at, piece] of pieces.entries()) {
      if (at > 0) await sleep(15);
      client.socket.write(piece);
    }
    await client.closed;
    return client.received();
  };

  /** Answers each request with what its diverted body held, as the sink heard it. */
  const echoDiverted: Handler = (request, response) => {
    const pieces: string[] = [];
    const diverted = (request as SdkIncomingMessage).divertBody((chunk) => {
      if (chunk !== null) return void pieces.push(chunk.toString('utf8'));
      response.end(JSON.stringify({ body: pieces.join(''), complete: request.complete }));
    });
    if (!diverted) response.writeHead(500).end('not diverted');
  };

  const responseBodies = (text: string): unknown[] =>
    text
      .split('HTTP/1.1 ')
      .slice(1)
      .map((part) => JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4).split(/\r\n[0-9a-f]+\r\n|\r\n0\r\n/)[0] ?? '') as unknown);

  it('when a body with a declared length arrives in several packets, then the sink hears it whole and in order, then its end once', async () => {
    handler = echoDiverted;
    const body = JSON.stringify({ identifier: 'split', traits: [{ trait_key: 'plan', trait_value: 'pro' }] });
    const received = await exchange(`POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`, body.slice(0, 7), body.slice(7, 30), body.slice(30));
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(responseBodies(received)).toEqual([{ body, complete: true }]);
  });

  it('when a body comes chunked, then the sink hears the decoded bytes', async () => {
    handler = echoDiverted;
    const received = await exchange('POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', '5\r\nhello\r\n', '7\r\n, world\r\n0\r\n\r\n');
    expect(responseBodies(received)).toEqual([{ body: 'hello, world', complete: true }]);
  });

  it('when requests with bodies are pipelined on one connection, then each sink hears its own body only', async () => {
    handler = echoDiverted;
    const client = await rawClient();
    const bodies = ['{"n":1}', '{"n":22}', '{"n":333}'];
    client.socket.write(bodies.map((body) => `POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`).join(''));
    await until(() => (client.received().match(/HTTP\/1\.1 200/g) ?? []).length === 3, 'three answers');
    expect(responseBodies(client.received())).toEqual(bodies.map((body) => ({ body, complete: true })));
  });

  it('when a client asks for 100-continue before sending its body (as curl does for larger bodies), then the sink hears the body sent after it', async () => {
    handler = echoDiverted;
    const body = JSON.stringify({ identifier: 'continued', padding: 'x'.repeat(2000) });
    const client = await rawClient();
    client.socket.write(`POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
    await until(() => client.received().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 'the interim answer');
    client.socket.write(body);
    await client.closed;
    expect(responseBodies(client.received().slice('HTTP/1.1 100 Continue\r\n\r\n'.length))).toEqual([{ body, complete: true }]);
  });

  it('when a request is not diverted, then it is an ordinary readable stream', async () => {
    handler = (request, response) => {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => response.end(JSON.stringify({ body: text, complete: request.complete })));
    };
    const received = await exchange('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nConnection: close\r\n\r\nstream', 'ed!');
    expect(responseBodies(received)).toEqual([{ body: 'streamed!', complete: true }]);
  });

  it('when the body was already read or the stream is flowing, then it cannot be diverted', async () => {
    const refusals: boolean[] = [];
    handler = (request, response) => {
      request.on('data', () => undefined);
      request.on('end', () => {
        refusals.push((request as SdkIncomingMessage).divertBody(() => undefined));
        response.end('{}');
      });
      refusals.push((request as SdkIncomingMessage).divertBody(() => undefined));
    };
    await exchange('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(refusals).toEqual([false, false]);
  });

  it('when a body is diverted twice, then the second sink is refused', async () => {
    const refusals: boolean[] = [];
    handler = (request, response) => {
      const message = request as SdkIncomingMessage;
      refusals.push(message.divertBody((chunk) => chunk === null && response.end('{}')));
      refusals.push(message.divertBody(() => undefined));
    };
    await exchange('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(refusals).toEqual([true, false]);
  });

  it('when the client goes away mid-body, then the sink never hears an end, the request closes as aborted, and the server goes on answering', async () => {
    const heard: string[] = [];
    let closed: (value: { aborted: boolean; complete: boolean }) => void = () => undefined;
    const requestClosed = new Promise<{ aborted: boolean; complete: boolean }>((resolve) => (closed = resolve));
    handler = (request) => {
      (request as SdkIncomingMessage).divertBody((chunk) => heard.push(chunk === null ? '<end>' : chunk.toString('utf8')));
      request.on('close', () => closed({ aborted: request.aborted, complete: request.complete }));
    };
    const client = await rawClient();
    client.socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"identifier":');
    await until(() => heard.length > 0, 'the first piece');
    client.socket.destroy();
    expect(await requestClosed).toEqual({ aborted: true, complete: false });
    expect(heard).toEqual(['{"identifier":']);

    handler = echoDiverted;
    expect(responseBodies(await exchange('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'))).toEqual([{ body: '{}', complete: true }]);
  });

  it('when the answer goes out before the body is all in, then Node drops the rest as for any request, the sink hears the end, and the connection serves the next request', async () => {
    const heard: string[] = [];
    let first = true;
    handler = (request, response) => {
      if (!first) return echoDiverted(request, response);
      first = false;
      (request as SdkIncomingMessage).divertBody((chunk) => heard.push(chunk === null ? '<end>' : chunk.toString('utf8')));
      response.writeHead(413, { 'content-type': 'application/json', 'content-length': 7 }).end('{"n":0}');
    };
    const client = await rawClient();
    client.socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc');
    await until(() => client.received().includes('{"n":0}'), 'the early answer');
    client.socket.write('def');
    client.socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"n":1}');
    await client.closed;
    expect(heard).toEqual(['abc', '<end>']);
    expect(client.received()).toMatch(/^HTTP\/1\.1 413/);
    expect(responseBodies(client.received())).toEqual([{ n: 0 }, { body: '{"n":1}', complete: true }]);
  });
});
