import { describeSealingKeyStoreContract } from '@flagline/event-sealing/testing';
import { describeWithInfra, redisUrl } from '@flagline/infra-testing';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisSealingKeyStore } from './redis-sealing-key.store';

describeWithInfra('RedisSealingKeyStore', () => {
  describeSealingKeyStoreContract('Redis', () => {
    const keyPrefix = `test:sealing-key:${randomUUID().slice(0, 8)}:`;
    const connections = [new Redis(redisUrl())];
    return Promise.resolve({
      keys: new RedisSealingKeyStore({ redis: connections[0] as Redis, keyPrefix }),
      reopen: () => {
        const redis = new Redis(redisUrl());
        connections.push(redis);
        return Promise.resolve(new RedisSealingKeyStore({ redis, keyPrefix }));
      },
      dispose: async () => {
        await Promise.all(connections.map((redis) => redis.quit()));
      },
    });
  });
});
