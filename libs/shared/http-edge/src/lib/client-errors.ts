import { ServerResponse, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The request line and headers a server accepts, in bytes (Node's default is 16 KiB). Identifiers
 * are up to 2,000 characters and travel in query strings (`?identifier=`): percent-encoded UTF-8,
 * that is up to 24,000 bytes, which the documented API must accept.
 */
export const MAX_HEADER_BYTES = 32 * 1024;

/** What a request that Node's HTTP parser rejected is answered with. */
export interface ClientErrorAnswer {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
}

interface ParserError extends Error {
  readonly code?: string;
  readonly reason?: string;
  readonly rawPacket?: Buffer;
}

/** A request line that starts with a well-formed method token (RFC 9110 `token`) followed by a space. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * The status and error code for an error Node's HTTP parser raised: 431 for headers past the
 * limit, 413 for oversized chunk extensions, 408 for a request that took too long, 400 for anything
 * else: a well-formed but unknown method (code `METHOD_UNKNOWN`; Node's own answer is 400 too, and a
 * client's mistake is never answered with a 5xx here), bad chunking, a duplicate or invalid
 * Content-Length, a malformed request line or header.
 */
export function clientErrorAnswer(error: ParserError): ClientErrorAnswer {
  const detail = error.reason ?? error.message;
  switch (error.code ?? '') {
    case 'HPE_HEADER_OVERFLOW':
      return { statusCode: 431, code: 'HEADERS_TOO_LARGE', message: 'The request headers are larger than this server accepts' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { statusCode: 413, code: 'CHUNK_EXTENSIONS_TOO_LARGE', message: 'The chunk extensions are larger than this server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { statusCode: 408, code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' };
    case 'HPE_INVALID_METHOD':
      if (error.rawPacket && METHOD_TOKEN.test(error.rawPacket.subarray(0, 64).toString('latin1')))
        return { statusCode: 400, code: 'METHOD_UNKNOWN', message: 'The request method is not one this server knows' };
      return { statusCode: 400, code: 'MALFORMED_HTTP', message: `The request is not valid HTTP/1.1: ${detail}` };
    default:
      return { statusCode: 400, code: 'MALFORMED_HTTP', message: `The request is not valid HTTP/1.1: ${detail}` };
  }
}

/** The response Node's HTTP server owes on this connection, if any (an internal field, read defensively). */
function inFlightResponse(socket: Duplex): ServerResponse | null {
  const message = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  return message instanceof ServerResponse ? message : null;
}

function writeAnswer(socket: Duplex, error: ParserError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error);
  const reason = STATUS_CODES[answer.statusCode] ?? 'Error';
  // `detail` is what Flagsmith's SDKs read; the rest is the error shape both APIs share.
  const body = JSON.stringify({ detail: answer.message, statusCode: answer.statusCode, error: reason, code: answer.code, message: answer.message });
  socket.end(
    `HTTP/1.1 ${answer.statusCode} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * Answers requests that Node's HTTP parser rejects with a complete HTTP response carrying the
 * APIs' JSON error shape (`{detail, statusCode, error, code, message}`) and the matching status, instead
 * of Node's default bodyless one, then closes the connection. When an earlier request on the
 * connection is still being answered (pipelining), the error follows its response rather than
 * cutting into it; when the error is in the body of the request being answered, the error is its
 * answer; a connection that can no longer be written to is just closed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: ParserError, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const pending = inFlightResponse(socket);
    // The parser failed inside the body of the request being answered (bad chunking): its handler
    // waits for a body that will never come, so the error is its answer, sent now.
    if (pending && !pending.headersSent && !pending.req.complete) {
      writeAnswer(socket, error);
      return;
    }
    if (pending && !pending.writableFinished) {
      pending.once('finish', () => writeAnswer(socket, error));
      pending.once('close', () => {
        if (!pending.writableFinished) socket.destroy();
      });
      return;
    }
    writeAnswer(socket, error);
  });
}
