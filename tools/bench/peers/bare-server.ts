import { createServer } from 'node:http';

/**
 * The ceiling: a bare node:http server answering a fixed JSON body. argv: port, body file.
 * It reads the request body (as a real endpoint must) before answering.
 */
import { readFileSync } from 'node:fs';

const [port, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile as string);
const headers = { 'content-type': 'application/json', 'content-length': body.length };
createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, headers);
    response.end(body);
  });
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
