import { describeWithInfra, redisUrl } from '@flagline/infra-testing';
import { describeBatchReadModelStoreContract, describeReadModelStoreContract } from '@flagline/read-model/testing';
import type { ReadModelChange } from '@flagline/contracts';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisReadModelStore } from './redis-read-model.store';

const uniquePrefix = (): string => `test:rm:${randomUUID().slice(0, 8)}:`;

async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeWithInfra('RedisReadModelStore', () => {
  const harness = (): Promise<{ store: RedisReadModelStore; dispose(): Promise<void> }> => {
    const redis = new Redis(redisUrl());
    const keyPrefix = uniquePrefix();
    const store = new RedisReadModelStore({ redis, keyPrefix });
    return Promise.resolve({
      store,
      dispose: async () => {
        await store.close();
        await deleteKeysWithPrefix(redis, keyPrefix);
        await redis.quit();
      },
    });
  };
  describeReadModelStoreContract('Redis', harness);
  describeBatchReadModelStoreContract('Redis', harness);

  describe('adapter', () => {
    let redis: Redis;
    let keyPrefix: string;
    const stores: RedisReadModelStore[] = [];
    const open = (options: { keyPrefix?: string; scanCount?: number } = {}): RedisReadModelStore => {
      const store = new RedisReadModelStore({ redis, keyPrefix, ...options });
      stores.push(store);
      return store;
    };

    beforeEach(() => {
      redis = new Redis(redisUrl());
      keyPrefix = uniquePrefix();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      await deleteKeysWithPrefix(redis, keyPrefix);
      await redis.quit();
    });

    it('lets exactly one of many racing commits at the same checkpoint apply', async () => {
      const store = open();
      const others = Array.from({ length: 4 }, () => new Redis(redisUrl()));
      try {
        const outcomes = await Promise.all(
          [redis, ...others].map((client, n) =>
            new RedisReadModelStore({ redis: client, keyPrefix }).commit({
              checkpoint: { key: 'cp', expected: 0, next: n + 1 },
              writes: [{ key: 'doc', value: n }, { key: `only-${n}`, value: n }],
              changedEnvironments: [],
            }),
          ),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        const winner = outcomes.indexOf(true);
        expect(await store.checkpoint('cp')).toBe(winner + 1);
        expect(await store.get('doc')).toBe(winner);
        expect(await store.keysWithPrefix('only-')).toEqual([`only-${winner}`]);
      } finally {
        await Promise.all(others.map((client) => client.quit()));
      }
    });

    it('loads the commit script again after the server forgot it', async () => {
      const store = open();
      await store.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [{ key: 'a', value: 1 }], changedEnvironments: [] });
      await redis.script('FLUSH');
      expect(await store.commit({ checkpoint: { key: 'cp', expected: 1, next: 2 }, writes: [{ key: 'a', value: 2 }], changedEnvironments: [] })).toBe(true);
      expect(await store.get('a')).toBe(2);
    });

    it('stores documents as JSON strings and checkpoints as decimal strings under its prefix', async () => {
      const store = open();
      await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 12 }, writes: [{ key: 'environment:1', value: { id: 1 } }], changedEnvironments: [] });
      expect(await redis.get(`${keyPrefix}doc:environment:1`)).toBe('{"id":1}');
      expect(await redis.get(`${keyPrefix}cp:checkpoint:project:1`)).toBe('12');
    });

    it('lists documents only, never checkpoints, across many SCAN rounds', async () => {
      const store = open({ scanCount: 10 });
      const keys = Array.from({ length: 55 }, (_, i) => `identity:7:user-${String(i).padStart(2, '0')}`);
      await store.commit({ checkpoint: { key: 'identity:7:checkpoint', expected: 0, next: 1 }, writes: keys.map((key) => ({ key, value: 1 })), changedEnvironments: [] });
      expect(await store.keysWithPrefix('identity:7:')).toEqual(keys);
      expect(await store.keysWithPrefix('')).toEqual(keys);
    });

    it('announces commits made through another connection, and only those under its own prefix', async () => {
      const listener = open();
      const writerConnection = new Redis(redisUrl());
      const writer = new RedisReadModelStore({ redis: writerConnection, keyPrefix });
      const rebuild = open({ keyPrefix: `${keyPrefix}v2:` });
      const seen: ReadModelChange[] = [];
      const unsubscribe = listener.subscribe((change) => seen.push(change));
      await new Promise((resolve) => setTimeout(resolve, 100));
      try {
        await rebuild.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [], changedEnvironments: [999] });
        await writer.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [], changedEnvironments: [5] });
        await eventually(() => seen.length >= 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(seen).toEqual([{ environmentIds: [5], identities: [] }]);
      } finally {
        unsubscribe();
        await deleteKeysWithPrefix(redis, `${keyPrefix}v2:`);
        await writer.close();
        await writerConnection.quit();
      }
    });

    it('stops calling a listener once it unsubscribed', async () => {
      const store = open();
      const seen: ReadModelChange[] = [];
      const unsubscribe = store.subscribe((change) => seen.push(change));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await store.commit({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [], changedEnvironments: [1] });
      await eventually(() => seen.length === 1);
      unsubscribe();
      await store.commit({ checkpoint: { key: 'cp', expected: 1, next: 2 }, writes: [], changedEnvironments: [2] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toHaveLength(1);
    });

    it('refuses to read a checkpoint that is not a position', async () => {
      const store = open();
      await redis.set(`${keyPrefix}cp:broken`, 'twelve');
      await expect(store.checkpoint('broken')).rejects.toThrow('not a position');
    });
  });
});
