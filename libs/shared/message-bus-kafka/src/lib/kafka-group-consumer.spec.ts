import type { RecordedEvent } from '@flagline/event-sourcing';
import { aRecordedEvent } from '@flagline/event-sourcing/testing';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { encodeEventEnvelope } from './event-envelope.codec';
import {
  KafkaGroupConsumer,
  type KafkaGroupConsumerConfig,
  type KafkaRecovery,
  KafkaSessionTimeoutError,
  REVIVAL_FIRST_DELAY_MS,
  REVIVAL_MAX_DELAY_MS,
  revivalDelayMs,
} from './kafka-group-consumer';

interface CrashPayload {
  readonly error: unknown;
  readonly groupId: string;
  readonly restart: boolean;
}

type Listener = (event: { payload: CrashPayload }) => void;

/** The part of a kafkajs consumer KafkaGroupConsumer uses: events are emitted by the test. */
class FakeConsumer {
  readonly events = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' } as const;
  private readonly listeners = new Map<string, Set<Listener>>();
  runs = 0;
  disconnects = 0;
  eachBatch: ((payload: EachBatchPayload) => Promise<void>) | null = null;

  on(name: string, listener: Listener): () => void {
    const set = this.listeners.get(name) ?? new Set<Listener>();
    this.listeners.set(name, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(name: string, payload: CrashPayload = { error: null, groupId: 'g', restart: false }): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) listener({ payload });
  }

  crash(error: unknown, restart: boolean): void {
    this.emit(this.events.CRASH, { error, groupId: 'g', restart });
  }

