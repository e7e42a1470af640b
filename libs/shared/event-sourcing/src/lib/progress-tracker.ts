/** The position a consumer has processed up to, and a way to wait for it to reach a position. */
export class ProgressTracker {
  private current = 0;
  private waiters: { position: number; resolve: () => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }[] = [];

  get position(): number {
    return this.current;
  }

  advance(position: number): void {
    if (position <= this.current) return;
    this.current = position;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.position <= position);
    this.waiters = this.waiters.filter((waiter) => waiter.position > position);
    for (const waiter of ready) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Resolves when the position is reached; rejects after `timeoutMs` if given. */
  waitFor(position: number, timeoutMs?: number): Promise<void> {
    if (position <= this.current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { position, resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
          reject(new Error(`Position ${position} not reached within ${timeoutMs} ms (at ${this.current})`));
        }, timeoutMs);
        waiter.timer.unref();
      }
      this.waiters.push(waiter);
    });
  }
}
