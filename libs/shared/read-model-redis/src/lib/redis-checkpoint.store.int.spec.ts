import { describeCheckpointStoreContract } from '@flagline/event-sourcing/testing';
import { describeWithInfra, redisUrl } from '@flagline/infra-testing';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisCheckpointStore } from './redis-checkpoint.store';

describeWithInfra('RedisCheckpointStore', () => {
  describeCheckpointStoreContract(
    'Redis',
    () => {
      const keyPrefix = `test:checkpoint:${randomUUID().slice(0, 8)}:`;
      const connections = [new Redis(redisUrl())];
      return Promise.resolve({
        checkpoints: new RedisCheckpointStore({ redis: connections[0] as Redis, keyPrefix }),
        reopen: () => {
          const redis = new Redis(redisUrl());
          connections.push(redis);
          return Promise.resolve(new RedisCheckpointStore({ redis, keyPrefix }));
        },
        dispose: async () => {
          await Promise.all(connections.map((redis) => redis.quit()));
        },
      });
    },
    { durable: true },
  );

  describe('adapter', () => {
    let redis: Redis;
    let checkpoints: RedisCheckpointStore;
    const keyPrefix = `test:checkpoint:${randomUUID().slice(0, 8)}:`;

    beforeEach(() => {
      redis = new Redis(redisUrl());
      checkpoints = new RedisCheckpointStore({ redis, keyPrefix });
    });
    afterEach(async () => {
      await redis.quit();
    });

    it('keeps a position as a decimal string under its prefix', async () => {
      await checkpoints.save('relay', 1234);
      expect(await redis.get(`${keyPrefix}relay`)).toBe('1234');
    });

    it.each([-1, 2.5, Number.NaN])('refuses to save %p', async (position) => {
      await expect(checkpoints.save('relay', position)).rejects.toThrow(RangeError);
    });

    it('refuses to load a value that is not a position', async () => {
      await redis.set(`${keyPrefix}broken`, 'soon');
      await expect(checkpoints.load('broken')).rejects.toThrow('not a position');
    });
  });
});
