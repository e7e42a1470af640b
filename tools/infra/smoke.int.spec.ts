// Proves the integration infrastructure end to end: real round trips against the shared servers,
// and stop/kill/start of private ones keeping their data.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { type Consumer, type Kafka, type Producer, Partitioners } from 'kafkajs';
import { describeWithInfra, kafkaClient, redisUrl, withOwnKafka, withOwnRedis } from './infra.testing';

interface Received {
  key: string;
  value: string;
  partition: number;
  offset: string;
}

/** Subscribes a consumer group and resolves once `count` messages arrived (or rejects on timeout). */
async function consume(kafka: Kafka, topic: string, groupId: string, count: number, fromBeginning = true, timeoutMs = 60_000): Promise<Received[]> {
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const received: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${count} messages from ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: ({ message, partition }) => {
            received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition, offset: message.offset });
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    // disconnect() commits the offsets of the processed messages.
    await consumer.disconnect();
  }
  return received;
}

function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
}

async function produce(producer: Producer, topic: string, keys: readonly string[], perKey: number, prefix: string): Promise<void> {
  for (let seq = 0; seq < perKey; seq++) {
    await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: `${prefix}:${key}:${seq}` })) });
  }
}

function valuesByKey(messages: readonly Received[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const m of messages) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.value]);
  return byKey;
}

describeWithInfra('infra smoke: shared Redis', () => {
  let redis: Redis;
  const prefix = `smoke:${randomUUID()}`;

  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('sets and gets a key', async () => {
    await redis.set(`${prefix}:greeting`, 'hello');
    await expect(redis.get(`${prefix}:greeting`)).resolves.toBe('hello');
  });

  it('runs a Lua script atomically (apply only if newer)', async () => {
    const script = `
      local current = tonumber(redis.call('HGET', KEYS[1], 'position') or '-1')
      if tonumber(ARGV[1]) <= current then return 0 end
      redis.call('HSET', KEYS[1], 'position', ARGV[1], 'doc', ARGV[2])
      return 1`;
    const key = `${prefix}:doc`;
    await expect(redis.eval(script, 1, key, '2', 'v2')).resolves.toBe(1);
    await expect(redis.eval(script, 1, key, '1', 'v1')).resolves.toBe(0);
    await expect(redis.hgetall(key)).resolves.toEqual({ position: '2', doc: 'v2' });
  });

  it('delivers a pub/sub message', async () => {
    const subscriber = new Redis(redisUrl());
    const channel = `${prefix}:channel`;
    try {
      const message = new Promise<string>((resolve) => subscriber.once('message', (_channel: string, payload: string) => resolve(payload)));
      await subscriber.subscribe(channel);
      await expect(redis.publish(channel, 'ping')).resolves.toBe(1);
      await expect(message).resolves.toBe('ping');
    } finally {
      subscriber.disconnect();
    }
  });
});

describeWithInfra('infra smoke: shared Kafka', () => {
  it('creates a 3-partition topic, produces idempotently and consumes in per-key order', async () => {
    const kafka = kafkaClient();
    const topic = `smoke-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).resolves.toBe(true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }

    const keys = ['flag-a', 'flag-b', 'flag-c', 'flag-d', 'flag-e', 'flag-f'];
    const perKey = 20;
    const producer = idempotentProducer(kafka);
    await producer.connect();
    try {
      await produce(producer, topic, keys, perKey, 'm');
    } finally {
      await producer.disconnect();
    }

    const received = await consume(kafka, topic, `smoke-${randomUUID()}`, keys.length * perKey);
    expect(received).toHaveLength(keys.length * perKey);
    expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    const byKey = valuesByKey(received);
    for (const key of keys) {
      expect(byKey.get(key)).toEqual(Array.from({ length: perKey }, (_, seq) => `m:${key}:${seq}`));
    }
    for (const key of keys) {
      expect(new Set(received.filter((m) => m.key === key).map((m) => m.partition)).size).toBe(1);
    }
  });
});

describeWithInfra(
  'infra smoke: private Kafka broker survives stop/start and kill/start',
  () => {
    const broker = withOwnKafka();
    const keys = ['k1', 'k2', 'k3'];

    it('keeps topics, messages and committed offsets across a clean restart, and the producer reconnects', async () => {
      const topic = `restart-${randomUUID()}`;
      const kafka = kafkaClient(broker().brokers, { retry: { retries: 10, initialRetryTime: 200 } });
      const producer = idempotentProducer(kafka);
      await producer.connect();
      try {
        await produce(producer, topic, keys, 5, 'before');
        // Group g1 consumes (and commits) everything produced before the restart.
        await expect(consume(kafka, topic, 'g1', 15)).resolves.toHaveLength(15);

        const port = broker().port;
        await broker().stop();
        expect(broker().running).toBe(false);
        await broker().start();
        expect(broker().port).toBe(port);

        // The same idempotent producer carries on after reconnecting.
        await produce(producer, topic, keys, 3, 'after');
      } finally {
        await producer.disconnect();
      }

      const everything = valuesByKey(await consume(kafka, topic, 'g2', 24));
      for (const key of keys) {
        const expected = [...Array.from({ length: 5 }, (_, i) => `before:${key}:${i}`), ...Array.from({ length: 3 }, (_, i) => `after:${key}:${i}`)];
        expect(everything.get(key)).toEqual(expected);
      }
      // g1's committed offsets survived: it resumes after the pre-restart messages.
      const resumed = await consume(kafka, topic, 'g1', 9);
      expect(resumed.every((m) => m.value.startsWith('after:'))).toBe(true);
    });

    it('recovers acknowledged messages after kill (SIGKILL) and start', async () => {
      const topic = `crash-${randomUUID()}`;
      const kafka = kafkaClient(broker().brokers, { retry: { retries: 10, initialRetryTime: 200 } });
      const producer = idempotentProducer(kafka);
      await producer.connect();
      try {
        await produce(producer, topic, keys, 4, 'acked');
      } finally {
        await producer.disconnect();
      }
      broker().kill();
      await broker().start();
      const received = valuesByKey(await consume(kafka, topic, `crash-${randomUUID()}`, 12));
      for (const key of keys) expect(received.get(key)).toEqual(Array.from({ length: 4 }, (_, i) => `acked:${key}:${i}`));
    });
  },
  { own: ['kafka'] },
);

describeWithInfra(
  'infra smoke: private Redis survives stop/start',
  () => {
    const server = withOwnRedis({ appendOnly: true });

    it('keeps data (append-only) and the client reconnects on the same port', async () => {
      const client = new Redis(server().url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      try {
        await client.set('survivor', '1');
        await server().stop();
        await server().start();
        await expect(client.get('survivor')).resolves.toBe('1');
        server().kill();
        await server().start();
        await expect(client.incr('survivor')).resolves.toBe(2);
      } finally {
        client.disconnect();
      }
    });
  },
  { own: ['redis'] },
);
