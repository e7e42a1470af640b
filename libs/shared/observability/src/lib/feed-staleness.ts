/**
 * How stale a replica's in-memory copy may be: the time since it lost an update feed (a
 * connection or a subscription through which changes reach it), counted from the moment of the
 * loss, and 0 while every feed is connected and caught up. It depends only on when the feed was
 * lost, never on when this replica last synced in full, so replicas that lost their feeds at the
 * same moment report the same staleness.
 */
export class FeedStaleness {
  /** Feed name → when it was lost; absent while connected and caught up. */
  private readonly lostAt = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The feed dropped now; a feed already lost keeps its first loss time. */
  lost(feed: string): void {
    if (!this.lostAt.has(feed)) this.lostAt.set(feed, this.now());
  }

  /** The feed is back and what it missed was caught up (e.g. a full reload finished after reconnecting). */
  restored(feed: string): void {
    this.lostAt.delete(feed);
  }

  /** Milliseconds since the earliest loss among the feeds still lost; 0 when none is. */
  ms(): number {
    if (this.lostAt.size === 0) return 0;
    return Math.max(0, this.now() - Math.min(...this.lostAt.values()));
  }

  /** The lost feeds with their loss times (ISO), for a health report. */
  lostFeeds(): Record<string, string> {
    return Object.fromEntries([...this.lostAt].map(([feed, at]) => [feed, new Date(at).toISOString()]));
  }
}
