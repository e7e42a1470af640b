import { EventEmitter } from 'node:events';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { ConsumerLagTracker, KafkaAdminSession, trackConsumerLag, withDeadline } from './consumer-lag';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
  DISCONNECT: 'consumer.disconnect',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
} as const;

/** A consumer that only emits instrumentation events, as kafkajs's does (`{ payload }`). */
function fakeConsumer(): { consumer: Consumer; emit: (event: keyof typeof EVENTS, payload: unknown) => void } {
  const emitter = new EventEmitter();
  const consumer = { events: EVENTS, on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener) } as unknown as Consumer;
  return { consumer, emit: (event, payload) => emitter.emit(EVENTS[event], { payload }) };
}

const TOPIC = 'flagline.events';

describe('ConsumerLagTracker', () => {
  it('reports lag per owned partition from fetched watermarks and commits, and membership from group events', () => {
    const tracker = new ConsumerLagTracker();
    const { consumer, emit } = fakeConsumer();
    tracker.watch(consumer);
    expect(tracker.membership()).toEqual({ joined: false, reason: 'not joined yet' });
    emit('GROUP_JOIN', { memberAssignment: { [TOPIC]: [0, 3] } });
    expect(tracker.membership()).toEqual({ joined: true });
    expect(tracker.lag()).toEqual([]); // nothing known yet
    emit('START_BATCH_PROCESS', { topic: TOPIC, partition: 3, highWatermark: '120', firstOffset: '100' });
    expect(tracker.lag()).toEqual([{ topic: TOPIC, partition: 3, lag: 20 }]);
    emit('COMMIT_OFFSETS', { topics: [{ topic: TOPIC, partitions: [{ partition: 3, offset: '115' }] }] });
    expect(tracker.lag()).toEqual([{ topic: TOPIC, partition: 3, lag: 5 }]);
    // A partition this member does not own is not reported.
    emit('START_BATCH_PROCESS', { topic: TOPIC, partition: 1, highWatermark: '9', firstOffset: '0' });
    emit('COMMIT_OFFSETS', { topics: [{ topic: TOPIC, partitions: [{ partition: 3, offset: '120' }] }] });
    expect(tracker.lag()).toEqual([{ topic: TOPIC, partition: 3, lag: 0 }]);
    emit('CRASH', { error: new Error('Connection timeout'), restart: true });
    expect(tracker.membership()).toEqual({ joined: false, reason: 'consumer crashed (restarting): Connection timeout' });
    expect(tracker.lag()).toEqual([]);
    emit('GROUP_JOIN', { memberAssignment: { [TOPIC]: [3] } });
    emit('STOP', {});
    expect(tracker.membership()).toEqual({ joined: false, reason: 'consumer stopped' });
  });

  it('refreshes watermarks and committed offsets from the brokers, so an idle or held-back member shows its lag', async () => {
    const tracker = new ConsumerLagTracker();
    const { consumer, emit } = fakeConsumer();
    tracker.watch(consumer);
    emit('GROUP_JOIN', { memberAssignment: { [TOPIC]: [0, 1] } });
    const admin = {
      fetchTopicOffsets: (topic: string) =>
        Promise.resolve(topic === TOPIC ? [{ partition: 0, high: '50', low: '0', offset: '50' }, { partition: 1, high: '7', low: '4', offset: '7' }, { partition: 2, high: '99', low: '0', offset: '99' }] : []),
      fetchOffsets: ({ groupId }: { groupId: string }) =>
        Promise.resolve(groupId === 'projector' ? [{ topic: TOPIC, partitions: [{ partition: 0, offset: '42', metadata: null }, { partition: 1, offset: '-1', metadata: null }] }] : []),
    } as unknown as Admin;
    await tracker.refresh(admin, 'projector');
    expect(tracker.lag()).toEqual([
      { topic: TOPIC, partition: 0, lag: 8 },
      { topic: TOPIC, partition: 1, lag: 3 },
    ]);
    expect(tracker.partitionCounts()).toEqual([{ topic: TOPIC, partitions: 3 }]);
  });

  it('counts the partitions of a topic it was asked about while owning none of them', async () => {
    const tracker = new ConsumerLagTracker();
    const { consumer, emit } = fakeConsumer();
    tracker.watch(consumer);
    emit('GROUP_JOIN', { memberAssignment: {} });
    const admin = {
      fetchTopicOffsets: () => Promise.resolve([0, 1, 2, 3, 4, 5].map((partition) => ({ partition, high: '1', low: '0', offset: '1' }))),
      fetchOffsets: () => Promise.resolve([]),
    } as unknown as Admin;
    await tracker.refresh(admin, 'projector');
    expect(tracker.partitionCounts()).toEqual([]);
    await tracker.refresh(admin, 'projector', [TOPIC]);
    expect(tracker.partitionCounts()).toEqual([{ topic: TOPIC, partitions: 6 }]);
    expect(tracker.lag()).toEqual([]);
  });
});

describe('withDeadline', () => {
  it('passes a result through, and rejects with the message when the work outlasts the deadline', async () => {
    await expect(withDeadline(Promise.resolve(3), 50, 'late')).resolves.toBe(3);
    await expect(withDeadline(new Promise(() => undefined), 10, 'kafka did not answer within 10 ms')).rejects.toThrow('kafka did not answer within 10 ms');
  });
});

describe('trackConsumerLag', () => {
  it('hands the tracker every consumer the client makes, and leaves the rest of the client as it was', () => {
    const kafka = new Kafka({ clientId: 'lag-spec', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const tracker = new ConsumerLagTracker();
    const watch = jest.spyOn(tracker, 'watch');
    const tracked = trackConsumerLag(kafka, tracker);
    const consumer = tracked.consumer({ groupId: 'spec' });
    expect(watch).toHaveBeenCalledTimes(1);
    expect(watch).toHaveBeenCalledWith(consumer);
    expect(typeof tracked.admin().connect).toBe('function');
    expect(tracked.producer()).toBeDefined();
  });
});

describe('KafkaAdminSession', () => {
  it('fails a query past its deadline naming the wait, and connects afresh for the next one', async () => {
    let connects = 0;
    let disconnects = 0;
    const admin = {
      connect: () => Promise.resolve(void connects++),
      disconnect: () => Promise.resolve(void disconnects++),
    };
    const kafka = { admin: () => admin } as unknown as Kafka;
    const session = new KafkaAdminSession(kafka, 20);
    await expect(session.run(() => Promise.resolve('cluster'))).resolves.toBe('cluster');
    await expect(session.run(() => Promise.resolve(2))).resolves.toBe(2);
    expect(connects).toBe(1);
    await expect(session.run(() => new Promise(() => undefined))).rejects.toThrow('Kafka did not answer within 20 ms');
    expect(disconnects).toBe(1);
    await expect(session.run(() => Promise.resolve(3))).resolves.toBe(3);
    expect(connects).toBe(2);
  });
});
