import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * A Lua script sent by its SHA1 (EVALSHA), so a commit does not carry the script text; when the
 * server does not know it yet (first use, restart, SCRIPT FLUSH) it is sent once with EVAL,
 * which also caches it for the next EVALSHA.
 */
export class LuaScript {
  readonly sha1: string;

  constructor(readonly source: string) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
