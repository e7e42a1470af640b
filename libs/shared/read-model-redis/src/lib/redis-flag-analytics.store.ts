import type { FlagAnalyticsStore } from '@flagline/contracts';
import type Redis from 'ioredis';

export interface RedisFlagAnalyticsStoreOptions {
  /** The caller owns the connection. */
  readonly redis: Redis;
  /** Default `flagline:analytics:`. */
  readonly keyPrefix?: string;
  /** Days of counts kept after their last write; kept forever when absent. */
  readonly retentionDays?: number;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` day: the score that orders the day index. */
function dayNumber(day: string): number {
  const match = DAY.exec(day);
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== day) throw new RangeError(`Not a day (YYYY-MM-DD): ${JSON.stringify(day)}`);
  return time / DAY_MS;
}

/**
 * Flag evaluation counts in Redis: one hash per environment and day (feature → count), added to
 * with HINCRBY, which makes concurrent evaluation-service instances add up instead of
 * overwriting each other. A sorted set per environment indexes its days, so a range read
 * touches only the days that have counts. The `{environmentId}` hash tag keeps an environment's
 * keys in one cluster slot, which the MULTI of a record needs.
 */
export class RedisFlagAnalyticsStore implements FlagAnalyticsStore {
  private readonly prefix: string;

  constructor(private readonly options: RedisFlagAnalyticsStoreOptions) {
    this.prefix = options.keyPrefix ?? 'flagline:analytics:';
  }

  private countsKey(environmentId: number, day: string): string {
    return `${this.prefix}{${environmentId}}:${day}`;
  }

  private daysKey(environmentId: number): string {
    return `${this.prefix}{${environmentId}}:days`;
  }

  async record(environmentId: number, day: string, counts: Readonly<Record<string, number>>): Promise<void> {
    const score = dayNumber(day);
    const entries = Object.entries(counts);
    for (const [feature, count] of entries) {
      if (!Number.isSafeInteger(count)) throw new RangeError(`The count of ${feature} must be an integer, got ${count}`);
    }
    if (entries.length === 0) return;
    const key = this.countsKey(environmentId, day);
    // MULTI: a record lands whole or not at all, and the day is indexed with its counts.
    const transaction = this.options.redis.multi();
    for (const [feature, count] of entries) transaction.hincrby(key, feature, count);
    transaction.zadd(this.daysKey(environmentId), score, day);
    const retention = this.options.retentionDays;
    if (retention !== undefined) {
      transaction.expire(key, retention * 86_400);
      transaction.zremrangebyscore(this.daysKey(environmentId), '-inf', `(${score - retention}`);
    }
    const results = await transaction.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0] as Error;
  }

  async read(environmentId: number, fromDay: string, toDay: string): Promise<{ day: string; counts: Record<string, number> }[]> {
    const days = await this.options.redis.zrangebyscore(this.daysKey(environmentId), dayNumber(fromDay), dayNumber(toDay));
    if (days.length === 0) return [];
    const pipeline = this.options.redis.pipeline();
    for (const day of days) pipeline.hgetall(this.countsKey(environmentId, day));
    const results = (await pipeline.exec()) ?? [];
    const out: { day: string; counts: Record<string, number> }[] = [];
    days.forEach((day, index) => {
      const [error, hash] = results[index] ?? [null, {}];
      if (error) throw error;
      const counts = Object.fromEntries(Object.entries(hash as Record<string, string>).map(([feature, count]) => [feature, Number(count)]));
      // A day whose counts expired while its index entry stayed is omitted like any empty day.
      if (Object.keys(counts).length > 0) out.push({ day, counts });
    });
    return out;
  }
}
