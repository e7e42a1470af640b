import { SealingKeyStoreClosed, type SealingKey, type SealingKeyStore } from '@flagline/event-sealing';
import type Redis from 'ioredis';

/**
 * Sealing keys in Redis for the distributed services: the command service makes them, the
 * projector reads them. A key is `<prefix><owner>` holding `<id>:<key in base64>`; `ensure` sets
 * it only when absent (`SET NX`) and reads back the one kept. Durable as the Redis server is
 * configured to be: run it with `appendonly yes` and `appendfsync always` for keys to survive a
 * crash of the server before an event sealed with them is acknowledged.
 */
export class RedisSealingKeyStore implements SealingKeyStore {
  private closed = false;

  constructor(private readonly options: { readonly redis: Redis; readonly keyPrefix?: string }) {}

  private keyOf(owner: string): string {
    if (this.closed) throw new SealingKeyStoreClosed();
    return `${this.options.keyPrefix ?? 'flagline:sealing-key:'}${owner}`;
  }

  async get(owner: string): Promise<SealingKey | undefined> {
    const value = await this.options.redis.get(this.keyOf(owner));
    return value === null ? undefined : decode(value);
  }

  async ensure(owner: string, candidate: SealingKey): Promise<SealingKey> {
    const key = this.keyOf(owner);
    const result = await this.options.redis.multi().set(key, encode(candidate), 'NX').get(key).exec();
    const stored = result?.[1]?.[1];
    if (typeof stored !== 'string') throw new Error(`The sealing key of ${owner} could not be stored`);
    return decode(stored);
  }

  async destroy(owner: string): Promise<boolean> {
    return (await this.options.redis.del(this.keyOf(owner))) > 0;
  }

  /** The connection is the caller's and stays open; this store answers nothing once closed. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const encode = (key: SealingKey): string => `${key.id}:${key.key.toString('base64')}`;

function decode(value: string): SealingKey {
  const separator = value.indexOf(':');
  const key = Buffer.from(value.slice(separator + 1), 'base64');
  if (separator <= 0 || key.length !== 32) throw new Error('A stored sealing key is malformed');
  return { id: value.slice(0, separator), key };
}
