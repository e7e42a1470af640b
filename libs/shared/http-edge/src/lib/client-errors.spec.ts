import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerClientErrors, clientErrorAnswer } from './client-errors';

function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no close within 5 s')));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => socket.write(bytes));
  });
}

describe('answerClientErrors on a node:http server', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((request, response) => {
      // A slow answer, so a pipelined bad request arrives while it is still owed.
      setTimeout(() => response.end(`ok ${request.url ?? ''}`), 50);
    });
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['headers past the limit', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['duplicate Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'MALFORMED_HTTP'],
    ['an unknown method', 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'METHOD_UNKNOWN'],
    ['bytes that are no request line', '\u0000\u0001\u0002\r\n\r\n', 400, 'MALFORMED_HTTP'],
  ])('when a request has %s, then the JSON error shape answers with the status and the connection closes', async (_what, request, status, code) => {
    const text = await exchange(port, request);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(text).toContain('\r\nContent-Type: application/json\r\n');
    expect(text).toContain('\r\nConnection: close\r\n');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ detail: expect.any(String), statusCode: status, error: expect.any(String), code, message: expect.any(String) });
  });

  it('when a bad request is pipelined behind a slow one, then the slow answer goes first and the error follows it whole', async () => {
    const text = await exchange(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nBREW / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toContain('ok /first');
    const error = text.slice(text.indexOf('HTTP/1.1 400 Bad Request'));
    expect(text.indexOf('HTTP/1.1 400 Bad Request')).toBeGreaterThan(text.indexOf('ok /first'));
    expect(JSON.parse(error.slice(error.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 400, code: 'METHOD_UNKNOWN' });
  });

  it('when the chunking breaks inside the body of a request whose handler reads it, then the error answers that request', async () => {
    const reader = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => response.end(`read ${Buffer.concat(chunks).length} bytes`));
    });
    answerClientErrors(reader);
    await new Promise<void>((resolve) => reader.listen(0, '127.0.0.1', resolve));
    try {
      const text = await exchange((reader.address() as AddressInfo).port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"\r\nzz\r\nabc\r\n0\r\n\r\n');
      expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 400, code: 'MALFORMED_HTTP' });
      expect(text).not.toContain('read ');
    } finally {
      reader.closeAllConnections();
      await new Promise<void>((resolve) => reader.close(() => resolve()));
    }
  });

  it('maps a request timeout to 408 and oversized chunk extensions to 413', () => {
    expect(clientErrorAnswer(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }))).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT' });
    expect(clientErrorAnswer(Object.assign(new Error('ext'), { code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW' }))).toMatchObject({ statusCode: 413 });
  });
});
