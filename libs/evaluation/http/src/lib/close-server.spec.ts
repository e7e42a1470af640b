import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { closeServer } from './close-server';
import { TurnWrites } from './turn-writes';

describe('closeServer', () => {
  it('writes the answers of the turn in which it is asked to close before closing their connections', async () => {
    const writes = new TurnWrites<string>(
      (response, answer) => {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer) });
        response.end(answer);
      },
      () => undefined,
    );
    let closed: Promise<void> | undefined;
    const server = createServer((incoming, response) => {
      incoming.resume();
      incoming.on('end', () => {
        writes.add(response, 'the last answer', 'r', 0);
        // Shutting down in the very turn the answer was made: it is queued, not yet written.
        closed ??= closeServer(server);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    await closed;
    expect(received).toContain('HTTP/1.1 200 OK');
    expect(received.endsWith('the last answer')).toBe(true);
  });
});
