import { literalPrefixPattern } from './redis-glob.codec';

/**
 * Where the read model lives in Redis. Documents and checkpoints get separate namespaces, so a
 * document key can never collide with a checkpoint and a prefix scan lists documents only.
 * Bumping the version in the prefix (`flagline:rm:v2:`) gives a rebuild its own keys.
 */
export class RedisReadModelKeyspace {
  constructor(readonly prefix = 'flagline:rm:v1:') {}

  document(key: string): string {
    return `${this.prefix}doc:${key}`;
  }

  /** The read-model key of a Redis document key. */
  documentKeyOf(redisKey: string): string {
    return redisKey.slice(`${this.prefix}doc:`.length);
  }

  documentPattern(keyPrefix: string): string {
    return literalPrefixPattern(this.document(keyPrefix));
  }

  checkpoint(key: string): string {
    return `${this.prefix}cp:${key}`;
  }

  get changesChannel(): string {
    return `${this.prefix}changes`;
  }
}
