import type { RecordedEvent } from '@flagline/event-sourcing';
import { aRecordedEvent, describeEventBusContract, orderingKeyOf } from '@flagline/event-sourcing/testing';
import { describeWithInfra, kafkaClient } from '@flagline/infra-testing';
import type { Kafka } from 'kafkajs';
import { Recorder, deleteTopics, eventually, pause, readTopic, testBus, uniqueGroup, uniqueTopic } from '../testing/kafka-bus.fixtures';
import { type DeadLetter, readDeadLetter } from './dead-letter.codec';
import { decodeEventEnvelope, encodeEventEnvelope } from './event-envelope.codec';
import type { KafkaEventBus, KafkaEventBusOptions } from './kafka-event-bus';

/** Events of `projects` projects, `perProject` each, interleaved as the log would have them. */
function projectEvents(projects: number, perProject: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let revision = 0; revision < perProject; revision++) {
    for (let project = 1; project <= projects; project++) {
      events.push(aRecordedEvent({ streamName: `feature-${project}`, streamRevision: revision, metadata: { projectId: `project-${project}` } }));
    }
  }
  return events;
}

/** Per ordering key, the ids in the order given. */
function idsByKey(events: readonly RecordedEvent[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const event of events) byKey.set(orderingKeyOf(event), [...(byKey.get(orderingKeyOf(event)) ?? []), event.id]);
  return byKey;
}

