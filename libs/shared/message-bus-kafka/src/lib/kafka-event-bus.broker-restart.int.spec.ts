import type { RecordedEvent } from '@flagline/event-sourcing';
import { aRecordedEvent, orderingKeyOf } from '@flagline/event-sourcing/testing';
import { describeWithInfra, kafkaClient, withOwnKafka } from '@flagline/infra-testing';
import { Recorder, eventually, pause, testBus, uniqueGroup, uniqueTopic } from '../testing/kafka-bus.fixtures';

describeWithInfra(
  'KafkaEventBus across a broker restart',
  () => {
    const broker = withOwnKafka();

    it('consumes every acknowledged publish once the broker is back; publishes during the outage reject or wait', async () => {
      const kafka = kafkaClient(broker().brokers, { retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 } });
      const topic = uniqueTopic('restart');
      const relay = testBus({ topic }, kafka);
      const consumerErrors: unknown[] = [];
      const projector = testBus({ topic, onError: (error) => consumerErrors.push(error) }, kafka);
      const recorder = new Recorder();
      try {
        await projector.subscribe(uniqueGroup('projector'), recorder.handler('projector'));

        const acknowledged: RecordedEvent[] = [];
        const rejected: unknown[] = [];
        const outage = { phase: 'before' as 'before' | 'outage' | 'after' | 'done' };
        let acknowledgedAfter = 0;
        const publishing = (async () => {
          for (let i = 0; outage.phase !== 'done' && (outage.phase !== 'after' || acknowledgedAfter < 10); i++) {
            const project = `project-${i % 3}`;
            const event = aRecordedEvent({ streamName: `feature-${i % 3}`, metadata: { projectId: project } });
            try {
              await relay.publish([event]);
              acknowledged.push(event);
              if (outage.phase === 'after') acknowledgedAfter += 1;
            } catch (error) {
              // What the relay does: keep its checkpoint and try again a little later.
              rejected.push(error);
              await pause(200);
            }
            await pause(10);
          }
        })();

        await eventually(() => acknowledged.length >= 10, 60_000, () => `${acknowledged.length} acknowledged before the outage`);
        outage.phase = 'outage';
        await broker().stop();
        const acknowledgedBeforeStart = acknowledged.length;
        await pause(2000);
        await broker().start();
        outage.phase = 'after';
        try {
          // A publisher that never recovers fails here, saying so, rather than at the test's timeout.
          await eventually(() => acknowledgedAfter >= 10, 60_000, () => `${acknowledgedAfter} publishes acknowledged since the broker came back; last rejection: ${String(rejected.at(-1))}`);
        } finally {
          outage.phase = 'done';
          await publishing;
        }

        await recorder.waitForAll(acknowledged, 60_000);
        // Acknowledged events of one project arrive in the order they were acknowledged.
        const handled = [...recorder.distinctIds()];
        const position = new Map(handled.map((id, index) => [id, index]));
        for (const key of new Set(acknowledged.map(orderingKeyOf))) {
          const order = acknowledged.filter((event) => orderingKeyOf(event) === key).map((event) => position.get(event.id) as number);
          expect(order).toEqual([...order].sort((a, b) => a - b));
        }
        expect(acknowledged.length - acknowledgedBeforeStart).toBeGreaterThanOrEqual(10);
        // Reported for the record: how the outage showed to the publisher.
        console.info(
          `[broker restart] acknowledged ${acknowledged.length}, rejected ${rejected.length}, handled ${recorder.seen.length}, consumer crashes ${consumerErrors.length}`,
        );
      } finally {
        await Promise.all([relay.close(), projector.close()]);
      }
    }, 180_000);
  },
  { own: ['kafka'] },
);
