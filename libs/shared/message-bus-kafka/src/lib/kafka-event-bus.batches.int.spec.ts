import type { RecordedEvent } from '@flagline/event-sourcing';
import { aRecordedEvent } from '@flagline/event-sourcing/testing';
import { describeWithInfra, kafkaClient } from '@flagline/infra-testing';
import type { Kafka } from 'kafkajs';
import { Recorder, deleteTopics, eventually, pause, readTopic, testBus, uniqueGroup, uniqueTopic } from '../testing/kafka-bus.fixtures';
import { type DeadLetter, readDeadLetter } from './dead-letter.codec';
import { decodeEventEnvelope } from './event-envelope.codec';
import type { KafkaEventBus, KafkaEventBusOptions } from './kafka-event-bus';

/** `count` events of one project (one partition), in log order. */
const oneProject = (count: number): RecordedEvent[] =>
  Array.from({ length: count }, (_, revision) => aRecordedEvent({ streamName: 'feature-1', streamRevision: revision, globalPosition: revision + 1, metadata: { projectId: 'project-1' } }));

/** A batch handler that records each batch it applied whole. */
class BatchRecorder {
  readonly batches: RecordedEvent[][] = [];
  calls = 0;

  handler(before?: (events: readonly RecordedEvent[]) => void): (events: readonly RecordedEvent[]) => Promise<void> {
    return (events) => {
      this.calls++;
      before?.(events);
      this.batches.push([...events]);
      return Promise.resolve();
    };
  }

  ids(): string[] {
    return this.batches.flat().map((event) => event.id);
  }
}

describeWithInfra('KafkaEventBus batches', () => {
  let kafka: Kafka;
  let topic: string;
  const buses: KafkaEventBus[] = [];
  const open = (options: Partial<KafkaEventBusOptions> = {}): KafkaEventBus => {
    const bus = testBus({ topic, partitions: 1, ...options }, kafka);
    buses.push(bus);
    return bus;
  };

  beforeEach(() => {
    kafka = kafkaClient();
    topic = uniqueTopic('batches');
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await deleteTopics(kafka, [topic, `${topic}.dlq`]);
  });

  it('hands a partition’s events to the batch handler many at a time, in order, up to the size asked, and commits after each batch', async () => {
    const events = oneProject(250);
    await open().publish(events);
    const batches = new BatchRecorder();
    const single = new Recorder();
    const group = uniqueGroup();
    const subscription = await open().subscribeBatches(group, single.handler('single'), { handler: batches.handler(), maxEvents: 100 });
    await eventually(() => batches.ids().length >= events.length, 60_000, () => `${batches.ids().length} of ${events.length}`);
    await subscription.stop();

    expect(batches.ids()).toEqual(events.map((event) => event.id));
    expect(batches.batches.length).toBeLessThan(events.length / 10);
    expect(Math.max(...batches.batches.map((batch) => batch.length))).toBeLessThanOrEqual(100);
    expect(single.seen).toEqual([]);

    // Offsets were committed: the group's next member gets only what comes later.
    const later = aRecordedEvent({ streamName: 'feature-1', streamRevision: 250, globalPosition: 251, metadata: { projectId: 'project-1' } });
    const next = new BatchRecorder();
    await open().subscribeBatches(group, single.handler('single'), { handler: next.handler() });
    await open().publish([later]);
    await eventually(() => next.ids().length >= 1, 60_000, () => 'the later event not handled');
    await pause(300);
    expect(next.ids()).toEqual([later.id]);
  });

  it('dead-letters a poison event found one by one after its batch failed, and applies the others', async () => {
    const letters: DeadLetter[] = [];
    const bus = open({ handlerRetry: { attempts: 2, initialDelayMs: 10 }, onDeadLetter: (letter) => letters.push(letter) });
    const events = oneProject(40);
    const poison = events[17] as RecordedEvent;
    await bus.publish(events);
    const batches = new BatchRecorder();
    const single = new Recorder();
    const group = uniqueGroup('projector');
    await bus.subscribeBatches(
      group,
      single.handler('single', (event) => {
        if (event.id === poison.id) throw new Error('cannot project this one');
      }),
      {
        handler: batches.handler((batch) => {
          if (batch.some((event) => event.id === poison.id)) throw new Error('cannot project this batch');
        }),
      },
    );
    const healthy = events.filter((event) => event !== poison);
    await eventually(() => new Set([...batches.ids(), ...single.ids()]).size >= healthy.length, 60_000, () => 'healthy events not all applied');

    const order = healthy.map((event) => event.id);
    const inOrder = (ids: string[]): boolean => ids.every((id, index) => index === 0 || order.indexOf(id) > order.indexOf(ids[index - 1] as string));
    expect([...batches.ids(), ...single.ids()].sort()).toEqual([...order].sort());
    expect(inOrder(batches.ids()) && inOrder(single.ids())).toBe(true);
    // The batch that held the poison event (all 40 come in one fetch) was applied one by one.
    expect(single.ids().length).toBeGreaterThan(0);
    const [parked] = await readTopic(kafka, `${topic}.dlq`, 1);
    expect(decodeEventEnvelope(parked?.message.value ?? null)).toEqual(poison);
    expect(readDeadLetter(parked?.message.headers)).toMatchObject({ reason: 'handler-failed', error: 'Error: cannot project this one', offset: '17', group, attempts: 2 });
    expect(letters).toHaveLength(1);
  });

  it('retries a batch whole while its store is away, never one by one and never to the dead-letter topic', async () => {
    const letters: DeadLetter[] = [];
    const bus = open({
      handlerRetry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20, isTransient: (error) => error instanceof Error && error.message === 'store unavailable' },
      onDeadLetter: (letter) => letters.push(letter),
    });
    const events = oneProject(30);
    await bus.publish(events);
    let failures = 6;
    const batches = new BatchRecorder();
    const single = new Recorder();
    await bus.subscribeBatches(uniqueGroup(), single.handler('single'), {
      handler: batches.handler(() => {
        if (failures-- > 0) throw new Error('store unavailable');
      }),
    });
    await eventually(() => batches.ids().length >= events.length, 60_000, () => `${batches.ids().length} of ${events.length}`);
    expect(batches.ids()).toEqual(events.map((event) => event.id));
    expect(batches.calls).toBeGreaterThanOrEqual(7);
    expect(single.seen).toEqual([]);
    expect(letters).toEqual([]);
  });

  it('parks malformed messages at once and hands the readable ones of the batch on together', async () => {
    const bus = open();
    const [before, after] = oneProject(2) as [RecordedEvent, RecordedEvent];
    await bus.publish([before]);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'project-1', value: '{"not":"an event"' }] });
    } finally {
      await producer.disconnect();
    }
    await bus.publish([after]);
    const batches = new BatchRecorder();
    const single = new Recorder();
    await bus.subscribeBatches(uniqueGroup(), single.handler('single'), { handler: batches.handler() });
    await eventually(() => batches.ids().length >= 2, 60_000, () => 'events not handled');
    expect(batches.ids()).toEqual([before.id, after.id]);
    expect(single.seen).toEqual([]);
    const [parked] = await readTopic(kafka, `${topic}.dlq`, 1);
    expect(readDeadLetter(parked?.message.headers)).toMatchObject({ reason: 'malformed-envelope', attempts: 0, offset: '1' });
  });
});
