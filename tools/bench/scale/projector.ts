/**
 * Distributed projector catch-up, per partition: N events of a realistic mix (mostly identity
 * events, some project events) are produced into a one-partition topic on a real Kafka broker,
 * then a projector starts on a real Redis and the time from its start to caught up (every
 * project checkpoint at its last event) is measured, for the per-event path
 * (PROJECTOR_BATCH_EVENTS=0: three reads and one Lua step per event) and the batch path (a Kafka
 * batch at a time, one Lua step per batch) in the same run. The per-event path is given at most
 * BENCH_PROJECTOR_BEFORE_SECONDS (default 60) and its rate taken from the events it applied by
 * then. The batch path's read models are compared, document by document and checkpoint by
 * checkpoint, with the same events projected one by one in memory.
 *
 *   node -r @swc-node/register tools/bench/scale/projector.ts
 *   BENCH_PROJECTOR_EVENTS=200000 BENCH_PROJECTOR_BATCH=1000 …
 *
 * The last line is JSON: `eventsPerSecondPerPartition` (batch path) and `perEventEventsPerSecond`,
 * or `skipped` with the reason when Redis or Kafka is not installed.
 */
import { EnvironmentProjector, projectCheckpointKey, projectIdOf, isProjectable } from '@flagline/admin-projections';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { KafkaBroker, RedisServer, kafkaUnavailableReason, redisUnavailableReason } from '@flagline/infra-testing';
import { KafkaEventBus } from '@flagline/message-bus-kafka';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { loadavg } from 'node:os';
import pino from 'pino';
import { startProjector } from '../../../apps/projector/src/projector.service';
import { recordEventMix } from '../../../apps/projector/src/testing/event-mix';

const log = (line: string): void => console.log(`[projector bench] ${line}`);

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

interface Run {
  readonly applied: number;
  readonly seconds: number;
  readonly caughtUp: boolean;
  /** Seconds from start until the first checkpoint moved (group join, first fetch). */
  readonly firstSeconds: number;
  /** CPU seconds (user and system) this process spent meanwhile: the projector runs in it. */
  readonly cpuSeconds: number;
}

interface Workload {
  readonly events: readonly RecordedEvent[];
  /** Each project's last position: caught up when every checkpoint holds it. */
  readonly finalPositions: ReadonlyMap<number, number>;
  /** Events in topic order up to and including each position. */
  readonly eventsUpTo: ReadonlyMap<number, number>;
}

function workloadOf(events: readonly RecordedEvent[]): Workload {
  const finalPositions = new Map<number, number>();
  const eventsUpTo = new Map<number, number>();
  events.forEach((event, index) => {
    eventsUpTo.set(event.globalPosition, index + 1);
    if (isProjectable(event)) finalPositions.set(projectIdOf(event), event.globalPosition);
  });
  return { events, finalPositions, eventsUpTo };
}

/** Events applied so far: in one partition, in order, so up to the furthest project checkpoint. */
async function progress(store: RedisReadModelStore, workload: Workload): Promise<{ applied: number; caughtUp: boolean }> {
  const projects = [...workload.finalPositions.keys()];
  const positions = await store.checkpointMany(projects.map(projectCheckpointKey));
  const furthest = Math.max(0, ...positions);
  const caughtUp = projects.every((projectId, index) => positions[index] === workload.finalPositions.get(projectId));
  return { applied: caughtUp ? workload.events.length : (workload.eventsUpTo.get(furthest) ?? 0), caughtUp };
}

