import type { ServerResponse } from 'node:http';

/** Writes one answer to its response (the head and the body). */
export type WriteAnswer<A> = (response: ServerResponse, answer: A, route: string, startedAt: number) => void;

/**
 * Answers made during one turn of the event loop, written together at its end. Node reads every
 * connection that has a request waiting in one turn (its poll phase), and a server that wrote each
 * answer as soon as it was made would write into a peer that has often gone back to sleep since
 * the previous answer, so every write also pays for waking it (on loopback the writer's system
 * call does that work). Written one after another once the turn has read everything (in
 * `setImmediate`, which runs right after the poll phase), the first write wakes the peer and the
 * others find it awake. The bytes and their order on each connection are the same; an answer waits
 * at most for the rest of the turn's requests to be answered, and a turn with one request writes
 * it at once after.
 *
 * A write that throws is reported to `failed` with its response, and the other answers of the turn
 * are still written.
 */
export class TurnWrites<A> {
  // Parallel lists written by index and kept at the largest turn's length: no object per answer
  // and no storage regrown each turn.
  private readonly responses: (ServerResponse | undefined)[] = [];
  private readonly answers: (A | undefined)[] = [];
  private readonly routes: string[] = [];
  private readonly starts: number[] = [];
  private count = 0;
  private scheduled = false;
  private readonly flush = (): void => this.writeAll();

  constructor(
    private readonly write: WriteAnswer<A>,
    private readonly failed: (error: unknown, response: ServerResponse) => void,
  ) {}

  /** Queues an answer for the end of this turn. */
  add(response: ServerResponse, answer: A, route: string, startedAt: number): void {
    const at = this.count++;
    this.responses[at] = response;
    this.answers[at] = answer;
    this.routes[at] = route;
    this.starts[at] = startedAt;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private writeAll(): void {
    try {
      // `count` is read on every step: an answer added while writing is written in this pass too.
      for (let at = 0; at < this.count; at++) {
        const response = this.responses[at] as ServerResponse;
        const answer = this.answers[at] as A;
        // Released now: nothing of a finished request is kept until the next busy turn.
        this.responses[at] = undefined;
        this.answers[at] = undefined;
        try {
          this.write(response, answer, this.routes[at] as string, this.starts[at] as number);
        } catch (error) {
          this.fail(error, response);
        }
      }
    } finally {
      // Whatever happened, the next turn's answers are queued and flushed afresh.
      this.count = 0;
      this.scheduled = false;
    }
  }

  /** Reports a failed write; if reporting itself throws, the response is still destroyed and the turn goes on. */
  private fail(error: unknown, response: ServerResponse): void {
    try {
      this.failed(error, response);
    } catch {
      response.destroy();
    }
  }
}
