import type { CheckpointStore } from '@flagline/event-sourcing';
import type Redis from 'ioredis';

export interface RedisCheckpointStoreOptions {
  /** The caller owns the connection. */
  readonly redis: Redis;
  /** Default `flagline:checkpoint:`. */
  readonly keyPrefix?: string;
}

/**
 * Consumer positions (the relay's, for one) as one decimal string per name. Commands on one
 * connection run in the order sent, so the last save issued is the one that stays.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly prefix: string;

  constructor(private readonly options: RedisCheckpointStoreOptions) {
    this.prefix = options.keyPrefix ?? 'flagline:checkpoint:';
  }

  async load(name: string): Promise<number> {
    const text = await this.options.redis.get(this.prefix + name);
    if (text === null) return 0;
    const position = Number(text);
    if (!Number.isSafeInteger(position) || position < 0) throw new Error(`Checkpoint ${name} holds ${JSON.stringify(text)}, not a position`);
    return position;
  }

  async save(name: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`Checkpoint position must be a non-negative integer, got ${position}`);
    await this.options.redis.set(this.prefix + name, String(position));
  }
}
