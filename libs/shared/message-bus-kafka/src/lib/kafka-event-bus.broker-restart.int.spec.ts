import type { RecordedEvent } from '@flagline/event-sourcing';
import { aRecordedEvent, orderingKeyOf } from '@flagline/event-sourcing/testing';
import { describeWithInfra, kafkaClient, withOwnKafka } from '@flagline/infra-testing';
import type { KafkaConfig } from 'kafkajs';
import { Recorder, eventually, pause, testBus, uniqueGroup, uniqueTopic } from '../testing/kafka-bus.fixtures';

describeWithInfra(
  'KafkaEventBus across a broker restart',
  () => {
    const broker = withOwnKafka();

    /**
     * Publishes through a broker stop and start, then checks that the consumer got every
     * acknowledged publish, in order per project. Returns the consumer errors seen.
     */
    const acrossRestart = async (retry: NonNullable<KafkaConfig['retry']>): Promise<unknown[]> => {
      const kafka = kafkaClient(broker().brokers, { retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000, ...retry } });
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

        try {
          await recorder.waitForAll(acknowledged, 60_000);
        } catch (error) {
          // What the consumer went through, for whoever reads the failure.
          throw new Error(`${(error as Error).message}; consumer errors: ${consumerErrors.map((failure) => String(failure)).join(' | ') || 'none'}`);
        }
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
        return consumerErrors;
      } finally {
        await Promise.all([relay.close(), projector.close()]);
      }
    };

    it('consumes every acknowledged publish once the broker is back; publishes during the outage reject or wait', async () => {
      await acrossRestart({});
    }, 180_000);

    it('when kafkajs gives up on the consumer after a crash, then the subscription runs it again and consumes every acknowledged publish', async () => {
      // kafkajs leaves a consumer stopped after any crash it is told not to restart from.
      const errors = await acrossRestart({ restartOnFailure: () => Promise.resolve(false) });
      expect(errors.length).toBeGreaterThan(0);
    }, 180_000);
  },
  { own: ['kafka'] },
);
