import { describeWithInfra, redisUrl } from '@flagline/infra-testing';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisFlagAnalyticsStore } from './redis-flag-analytics.store';

describeWithInfra('RedisFlagAnalyticsStore', () => {
  let redis: Redis;
  let keyPrefix: string;
  let store: RedisFlagAnalyticsStore;

  beforeEach(() => {
    redis = new Redis(redisUrl());
    keyPrefix = `test:analytics:${randomUUID().slice(0, 8)}:`;
    store = new RedisFlagAnalyticsStore({ redis, keyPrefix });
  });
  afterEach(async () => {
    await redis.quit();
  });

  it('adds counts per environment, day and feature and reads a day range', async () => {
    await store.record(1, '2026-11-20', { a: 2, b: 1 });
    await store.record(1, '2026-11-20', { a: 3 });
    await store.record(1, '2026-11-21', { b: 4 });
    await store.record(2, '2026-11-21', { a: 9 });
    expect(await store.read(1, '2026-11-20', '2026-11-21')).toEqual([
      { day: '2026-11-20', counts: { a: 5, b: 1 } },
      { day: '2026-11-21', counts: { b: 4 } },
    ]);
    expect(await store.read(1, '2026-11-21', '2026-11-21')).toEqual([{ day: '2026-11-21', counts: { b: 4 } }]);
    expect(await store.read(3, '2026-01-01', '2026-12-31')).toEqual([]);
  });

  it('reads days in calendar order across months and years', async () => {
    await store.record(1, '2027-01-02', { a: 1 });
    await store.record(1, '2026-12-31', { a: 1 });
    await store.record(1, '2026-02-28', { a: 1 });
    expect((await store.read(1, '2026-01-01', '2027-12-31')).map((entry) => entry.day)).toEqual(['2026-02-28', '2026-12-31', '2027-01-02']);
  });

  it('adds up counts recorded concurrently by several service instances', async () => {
    const others = Array.from({ length: 3 }, () => new Redis(redisUrl()));
    try {
      const instances = [store, ...others.map((client) => new RedisFlagAnalyticsStore({ redis: client, keyPrefix }))];
      await Promise.all(instances.flatMap((instance) => Array.from({ length: 25 }, () => instance.record(7, '2026-11-21', { checkout: 1, banner: 2 }))));
      expect(await store.read(7, '2026-11-21', '2026-11-21')).toEqual([{ day: '2026-11-21', counts: { checkout: 100, banner: 200 } }]);
    } finally {
      await Promise.all(others.map((client) => client.quit()));
    }
  });

  it('lets counts expire after the retention period and drops old days from the index', async () => {
    const retained = new RedisFlagAnalyticsStore({ redis, keyPrefix, retentionDays: 30 });
    await retained.record(1, '2026-10-01', { a: 1 });
    await retained.record(1, '2026-11-21', { a: 1 });
    const ttl = await redis.ttl(`${keyPrefix}{1}:2026-11-21`);
    expect(ttl).toBeGreaterThan(29 * 86_400);
    expect(ttl).toBeLessThanOrEqual(30 * 86_400);
    expect(await redis.zrange(`${keyPrefix}{1}:days`, 0, -1)).toEqual(['2026-11-21']);
  });

  it.each(['2026-13-01', '2026-02-30', '21-11-2026', ''])('refuses the day %p', async (day) => {
    await expect(store.record(1, day, { a: 1 })).rejects.toThrow(RangeError);
  });

  it('refuses a count that is not an integer and records nothing of that call', async () => {
    await expect(store.record(1, '2026-11-21', { a: 1, b: 1.5 })).rejects.toThrow(RangeError);
    expect(await store.read(1, '2026-11-21', '2026-11-21')).toEqual([]);
  });
});
