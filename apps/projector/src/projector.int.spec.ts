import { EnvironmentProjector, isProjectable, projectCheckpointKey, projectIdOf } from '@flagline/admin-projections';
import type { ReadModelChange } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { describeWithInfra, kafkaBrokers, kafkaClient, redisUrl } from '@flagline/infra-testing';
import { KafkaEventBus, decodeEventEnvelope, readDeadLetter } from '@flagline/message-bus-kafka';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { Redis } from 'ioredis';
import { logLevel } from 'kafkajs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pino from 'pino';
import { startProjector, type ProjectorConfig } from './projector.service';
import { recordEventMix } from './testing/event-mix';

/** The projector as its own process, from its entry point, as a deployment runs it. */
function spawnProjector(env: Record<string, string>): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/projector/src/main.ts'], {
    cwd: resolve(__dirname, '../../..'),
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((done) => child.once('exit', () => done())) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(25);
  }
}

/** The events projected one by one in memory, up to `lastPosition`. */
async function projectedInMemory(events: readonly RecordedEvent[], lastPosition = Infinity): Promise<InMemoryReadModelStore> {
  const store = new InMemoryReadModelStore();
  const projector = new EnvironmentProjector(store);
  for (const event of events) if (event.globalPosition <= lastPosition) await projector.handle(event);
  return store;
}

/** Every document under the store's prefix, by key. */
async function documentsOf(store: RedisReadModelStore): Promise<Record<string, unknown>> {
  const keys = await store.keysWithPrefix('');
  const values = await store.getMany(keys);
  return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
}

const projectsOf = (events: readonly RecordedEvent[]): number[] => [...new Set(events.filter(isProjectable).map(projectIdOf))].sort((a, b) => a - b);

describeWithInfra('Projector applying Kafka batches (real Redis and Kafka)', () => {
  let events: RecordedEvent[];
  let projects: number[];
  let namespace: string;
  let redis: Redis;
  let store: RedisReadModelStore;
  let bus: KafkaEventBus;

  beforeAll(async () => {
    events = await recordEventMix({ projects: 3, featuresPerProject: 10, identities: 4000 });
    projects = projectsOf(events);
  });

  beforeEach(() => {
    namespace = randomBytes(4).toString('hex');
    redis = new Redis(redisUrl());
    store = new RedisReadModelStore({ redis, keyPrefix: `test:projector:${namespace}:` });
    bus = new KafkaEventBus({ kafka: kafkaClient(kafkaBrokers(), { logLevel: logLevel.NOTHING }), topic: `test.projector.${namespace}`, partitions: 1 });
  });
  afterEach(async () => {
    await bus.close();
    await store.close();
    redis.disconnect();
  });

  const config = (overrides: Partial<ProjectorConfig> = {}): ProjectorConfig => ({
    port: 0,
    host: '127.0.0.1',
    kafkaBrokers: kafkaBrokers(),
    topic: bus.topic,
    groupId: `projector-${namespace}`,
    redisUrl: redisUrl(),
    readModelPrefix: `test:projector:${namespace}:`,
    sessionTimeoutMs: 10_000,
    batchEvents: 500,
    ...overrides,
  });

  const publish = async (list: readonly RecordedEvent[]): Promise<void> => {
    for (let start = 0; start < list.length; start += 500) await bus.publish(list.slice(start, start + 500));
  };

  const caughtUp = (list: readonly RecordedEvent[]) => async (): Promise<boolean> => {
    const last = new Map<number, number>();
    for (const event of list) if (isProjectable(event)) last.set(projectIdOf(event), event.globalPosition);
    const positions = await store.checkpointMany(projects.map(projectCheckpointKey));
    return projects.every((projectId, index) => positions[index] === last.get(projectId));
  };

  it('dead-letters a poison event and applies every other one, as one by one would; a redelivery of everything writes nothing', async () => {
    const at = events.findIndex((event, index) => index > 3000 && event.type === 'IdentityTraitsChanged');
    const original = events[at] as RecordedEvent;
    // Traits removed must be a list: no attempt can apply this event.
    const poison: RecordedEvent = { ...original, data: { ...(original.data as object), removed: 5 } };
    const published = [...events.slice(0, at), poison, ...events.slice(at + 1)];
    await publish(published);

    const projector = await startProjector(config(), pino({ level: 'silent' }));
    try {
      await until(caughtUp(published), 'the projector caught up');
    } finally {
      await projector.close();
    }
    const healthy = published.filter((event) => event !== poison);
    const expected = await projectedInMemory(healthy);
    expect(await documentsOf(store)).toEqual(expected.dump());
    const [parked] = await readTopicOnce(bus.deadLetterTopic);
    expect(parked?.id).toBe(poison.id);
    expect(parked?.reason).toBe('handler-failed');

    // Another group reads the whole topic again: every event is a duplicate, nothing is written or announced.
    const heard: ReadModelChange[] = [];
    store.subscribe((change) => heard.push(change));
    await sleep(100);
    const replay = await startProjector(config({ groupId: `replay-${namespace}` }), pino({ level: 'silent' }));
    try {
      await until(async () => {
        const metrics = await fetch(`${replay.url}/metrics`).then((response) => response.text());
        const duplicates = Number(/flagline_projector_events_total\{[^}]*outcome="duplicate"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
        return duplicates >= healthy.length;
      }, 'the replay went through the topic');
    } finally {
      await replay.close();
    }
    expect(heard).toEqual([]);
    expect(await documentsOf(store)).toEqual(expected.dump());
  });

  it('leaves Redis exactly at a batch boundary when the projector process is killed mid catch-up, and completes after a restart', async () => {
    await publish(events);
    const env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPIC: bus.topic,
      KAFKA_GROUP_ID: `projector-${namespace}`,
      REDIS_URL: redisUrl(),
      READ_MODEL_PREFIX: `test:projector:${namespace}:`,
      PROJECTOR_BATCH_EVENTS: '300',
    };
    const first = spawnProjector(env);
    const moved = async (): Promise<boolean> => (await store.checkpointMany(projects.map(projectCheckpointKey))).some((position) => position > 0);
    try {
      await until(moved, 'the first batch applied');
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }

    const positions = await store.checkpointMany(projects.map(projectCheckpointKey));
    const furthest = Math.max(...positions);
    expect(await caughtUp(events)()).toBe(false);
    // Events are in one partition, in log order, applied a batch at a time: Redis holds exactly
    // the projection of the events up to the furthest checkpoint, and each project's checkpoint
    // is its last event up to there.
    const prefix = await projectedInMemory(events, furthest);
    expect(await documentsOf(store)).toEqual(prefix.dump());
    expect(positions).toEqual(await prefix.checkpointMany(projects.map(projectCheckpointKey)));

    const second = spawnProjector(env);
    try {
      await until(caughtUp(events), 'the restarted projector caught up');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    expect(await documentsOf(store)).toEqual((await projectedInMemory(events)).dump());
  });

  /** The events parked in the dead-letter topic, with why. */
  async function readTopicOnce(topic: string): Promise<{ id: string; reason: string | undefined }[]> {
    const consumer = kafkaClient(kafkaBrokers(), { logLevel: logLevel.NOTHING }).consumer({ groupId: `reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
    const parked: { id: string; reason: string | undefined }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          parked.push({ id: decodeEventEnvelope(message.value).id, reason: readDeadLetter(message.headers)?.reason });
          return Promise.resolve();
        },
      });
      await until(() => Promise.resolve(parked.length > 0), 'a dead letter', 60_000);
    } finally {
      await consumer.disconnect();
    }
    return parked;
  }
});
