import { IncomingMessage } from 'node:http';

/** Receives a request body's chunks as the HTTP parser delivers them, then `null` once it is complete. */
export type BodySink = (chunk: Buffer | null) => void;

/**
 * The request class the evaluation servers hand to `http.createServer({ IncomingMessage })`.
 * Node's HTTP parser delivers a body by calling the request's `push` (as if a `_read` had
 * produced it), and `push(null)` once the message is complete. A request whose body is diverted
 * hands those chunks straight to a sink, inside the parser's own callback: no 'data' and 'end'
 * listeners, no flowing-mode ticks and no stream buffering on the hot path. A request that is not
 * diverted is an ordinary readable stream, and so is one after its body ended.
 */
export class SdkIncomingMessage extends IncomingMessage {
  private sink: BodySink | null = null;

  /**
   * Sends the body to `sink` instead of the stream. Only possible before any of it was read or
   * buffered: false otherwise, and then the body must be read as a stream.
   */
  divertBody(sink: BodySink): boolean {
    if (this.sink !== null || this.complete || this.readableLength > 0 || this.readableFlowing !== null || this.readableEnded) return false;
    this.sink = sink;
    return true;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const sink = this.sink;
    if (sink === null) return super.push(chunk, encoding);
    if (chunk === null) {
      // The stream ends as usual (Node dumps it once the response is finished), then the sink hears.
      this.sink = null;
      super.push(null);
      sink(null);
      return false;
    }
    sink(chunk as Buffer);
    return true;
  }
}
