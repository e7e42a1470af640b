import type { Server, ServerResponse } from 'node:http';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { PROBE_EVERY, SINGLE_TURNS, TurnWrites } from './turn-writes';

/** Stand-ins for responses: TurnWrites only hands them to its writer. */
const responses = (count: number): ServerResponse[] => Array.from({ length: count }, (_, index) => ({ index }) as unknown as ServerResponse);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const indexOf = (response: ServerResponse): number => (response as unknown as { index: number }).index;

/** An HTTP server answering each request with `answer to <path>` through TurnWrites, listening on a free port. */
async function answeringServer(): Promise<{ server: Server; port: number }> {
  const writes = new TurnWrites<string>(
    (response, answer) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer) });
      response.end(answer);
    },
    () => undefined,
  );
  const server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => writes.add(response, `answer to ${incoming.url ?? ''}`, 'r', 0));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('TurnWrites: the answers of one event-loop turn written together at its end', () => {
  it('writes nothing while the turn runs, then every answer of the turn in the order it was made', async () => {
    const written: string[] = [];
    const writes = new TurnWrites<string>((response, answer, route, startedAt) => written.push(`${indexOf(response)}:${answer}:${route}:${startedAt}`), () => undefined);
    const [first, second, third] = responses(3) as [ServerResponse, ServerResponse, ServerResponse];
    writes.add(first, 'a', 'ofrep-flags', 1);
    writes.add(second, 'b', 'ofrep-flag', 2);
    writes.add(third, 'c', 'identities', 3);
    expect(written).toEqual([]);
    await nextTurn();
    expect(written).toEqual(['0:a:ofrep-flags:1', '1:b:ofrep-flag:2', '2:c:identities:3']);
  });

  it('starts afresh each turn: a later turn writes only its own answers, even fewer than before', async () => {
    const written: string[] = [];
    const writes = new TurnWrites<string>((_response, answer) => written.push(answer), () => undefined);
    const [first, second, third] = responses(3) as [ServerResponse, ServerResponse, ServerResponse];
    writes.add(first, 'a', 'r', 0);
    writes.add(second, 'b', 'r', 0);
    writes.add(third, 'c', 'r', 0);
    await nextTurn();
    writes.add(first, 'd', 'r', 0);
    await nextTurn();
    await nextTurn();
    expect(written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('writes an answer added while the turn is being written in the same pass, once', async () => {
    const written: string[] = [];
    const [first, second] = responses(2) as [ServerResponse, ServerResponse];
    const writes: TurnWrites<string> = new TurnWrites<string>((_response, answer) => {
      written.push(answer);
      if (answer === 'a') writes.add(second, 'late', 'r', 0);
    }, () => undefined);
    writes.add(first, 'a', 'r', 0);
    await nextTurn();
    await nextTurn();
    expect(written).toEqual(['a', 'late']);
  });

  it('reports a write that throws with its response and still writes the rest of the turn', async () => {
    const written: string[] = [];
    const failures: [string, number][] = [];
    const writes = new TurnWrites<string>(
      (_response, answer) => {
        if (answer === 'bad') throw new Error('invalid header');
        written.push(answer);
      },
      (error, response) => failures.push([(error as Error).message, indexOf(response)]),
    );
    const [first, second, third] = responses(3) as [ServerResponse, ServerResponse, ServerResponse];
    writes.add(first, 'a', 'r', 0);
    writes.add(second, 'bad', 'r', 0);
    writes.add(third, 'c', 'r', 0);
    await nextTurn();
    expect(written).toEqual(['a', 'c']);
    expect(failures).toEqual([['invalid header', 1]]);
  });

  it('destroys the response when reporting a failed write throws too, and later turns are still written', async () => {
    const written: string[] = [];
    const destroyed: number[] = [];
    const writes = new TurnWrites<string>(
      (_response, answer) => {
        if (answer === 'bad') throw new Error('invalid header');
        written.push(answer);
      },
      () => {
        throw new Error('the error reporter failed');
      },
    );
    const [first, second, third] = responses(3).map((response, index): ServerResponse => Object.assign(response, { destroy: () => destroyed.push(index) })) as [ServerResponse, ServerResponse, ServerResponse];
    writes.add(first, 'bad', 'r', 0);
    writes.add(second, 'b', 'r', 0);
    await nextTurn();
    writes.add(third, 'c', 'r', 0);
    await nextTurn();
    expect(written).toEqual(['b', 'c']);
    expect(destroyed).toEqual([0]);
  });

  /** Makes `turns` turns that each hold one answer. */
  async function singleTurns(writes: TurnWrites<string>, response: ServerResponse, turns: number): Promise<void> {
    for (let turn = 0; turn < turns; turn++) {
      writes.add(response, `single ${turn}`, 'r', 0);
      await nextTurn();
    }
  }

  it('writes answers as soon as they are made once enough turns in a row held one answer each, and not before', async () => {
    const written: string[] = [];
    const writes = new TurnWrites<string>((_response, answer) => written.push(answer), () => undefined);
    const [first, second] = responses(2) as [ServerResponse, ServerResponse];
    await singleTurns(writes, first, SINGLE_TURNS - 2);
    writes.add(first, 'a', 'r', 0);
    writes.add(second, 'b', 'r', 0);
    await nextTurn();
    // The turn with two answers started the count again.
    await singleTurns(writes, first, SINGLE_TURNS - 1);
    writes.add(first, 'still queued', 'r', 0);
    expect(written).not.toContain('still queued');
    await nextTurn();
    expect(written.at(-1)).toBe('still queued');
    writes.add(first, 'at once', 'r', 0);
    expect(written.at(-1)).toBe('at once');
  });

  it('queues per turn again when a probed turn holds more than one answer, and keeps writing at once while turns hold one', async () => {
    const written: string[] = [];
    const writes = new TurnWrites<string>((_response, answer) => written.push(answer), () => undefined);
    const [first, second] = responses(2) as [ServerResponse, ServerResponse];
    await singleTurns(writes, first, SINGLE_TURNS);
    // Turns of one answer, probed or not, keep answers written at once.
    for (let turn = 0; turn < 2 * PROBE_EVERY; turn++) {
      writes.add(first, `one ${turn}`, 'r', 0);
      expect(written.at(-1)).toBe(`one ${turn}`);
      await nextTurn();
    }
    // A turn of many answers: they are still written in order, at once; the probe then counts a whole turn.
    const busy = Array.from({ length: 2 * PROBE_EVERY }, (_, at) => `busy ${at}`);
    busy.forEach((answer, at) => writes.add(at % 2 === 0 ? first : second, answer, 'r', 0));
    expect(written.slice(-busy.length)).toEqual(busy);
    await nextTurn();
    writes.add(first, 'counted', 'r', 0);
    writes.add(second, 'counted too', 'r', 0);
    expect(written.slice(-2)).toEqual(['counted', 'counted too']);
    await nextTurn();
    writes.add(first, 'queued again', 'r', 0);
    expect(written.at(-1)).not.toBe('queued again');
    await nextTurn();
    expect(written.at(-1)).toBe('queued again');
  });

  it.each([2, 8, 32])('goes back to queueing under a steady load of %i answers every turn', async (perTurn) => {
    const written: string[] = [];
    const writes = new TurnWrites<string>((_response, answer) => written.push(answer), () => undefined);
    const [first] = responses(1) as [ServerResponse];
    await singleTurns(writes, first, SINGLE_TURNS);
    let queuedAfter: number | undefined;
    for (let turn = 0; turn < 2 * PROBE_EVERY && queuedAfter === undefined; turn++) {
      for (let at = 0; at < perTurn; at++) writes.add(first, `${turn}.${at}`, 'r', 0);
      if (written.at(-1) !== `${turn}.${perTurn - 1}`) queuedAfter = turn;
      await nextTurn();
    }
    // Within the turns that take PROBE_EVERY answers, plus the turn the probe counts.
    expect(queuedAfter).toBeDefined();
    expect(queuedAfter).toBeLessThanOrEqual(Math.ceil(PROBE_EVERY / perTurn) + 1);
  });

  it('reports a write that throws when writing at once, and goes on', async () => {
    const written: string[] = [];
    const failures: number[] = [];
    const writes = new TurnWrites<string>(
      (_response, answer) => {
        if (answer === 'bad') throw new Error('invalid header');
        written.push(answer);
      },
      (_error, response) => failures.push(indexOf(response)),
    );
    const [first, second] = responses(2) as [ServerResponse, ServerResponse];
    await singleTurns(writes, first, SINGLE_TURNS);
    writes.add(second, 'bad', 'r', 0);
    writes.add(first, 'after', 'r', 0);
    expect(failures).toEqual([1]);
    expect(written.at(-1)).toBe('after');
  });

  it('answers requests pipelined on one kept-alive connection in the order they were sent', async () => {
    const { server, port } = await answeringServer();
    const paths = Array.from({ length: 8 }, (_, index) => `/${index}`);
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join('')));
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          received += chunk;
          if (received.split('answer to ').length - 1 === paths.length) {
            socket.end();
            resolve(received);
          }
        });
        socket.on('error', reject);
      });
      const bodies = [...text.matchAll(/answer to (\/\d+)/g)].map((match) => match[1]);
      expect(bodies).toEqual(paths);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers requests on many connections at once and one at a time over HTTP, each with its own answer', async () => {
    const { server, port } = await answeringServer();
    const get = (path: string, agent: Agent | false = false): Promise<string> =>
      new Promise((resolve, reject) => {
        const outgoing = request({ port, host: '127.0.0.1', path, agent }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(text));
        });
        outgoing.on('error', reject);
        outgoing.end();
      });
    try {
      const paths = Array.from({ length: 20 }, (_, index) => `/${index}`);
      expect(await Promise.all(paths.map((path) => get(path)))).toEqual(paths.map((path) => `answer to ${path}`));
      // One at a time on one kept-alive connection, long enough for answers to be written as soon
      // as they are made, then many at once again.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let turn = 0; turn < SINGLE_TURNS + 2 * PROBE_EVERY; turn++) expect(await get(`/one/${turn}`, agent)).toBe(`answer to /one/${turn}`);
      } finally {
        agent.destroy();
      }
      expect(await Promise.all(paths.map((path) => get(path)))).toEqual(paths.map((path) => `answer to ${path}`));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
