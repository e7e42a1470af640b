import type { ServerResponse } from 'node:http';

/** Turns in a row holding one answer each after which answers are written as soon as they are made. */
export const SINGLE_TURNS = 16;
/** While answers are written as soon as they are made, one in this many checks whether its turn held more. */
export const PROBE_EVERY = 32;

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
 * at most for the rest of the turn's requests to be answered.
 *
 * A turn that holds one answer gains nothing from waiting and pays for scheduling the write. So
 * when `SINGLE_TURNS` turns in a row have held one answer each (one client at a time, a quiet
 * service), answers are written as soon as they are made, and every `PROBE_EVERY`-th of them
 * schedules a look at the end of its turn: if that turn held more than one answer, the load has
 * risen and answers are queued per turn again. Only the mode changes, at a turn's end with nothing
 * queued, so no answer overtakes another.
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
  /** Answers are written as soon as they are made (see above). */
  private direct = false;
  /** Queued turns in a row that held one answer. */
  private singleTurns = 0;
  /** Answers written as soon as made since the last probe, or -1 while a probe is waiting for its turn's end. */
  private sinceProbe = 0;
  /** Answers made in the turn a probe is looking at. */
  private probed = 0;
  private readonly endProbe = (): void => {
    this.sinceProbe = 0;
    if (this.probed > 1) {
      this.direct = false;
      this.singleTurns = 0;
    }
  };

  constructor(
    private readonly write: WriteAnswer<A>,
    private readonly failed: (error: unknown, response: ServerResponse) => void,
  ) {}

  /** Queues an answer for the end of this turn. */
  add(response: ServerResponse, answer: A, route: string, startedAt: number): void {
    if (this.direct) {
      if (this.sinceProbe < 0) this.probed++;
      else if (++this.sinceProbe === PROBE_EVERY) {
        this.sinceProbe = -1;
        this.probed = 1;
        setImmediate(this.endProbe);
      }
      this.writeOne(response, answer, route, startedAt);
      return;
    }
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
        this.writeOne(response, answer, this.routes[at] as string, this.starts[at] as number);
      }
    } finally {
      // Whatever happened, the next turn's answers are queued and flushed afresh.
      if (this.count > 1) this.singleTurns = 0;
      else if (++this.singleTurns === SINGLE_TURNS) {
        this.direct = true;
        this.sinceProbe = 0;
      }
      this.count = 0;
      this.scheduled = false;
    }
  }

  private writeOne(response: ServerResponse, answer: A, route: string, startedAt: number): void {
    try {
      this.write(response, answer, route, startedAt);
    } catch (error) {
      this.fail(error, response);
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
