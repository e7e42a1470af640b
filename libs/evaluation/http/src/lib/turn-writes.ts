import type { ServerResponse } from 'node:http';

/** Turns in a row holding one answer each after which answers are written as soon as they are made. */
export const SINGLE_TURNS = 16;
/** While answers are written as soon as they are made, one in this many has the next whole turn's answers counted. */
export const PROBE_EVERY = 32;
const PROBE_WAITING = -1;
const PROBE_COUNTING = -2;

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
 * has the answers of the next whole turn counted (from the end of its own turn to the end of the
 * next): if that turn held more than one, the load has risen and answers are queued per turn
 * again. Only the mode changes, at a turn's end with nothing queued, so no answer overtakes
 * another.
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
  /**
   * Answers written as soon as made since the last probe; `PROBE_WAITING` once the probe is
   * scheduled, until its turn starts; `PROBE_COUNTING` while it counts that turn's answers.
   */
  private sinceProbe = 0;
  /** Answers made in the turn a probe is looking at. */
  private probed = 0;
  /** Runs at the end of the turn that made the probing answer: the next turn is counted whole. */
  private readonly startProbe = (): void => {
    this.sinceProbe = PROBE_COUNTING;
    this.probed = 0;
    setImmediate(this.endProbe);
  };
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

  /** Writes an answer: queued for the end of this turn, or at once while turns hold one answer each (see above). */
  add(response: ServerResponse, answer: A, route: string, startedAt: number): void {
    if (this.direct) {
      if (this.sinceProbe === PROBE_COUNTING) this.probed++;
      else if (this.sinceProbe !== PROBE_WAITING && ++this.sinceProbe === PROBE_EVERY) {
        this.sinceProbe = PROBE_WAITING;
        setImmediate(this.startProbe);
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