async function runProjector(
  setup: { redis: RedisServer; kafka: KafkaBroker; topic: string },
  workload: Workload,
  batchEvents: number,
  prefix: string,
  limitSeconds: number,
): Promise<Run> {
  const redis = new Redis(setup.redis.url);
  const store = new RedisReadModelStore({ redis, keyPrefix: prefix });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const projector = await startProjector(
    {
      port: 0,
      host: '127.0.0.1',
      kafkaBrokers: setup.kafka.brokers,
      topic: setup.topic,
      groupId: `bench-${prefix}`,
      redisUrl: setup.redis.url,
      readModelPrefix: prefix,
      sessionTimeoutMs: 10_000,
      batchEvents,
    },
    pino({ level: 'warn' }),
  );
  let firstSeconds = -1;
  try {
    for (;;) {
      const { applied, caughtUp } = await progress(store, workload);
      const seconds = (performance.now() - started) / 1000;
      if (applied > 0 && firstSeconds < 0) firstSeconds = seconds;
      if (caughtUp || seconds >= limitSeconds) {
        const used = process.cpuUsage(cpu);
        return { applied, seconds, caughtUp, firstSeconds, cpuSeconds: (used.user + used.system) / 1e6 };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await projector.close();
    await store.close();
    redis.disconnect();
  }
}

/** Every document and checkpoint of the batch run against the events projected one by one in memory. */
async function compareWithInMemory(redisUrl: string, prefix: string, workload: Workload): Promise<{ documents: number; differing: string[] }> {
  const expected = new InMemoryReadModelStore();
  const projector = new EnvironmentProjector(expected);
  for (const event of workload.events) await projector.handle(event);
  const want = expected.dump();
  const redis = new Redis(redisUrl);
  const store = new RedisReadModelStore({ redis, keyPrefix: prefix });
  try {
    const keys = await store.keysWithPrefix('');
    const present = new Set(keys);
    const differing = new Set<string>(Object.keys(want).filter((key) => !present.has(key)));
    for (let start = 0; start < keys.length; start += 5000) {
      const slice = keys.slice(start, start + 5000);
      const values = await store.getMany(slice);
      slice.forEach((key, index) => {
        if (JSON.stringify(values[index]) !== JSON.stringify(want[key])) differing.add(key);
      });
    }
    const projects = [...workload.finalPositions.keys()].map(projectCheckpointKey);
    const [got, wanted] = await Promise.all([store.checkpointMany(projects), expected.checkpointMany(projects)]);
    projects.forEach((key, index) => {
      if (got[index] !== wanted[index]) differing.add(key);
    });
    return { documents: keys.length, differing: [...differing] };
  } finally {
    await store.close();
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const unavailable = redisUnavailableReason() ?? kafkaUnavailableReason();
  if (unavailable) {
    log(`skipped: ${unavailable}`);
    console.log(JSON.stringify({ skipped: unavailable }));
    return;
  }
  const target = positiveInteger('BENCH_PROJECTOR_EVENTS', 200_000);
  const batchEvents = positiveInteger('BENCH_PROJECTOR_BATCH', 8000);
  const beforeSeconds = positiveInteger('BENCH_PROJECTOR_BEFORE_SECONDS', 60);
  const afterSeconds = positiveInteger('BENCH_PROJECTOR_AFTER_SECONDS', 300);

  let started = performance.now();
  // About 2.4 events per identity in the mix (creation, traits, some updates, overrides, toggles).
  const events = await recordEventMix({ projects: 8, featuresPerProject: 40, identities: Math.ceil(target / 2.4) });
  const workload = workloadOf(events);
  const types = new Map<string, number>();
  for (const event of events) types.set(event.type, (types.get(event.type) ?? 0) + 1);
  log(`${events.length} events recorded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${[...types].map(([type, count]) => `${type} ${count}`).join(', ')}`);

  const redis = await RedisServer.start();
  const kafka = await KafkaBroker.start();
  try {
    const topic = `bench.projector.${Date.now()}`;
    const bus = new KafkaEventBus({ kafka: new Kafka({ clientId: 'projector-bench', brokers: kafka.brokers, logLevel: logLevel.NOTHING }), topic, partitions: 1 });
    started = performance.now();
    for (let start = 0; start < events.length; start += 500) await bus.publish(events.slice(start, start + 500));
    await bus.close();
    log(`produced into one partition of ${topic} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const setup = { redis, kafka, topic };

    const load = (): string => `load average ${loadavg()[0]?.toFixed(1)} on this host`;
    log(`${load()} before the runs`);
    const before = await runProjector(setup, workload, 0, 'bench:before:', beforeSeconds);
    const beforeRate = before.applied / before.seconds;
    log(
      `per event: ${before.applied}/${events.length} events in ${before.seconds.toFixed(1)} s${before.caughtUp ? ' (caught up)' : ' (stopped at the time limit)'}: ${Math.round(beforeRate)} events/s (first checkpoint after ${before.firstSeconds.toFixed(2)} s); ${Math.round(before.applied / before.cpuSeconds)} events per CPU second of the projector; ${load()}`,
    );
    const after = await runProjector(setup, workload, batchEvents, 'bench:after:', afterSeconds);
    const afterRate = after.applied / after.seconds;
    log(
      `batch of ${batchEvents}: ${after.applied}/${events.length} events in ${after.seconds.toFixed(2)} s${after.caughtUp ? ' (caught up)' : ' (stopped at the time limit)'}: ${Math.round(afterRate)} events/s (first checkpoint after ${after.firstSeconds.toFixed(2)} s); ${Math.round(after.applied / after.cpuSeconds)} events per CPU second of the projector; ${load()}`,
    );
    const check = await compareWithInMemory(redis.url, 'bench:after:', workload);
    log(`batch read models against events projected one by one in memory: ${check.documents} documents, ${check.differing.length} differing${check.differing.length > 0 ? ` (${check.differing.slice(0, 5).join(', ')} …)` : ''}`);
    console.log(
      JSON.stringify({
        events: events.length,
        partitions: 1,
        batchEvents,
        seconds: Number(after.seconds.toFixed(3)),
        caughtUp: after.caughtUp,
        eventsPerSecondPerPartition: Math.round(afterRate),
        perEventEventsPerSecond: Math.round(beforeRate),
        perEventApplied: before.applied,
        perEventSeconds: Number(before.seconds.toFixed(3)),
        speedup: Number((afterRate / beforeRate).toFixed(1)),
        eventsPerCpuSecond: Math.round(after.applied / after.cpuSeconds),
        perEventEventsPerCpuSecond: Math.round(before.applied / before.cpuSeconds),
        loadAverage: Number((loadavg()[0] ?? 0).toFixed(1)),
        readModelsDiffering: check.differing.length,
      }),
    );
    if (!after.caughtUp || check.differing.length > 0) process.exitCode = 1;
  } finally {
    await kafka.dispose();
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