  join(): void {
    this.emit(this.events.GROUP_JOIN);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  run(options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.runs++;
    this.eachBatch = options.eachBatch;
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.disconnects++;
    return Promise.resolve();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
}

function member(fake: FakeConsumer, overrides: Partial<KafkaGroupConsumerConfig> = {}): KafkaGroupConsumer {
  return new KafkaGroupConsumer({
    consumer: fake as unknown as Consumer,
    group: 'g',
    topic: 't',
    handler: () => undefined,
    fromBeginning: true,
    partitionsConsumedConcurrently: 1,
    joinTimeoutMs: 5000,
    retry: {},
    sendDeadLetter: () => Promise.resolve(),
    heartbeatIntervalMs: 100,
    ...overrides,
  });
}

/** Starts the member and lets the fake group accept it. */
async function started(fake: FakeConsumer, subject: KafkaGroupConsumer): Promise<void> {
  const start = subject.start();
  await waitFor(() => fake.runs === 1, 1000, 'the first run');
  fake.join();
  await start;
}

describe('revivalDelayMs', () => {
  it('doubles from the first delay, never exceeds 1 s, and is drawn between half and all of its ceiling', () => {
    const ceilings = [0, 1, 2, 3, 4, 10, 50].map((failures) => revivalDelayMs(failures, () => 0.999999));
    expect(ceilings).toEqual([REVIVAL_FIRST_DELAY_MS, 400, 800, REVIVAL_MAX_DELAY_MS, REVIVAL_MAX_DELAY_MS, REVIVAL_MAX_DELAY_MS, REVIVAL_MAX_DELAY_MS]);
    expect(revivalDelayMs(50, () => 0)).toBe(REVIVAL_MAX_DELAY_MS / 2);
    const drawn = Array.from({ length: 200 }, () => revivalDelayMs(20));
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(REVIVAL_MAX_DELAY_MS / 2);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(REVIVAL_MAX_DELAY_MS);
    // Jittered: members that crashed together do not all come back at the same instant.
    expect(new Set(drawn).size).toBeGreaterThan(10);
  });
});

describe('KafkaGroupConsumer', () => {
  it('reports the first crash of an outage only, then the recovery with the outage length and the crashes counted', async () => {
    const fake = new FakeConsumer();
    const errors: unknown[] = [];
    const recoveries: KafkaRecovery[] = [];
    const subject = member(fake, { onError: (error) => errors.push(error), onRecovered: (recovery) => recoveries.push(recovery) });
    await started(fake, subject);
    for (let attempt = 1; attempt <= 5; attempt++) fake.crash(new Error(`broker away ${attempt}`), true);
    await sleep(30);
    fake.join();
    fake.crash(new Error('second outage'), true);
    fake.join();
    await subject.stop();
    expect(errors.map((error) => (error as Error).message)).toEqual(['broker away 1', 'second outage']);
    expect(recoveries.map(({ crashes }) => crashes)).toEqual([5, 1]);
    expect(recoveries[0]?.downMs).toBeGreaterThanOrEqual(25);
  });

  it('runs a consumer kafkajs gave up on again within a second, and again after each failed run, until it is back in its group', async () => {
    const fake = new FakeConsumer();
    const subject = member(fake);
    await started(fake, subject);
    const crashedAt = Date.now();
    // Not restarted by kafkajs (an unexpected answer while the broker restarts, say).
    fake.crash(new Error('unexpected'), false);
    await waitFor(() => fake.runs === 2, 1500, 'the revival');
    const firstRevivalMs = Date.now() - crashedAt;
    // kafkajs reports a failed join from inside the run: the member goes round again.
    fake.crash(new Error('still away'), false);
    await waitFor(() => fake.runs === 3, 1500, 'the second revival');
    fake.join();
    await subject.stop();
    expect(firstRevivalMs).toBeGreaterThanOrEqual(REVIVAL_FIRST_DELAY_MS / 2);
    expect(firstRevivalMs).toBeLessThan(REVIVAL_MAX_DELAY_MS + 200);
  });

  it('does not revive a stopped member', async () => {
    const fake = new FakeConsumer();
    const subject = member(fake);
    await started(fake, subject);
    fake.crash(new Error('unexpected'), false);
    await subject.stop();
    await sleep(REVIVAL_MAX_DELAY_MS + 100);
    expect(fake.runs).toBe(1);
  });

  it('fails its start with a message naming the broker settings when the broker refuses its session timeout', async () => {
    const fake = new FakeConsumer();
    const subject = member(fake);
    const start = subject.start();
    await waitFor(() => fake.runs === 1, 1000, 'the first run');
    const refused = Object.assign(new Error('The session timeout is not within the range allowed by the broker'), { type: 'INVALID_SESSION_TIMEOUT' });
    fake.crash(Object.assign(new Error('Crash: KafkaJSNonRetriableError'), { cause: refused }), false);
    await expect(start).rejects.toThrow(KafkaSessionTimeoutError);
    await expect(start).rejects.toThrow(/group\.min\.session\.timeout\.ms/);
  });

  it('keeps heartbeating while a batch handler works longer than the session would last without them', async () => {
    const fake = new FakeConsumer();
    let heartbeats = 0;
    let heartbeatsDuringHandler = -1;
    const subject = member(fake, {
      heartbeatIntervalMs: 100,
      batch: {
        handler: async () => {
          const before = heartbeats;
          await sleep(700);
          heartbeatsDuringHandler = heartbeats - before;
        },
      },
    });
    await started(fake, subject);
    const events: RecordedEvent[] = [aRecordedEvent({ globalPosition: 1 }), aRecordedEvent({ globalPosition: 2 })];
    const messages = events.map((event, index) => ({ offset: String(index), value: Buffer.from(encodeEventEnvelope(event)), key: null, headers: {} }) as unknown as KafkaMessage);
    const committed: string[] = [];
    const payload = {
      batch: { topic: 't', partition: 0, messages },
      heartbeat: () => {
        heartbeats++;
        return Promise.resolve();
      },
      resolveOffset: () => undefined,
      commitOffsetsIfNecessary: (offsets: { topics: { partitions: { offset: string }[] }[] }) => {
        committed.push(offsets.topics[0]?.partitions[0]?.offset ?? '?');
        return Promise.resolve();
      },
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;
    await (fake.eachBatch as (payload: EachBatchPayload) => Promise<void>)(payload);
    await subject.stop();
    // One every 50 ms asked for (kafkajs sends one when 100 ms passed): 700 ms hold about 14.
    expect(heartbeatsDuringHandler).toBeGreaterThanOrEqual(7);
    expect(committed).toEqual(['2']);
  });
});
