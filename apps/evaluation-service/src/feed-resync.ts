/**
 * Catches a replica up after its update feeds come back. A feed that reconnects (the Redis
 * connection, the change-notification subscription) missed what was sent while it was away, so it
 * counts as caught up only once a full reload that started after its return has succeeded. One
 * reload runs at a time; a reload that fails (the feeds come back one at a time: the subscription
 * may return while the connection the reload reads through is still down) is tried again after
 * `retryMs`, for as long as some returned feed waits for one, so a replica never stays stale
 * because its one reload after an outage came too early.
 */
export class FeedResync {
  /** Feeds back and waiting for a reload that started after their return, each with the number of its return. */
  private readonly waiting = new Map<string, number>();
  private returns = 0;
  private running = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      /** Reloads everything; rejects when the read models cannot be read. */
      readonly reload: () => Promise<void>;
      /** Whether a reload can run at all (the first load done) and a success counts (reads go through). */
      readonly canReload: () => boolean;
      /** The feed is caught up. */
      readonly restored: (feed: string) => void;
      readonly retryMs?: number;
    },
  ) {}

  /** `feed` is back: reload, then count it caught up. */
  returned(feed: string): void {
    this.waiting.set(feed, ++this.returns);
    this.run();
  }

  /** `feed` dropped again: a reload no longer catches it up until it returns. */
  lost(feed: string): void {
    this.waiting.delete(feed);
  }

  /** Runs a reload for the waiting feeds, if one can run now (after the first load, call this). */
  run(): void {
    if (this.stopped || this.running || this.waiting.size === 0 || !this.options.canReload()) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.running = true;
    const covered = [...this.waiting];
    const settle = (succeeded: boolean): void => {
      this.running = false;
      if (succeeded && this.options.canReload()) {
        for (const [feed, returned] of covered) {
          // A feed lost, or lost and back again, during the reload waits for the next one.
          if (this.waiting.get(feed) !== returned) continue;
          this.waiting.delete(feed);
          this.options.restored(feed);
        }
      }
      if (this.waiting.size === 0 || this.stopped) return;
      // Feeds that returned during this reload, or a reload that failed: go again shortly.
      this.retry = setTimeout(() => this.run(), this.options.retryMs ?? 250);
      this.retry.unref();
    };
    this.options.reload().then(
      () => settle(true),
      () => settle(false),
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }
}
