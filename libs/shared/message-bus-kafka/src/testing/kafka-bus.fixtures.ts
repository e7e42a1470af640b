// Helpers for this library's integration specs only (imported by *.int.spec.ts files).
import type { BusHandler, RecordedEvent } from '@flagline/event-sourcing';
import { kafkaClient } from '@flagline/infra-testing';
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { KafkaEventBus, type KafkaEventBusOptions } from '../lib/kafka-event-bus';

export const uniqueTopic = (label = 'bus'): string => `test.${label}.${randomUUID().slice(0, 8)}`;
export const uniqueGroup = (label = 'group'): string => `${label}-${randomUUID().slice(0, 8)}`;

/** Consumer settings that make group changes quick on a test broker. */
export const FAST_CONSUMER: NonNullable<KafkaEventBusOptions['consumer']> = { heartbeatIntervalMs: 300, sessionTimeoutMs: 10_000, maxWaitTimeMs: 200 };

export function testBus(options: Partial<KafkaEventBusOptions> & { readonly topic: string }, kafka: Kafka = kafkaClient()): KafkaEventBus {
  return new KafkaEventBus({ kafka, partitions: 3, consumer: FAST_CONSUMER, handlerRetry: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Only existing ones: kafkajs retries the deletion of an unknown topic for seconds.
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function eventually(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await pause(20);
  }
}

/** Records what a handler saw, with the member that saw it. */
export class Recorder {
  readonly seen: { member: string; event: RecordedEvent }[] = [];

  handler(member: string, before?: (event: RecordedEvent) => Promise<void> | void): BusHandler {
    return async (event) => {
      await before?.(event);
      this.seen.push({ member, event });
    };
  }

  ids(member?: string): string[] {
    return this.seen.filter((entry) => member === undefined || entry.member === member).map((entry) => entry.event.id);
  }

  distinctIds(): Set<string> {
    return new Set(this.ids());
  }

  waitForAll(events: readonly RecordedEvent[], timeoutMs = 60_000): Promise<void> {
    return eventually(
      () => events.every((event) => this.distinctIds().has(event.id)),
      timeoutMs,
      () => `${events.filter((event) => !this.distinctIds().has(event.id)).length} of ${events.length} events not handled`,
    );
  }
}

/** Reads `count` raw messages of a topic from its start with a throwaway group. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000): Promise<{ partition: number; message: KafkaMessage }[]> {
  const consumer = kafka.consumer({ groupId: uniqueGroup('reader'), maxWaitTimeInMs: 200 });
  const received: { partition: number; message: KafkaMessage }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        received.push({ partition, message });
        return Promise.resolve();
      },
    });
    await eventually(() => received.length >= count, timeoutMs, () => `${received.length} of ${count} messages read from ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return received;
}
