import { createServer, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { TurnWrites } from '../../../libs/evaluation/http/src/lib/turn-writes';

/**
 * The ceiling: a bare node:http server answering a fixed JSON body. argv: port, body file, and
 * optionally `turn`. It reads the request body (as a real endpoint must) before answering. With
 * `turn` it writes its answers as the evaluation tier does, all of a turn of the event loop's answers
 * together at its end (`TurnWrites`), so the bench can show how much of a ratio to the bare ceiling
 * is that write strategy rather than the work of answering.
 */
const [port, bodyFile, mode] = process.argv.slice(2);
const body = readFileSync(bodyFile as string);
const headers = { 'content-type': 'application/json', 'content-length': body.length };
const answer = (response: ServerResponse): void => {
  response.writeHead(200, headers);
  response.end(body);
};
const turn =
  mode === 'turn'
    ? new TurnWrites<Buffer>(
        (response) => answer(response),
        (_error, response) => response.destroy(),
      )
    : undefined;
createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    if (turn) turn.add(response, body, '', 0);
    else answer(response);
  });
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
