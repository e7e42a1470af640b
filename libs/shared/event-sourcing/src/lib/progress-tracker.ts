interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** When it gives up (ms since the epoch); Infinity for never. */
  readonly deadline: number;
  readonly timeoutMs?: number;
}

/**
 * The position a consumer has processed up to, and a way to wait for it to reach a position.
 *
 * Built for many waiters (one per request waiting for its write to be projected): they are kept
 * in position order, so an advance resolves a prefix without looking at the others, and their
 * timeouts share one timer, armed for the earliest deadline, instead of one timer each.
 */
export class ProgressTracker {
  private current = 0;
  /** Ascending by position; equal positions in arrival order. */
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  get position(): number {
    return this.current;
  }

  /** How many calls to `waitFor` are waiting. */
  get waiting(): number {
    return this.waiters.length;
  }

  advance(position: number): void {
    if (position <= this.current) return;
    this.current = position;
    const waiters = this.waiters;
    let ready = 0;
    while (ready < waiters.length && (waiters[ready] as Waiter).position <= position) ready++;
    if (ready === 0) return;
    const resolved = waiters.splice(0, ready);
    for (const waiter of resolved) waiter.resolve();
    if (waiters.length === 0) this.disarm();
  }

  /** Resolves when the position is reached; rejects after `timeoutMs` if given. */
  waitFor(position: number, timeoutMs?: number): Promise<void> {
    if (position <= this.current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      const waiter: Waiter = { position, resolve, reject, deadline, timeoutMs };
      const waiters = this.waiters;
      // Usually the furthest position yet: appended. Otherwise inserted after every waiter at or before it.
      let at = waiters.length;
      while (at > 0 && (waiters[at - 1] as Waiter).position > position) at--;
      if (at === waiters.length) waiters.push(waiter);
      else waiters.splice(at, 0, waiter);
      if (deadline < this.timerAt) this.arm(deadline);
    });
  }

  private arm(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Rejects every waiter past its deadline, then re-arms for the earliest deadline left. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const expired: Waiter[] = [];
    const kept: Waiter[] = [];
    let next = Infinity;
    for (const waiter of this.waiters) {
      if (waiter.deadline <= now) expired.push(waiter);
      else {
        kept.push(waiter);
        if (waiter.deadline < next) next = waiter.deadline;
      }
    }
    this.waiters = kept;
    if (next !== Infinity) this.arm(next);
    for (const waiter of expired) waiter.reject(new Error(`Position ${waiter.position} not reached within ${waiter.timeoutMs} ms (at ${this.current})`));
  }
}