describeWithInfra('KafkaEventBus', () => {
  describeEventBusContract(
    'Kafka',
    () => {
      const kafka = kafkaClient();
      const topic = uniqueTopic('contract');
      const bus = testBus({ topic }, kafka);
      const publishers: KafkaEventBus[] = [];
      return Promise.resolve({
        bus,
        openPublisher: () => {
          const publisher = testBus({ topic }, kafka);
          publishers.push(publisher);
          return Promise.resolve(publisher);
        },
        dispose: async () => {
          await Promise.all([bus, ...publishers].map((open) => open.close()));
          await deleteTopics(kafka, [topic, `${topic}.dlq`]);
        },
      });
    },
    { deliveryTimeoutMs: 60_000, quietPeriodMs: 500 },
  );

  describe('adapter', () => {
    let kafka: Kafka;
    let topic: string;
    const buses: KafkaEventBus[] = [];
    const open = (options: Partial<KafkaEventBusOptions> = {}): KafkaEventBus => {
      const bus = testBus({ topic, ...options }, kafka);
      buses.push(bus);
      return bus;
    };

    beforeEach(() => {
      kafka = kafkaClient();
      topic = uniqueTopic();
    });
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
      await deleteTopics(kafka, [topic, `${topic}.dlq`]);
    });

    it('creates the topic with the configured partitions and its dead-letter topic', async () => {
      await open({ partitions: 4 }).publish([aRecordedEvent()]);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`] });
        expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual([
          [topic, 4],
          [`${topic}.dlq`, 1],
        ]);
      } finally {
        await admin.disconnect();
      }
    });

    it('keys each message by project, or by stream outside projects, in a versioned envelope', async () => {
      const events = [
        ...projectEvents(3, 4),
        aRecordedEvent({ streamName: 'user-1', metadata: { projectId: undefined } }),
        aRecordedEvent({ streamName: 'user-1', streamRevision: 1, metadata: { projectId: undefined } }),
      ];
      await open().publish(events);
      const received = await readTopic(kafka, topic, events.length);
      expect(received.map(({ message }) => message.key?.toString()).sort()).toEqual(events.map(orderingKeyOf).sort());
      const partitionsByKey = new Map<string, Set<number>>();
      for (const { partition, message } of received) {
        const key = message.key?.toString() ?? '';
        partitionsByKey.set(key, (partitionsByKey.get(key) ?? new Set()).add(partition));
        expect(message.value?.toString()).toBe(encodeEventEnvelope(decodeEventEnvelope(message.value)));
      }
      expect([...partitionsByKey.values()].every((partitions) => partitions.size === 1)).toBe(true);
    });

    it('starts a new group at the earliest retained event', async () => {
      const bus = open();
      const events = projectEvents(2, 3);
      await bus.publish(events);
      const recorder = new Recorder();
      await bus.subscribe(uniqueGroup(), recorder.handler('late'));
      await recorder.waitForAll(events);
      expect(idsByKey(recorder.seen.map((entry) => entry.event))).toEqual(idsByKey(events));
    });

    it('shares the partitions among the members of one group, each event taking effect once', async () => {
      const bus = open({ partitions: 6 });
      const group = uniqueGroup();
      const recorder = new Recorder();
      // What a projector does: apply an event only if it is newer than the key's checkpoint.
      const checkpoints = new Map<string, number>();
      const effects: RecordedEvent[] = [];
      const applyOnce = (event: RecordedEvent): void => {
        if ((checkpoints.get(orderingKeyOf(event)) ?? 0) >= event.globalPosition) return;
        checkpoints.set(orderingKeyOf(event), event.globalPosition);
        effects.push(event);
      };
      await bus.subscribe(group, recorder.handler('a', applyOnce));
      await bus.subscribe(group, recorder.handler('b', applyOnce));
      const events = projectEvents(12, 10);
      await bus.publish(events);
      await recorder.waitForAll(events);

      expect(recorder.ids('a').length).toBeGreaterThan(0);
      expect(recorder.ids('b').length).toBeGreaterThan(0);
      expect(effects).toHaveLength(events.length);
      expect(idsByKey(effects)).toEqual(idsByKey(events));
      // One project is handled by one member only, so its order holds across the group.
      for (const ids of idsByKey(recorder.seen.map((entry) => entry.event)).values()) {
        const members = new Set(recorder.seen.filter((entry) => ids.includes(entry.event.id)).map((entry) => entry.member));
        expect(members.size).toBe(1);
      }
    });

    it('hands a leaving member’s partitions to the member that stays', async () => {
      const bus = open({ partitions: 4 });
      const group = uniqueGroup();
      const recorder = new Recorder();
      const leaving = await bus.subscribe(group, recorder.handler('leaving'));
      await bus.subscribe(group, recorder.handler('staying'));
      await leaving.stop();
      const events = projectEvents(8, 3);
      await bus.publish(events);
      await recorder.waitForAll(events);
      expect(recorder.ids('leaving')).toEqual([]);
    });

    it('resumes a group from its committed offsets after a stop mid-stream, losing nothing', async () => {
      const bus = open();
      const group = uniqueGroup();
      const recorder = new Recorder();
      const events = projectEvents(3, 20);
      let first = true;
      const subscription = await bus.subscribe(
        group,
        recorder.handler('first', () => pause(first ? 5 : 0)),
      );
      await bus.publish(events);
      await eventually(() => recorder.ids('first').length >= 15, 60_000, () => `${recorder.ids('first').length} handled`);
      await subscription.stop();
      first = false;
      const handledBeforeStop = new Set(recorder.ids('first'));
      expect(handledBeforeStop.size).toBeLessThan(events.length);

      await bus.subscribe(group, recorder.handler('second'));
      await recorder.waitForAll(events);
      const resumed = recorder.ids('second');
      // At most the message in hand at the stop comes again: the rest resumes after the offsets.
      expect(resumed.filter((id) => handledBeforeStop.has(id)).length).toBeLessThanOrEqual(3);
      expect(new Set([...handledBeforeStop, ...resumed]).size).toBe(events.length);
      const secondEvents = recorder.seen.filter((entry) => entry.member === 'second').map((entry) => entry.event);
      for (const [key, ids] of idsByKey(secondEvents)) {
        const published = idsByKey(events).get(key) ?? [];
        expect(ids).toEqual(published.slice(published.indexOf(ids[0] as string)));
      }
    });

    it('retries a failing handler with backoff, then parks the event in the dead-letter topic and goes on', async () => {
      const letters: DeadLetter[] = [];
      const bus = open({ handlerRetry: { attempts: 3, initialDelayMs: 20 }, onDeadLetter: (letter) => letters.push(letter) });
      const events = projectEvents(1, 4);
      const poison = events[1] as RecordedEvent;
      const attempts: number[] = [];
      const recorder = new Recorder();
      const group = uniqueGroup('projector');
      await bus.subscribe(
        group,
        recorder.handler('projector', (event) => {
          if (event.id !== poison.id) return;
          attempts.push(Date.now());
          throw new Error(`cannot project ${event.type}`);
        }),
      );
      await bus.publish(events);
      const healthy = events.filter((event) => event !== poison);
      await recorder.waitForAll(healthy);

      expect(recorder.ids()).toEqual(healthy.map((event) => event.id));
      expect(attempts).toHaveLength(3);
      expect((attempts[2] as number) - (attempts[1] as number)).toBeGreaterThanOrEqual(30);
      const [parked] = await readTopic(kafka, `${topic}.dlq`, 1);
      expect(parked?.message.key?.toString()).toBe('project-1');
      expect(decodeEventEnvelope(parked?.message.value ?? null)).toEqual(poison);
      expect(readDeadLetter(parked?.message.headers)).toMatchObject({
        reason: 'handler-failed',
        error: 'Error: cannot project ThingHappened',
        topic,
        offset: '1',
        group,
        attempts: 3,
      });
      expect(letters).toHaveLength(1);
    });

    it('parks a malformed message at once, without calling the handler', async () => {
      const bus = open();
      const recorder = new Recorder();
      await bus.subscribe(uniqueGroup(), recorder.handler('projector'));
      const [before, after] = projectEvents(1, 2) as [RecordedEvent, RecordedEvent];
      await bus.publish([before]);
      const producer = kafka.producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          messages: [
            { key: 'project-1', value: '{"not":"an event"' },
            { key: 'project-1', value: JSON.stringify({ messageType: 'flagline.event', schemaVersion: 99 }) },
          ],
        });
      } finally {
        await producer.disconnect();
      }
      await bus.publish([after]);
      await recorder.waitForAll([before, after]);

      expect(recorder.ids()).toEqual([before.id, after.id]);
      const parked = await readTopic(kafka, `${topic}.dlq`, 2);
      expect(parked.map(({ message }) => readDeadLetter(message.headers))).toEqual([
        expect.objectContaining({ reason: 'malformed-envelope', attempts: 0 }),
        expect.objectContaining({ reason: 'unsupported-schema-version', attempts: 0 }),
      ]);
      expect(parked[0]?.message.value?.toString()).toBe('{"not":"an event"');
    });

    it('keeps retrying transient errors past the attempt limit instead of dead-lettering', async () => {
      const letters: DeadLetter[] = [];
      const bus = open({
        handlerRetry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20, isTransient: (error) => error instanceof Error && error.message === 'store unavailable' },
        onDeadLetter: (letter) => letters.push(letter),
      });
      let failures = 6;
      const recorder = new Recorder();
      await bus.subscribe(
        uniqueGroup(),
        recorder.handler('projector', () => {
          if (failures-- > 0) throw new Error('store unavailable');
        }),
      );
      const events = projectEvents(1, 2);
      await bus.publish(events);
      await recorder.waitForAll(events);
      expect(recorder.ids()).toEqual(events.map((event) => event.id));
      expect(letters).toEqual([]);
    });

    it('stops during a retry delay without committing the failing event, which the next member gets', async () => {
      const bus = open({ handlerRetry: { attempts: 100, initialDelayMs: 5000, maxDelayMs: 5000 } });
      const group = uniqueGroup();
      const recorder = new Recorder();
      let failing = true;
      let calls = 0;
      const subscription = await bus.subscribe(
        group,
        recorder.handler('first', () => {
          calls += 1;
          if (failing) throw new Error('not yet');
        }),
      );
      const events = projectEvents(1, 1);
      await bus.publish(events);
      await eventually(() => calls >= 1, 60_000, () => 'handler not called');
      const started = Date.now();
      await subscription.stop();
      expect(Date.now() - started).toBeLessThan(4000);
      failing = false;
      await bus.subscribe(group, recorder.handler('second'));
      await recorder.waitForAll(events);
      expect(recorder.ids('second')).toEqual(events.map((event) => event.id));
    });

    it('rejects a publish or subscribe after close', async () => {
      const bus = open();
      await bus.close();
      await expect(bus.publish([aRecordedEvent()])).rejects.toThrow('closed');
      await expect(bus.subscribe(uniqueGroup(), () => undefined)).rejects.toThrow('closed');
    });
  });
});
