import { FeedStaleness } from './feed-staleness';

describe('FeedStaleness', () => {
  it('is 0 while connected, then counts from the moment the feed was lost, until it is restored', () => {
    let now = 1_000_000;
    const staleness = new FeedStaleness(() => now);
    expect(staleness.ms()).toBe(0);
    now += 500;
    staleness.lost('redis');
    now += 3000;
    staleness.lost('redis'); // a second drop report keeps the first loss time
    now += 1000;
    expect(staleness.ms()).toBe(4000);
    expect(staleness.lostFeeds()).toEqual({ redis: new Date(1_000_500).toISOString() });
    staleness.restored('redis');
    expect(staleness.ms()).toBe(0);
  });

  it('counts from the earliest of several lost feeds', () => {
    let now = 0;
    const staleness = new FeedStaleness(() => now);
    staleness.lost('notifications');
    now = 2000;
    staleness.lost('commands');
    now = 5000;
    expect(staleness.ms()).toBe(5000);
    staleness.restored('notifications');
    expect(staleness.ms()).toBe(3000);
  });

  it('gives two replicas that lost their feed at the same moment the same staleness, whenever each last synced', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = (): number => now;
    const first = new FeedStaleness(clock);
    const second = new FeedStaleness(clock);
    // The replicas last reloaded in full at different times (the first 25 s before the second):
    // that must not show in their staleness.
    first.lost('boot');
    now += 1000;
    first.restored('boot');
    now += 25_000;
    second.lost('boot');
    now += 1000;
    second.restored('boot');
    now += 4000;
    // One Redis outage reaches both at the same moment.
    first.lost('redis');
    second.lost('redis');
    for (const elapsed of [0, 7000, 32_000]) {
      now += elapsed;
      expect(first.ms()).toBe(second.ms());
    }
    expect(first.ms()).toBe(39_000);
    first.restored('redis');
    expect(first.ms()).toBe(0);
    expect(second.ms()).toBe(39_000);
  });
});
