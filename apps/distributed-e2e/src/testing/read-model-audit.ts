import { upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { EnvironmentProjector } from '@flagline/admin-projections';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { EventOpener } from '@flagline/event-sealing';
import { RedisSealingKeyStore } from '@flagline/key-store';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Pipeline } from './pipeline';
import { sleep } from './wait';

/** Every event of the pipeline's embedded log, read by a read-only follower like the relay's. */
export async function readLog(dataDir: string): Promise<readonly RecordedEvent[]> {
  const follower = await EmbeddedEventStore.openFollower({ directory: join(dataDir, 'events') });
  try {
    return await follower.readAll();
  } finally {
    await follower.close();
  }
}

/** What the relay carries: it skips the id-sequence streams (relay.service.ts's filter). */
export const isRelayed = (event: RecordedEvent): boolean => !event.streamName.startsWith('sequence-');

export interface TopicTotals {
  /** Messages in the topic (every partition's high watermark; the topic is never truncated here). */
  readonly messages: number;
  /** Messages the consumer group has not committed yet. */
  readonly lag: number;
}

export async function topicTotals(admin: Admin, topic: string, groupId: string): Promise<TopicTotals> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const committedByPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let messages = 0;
  let lag = 0;
  for (const end of ends) {
    const high = Number(end.high);
    const low = Number(end.low);
    const done = committedByPartition.get(end.partition) ?? -1;
    messages += high;
    // -1: the group never committed on this partition, so it still has to read from the start.
    lag += Math.max(0, high - (done < 0 ? low : done));
  }
  return { messages, lag };
}

export interface IdleReport {
  /** Events in the log. */
  readonly head: number;
  readonly relayPosition: number;
  readonly topicMessages: number;
  readonly ms: number;
}

/**
 * Waits until the pipeline has nothing left to do: the relay's checkpoint covers every relayed
 * event of the log, and the projector group has committed every message of the topic (it
 * commits a message only after its read-model commit, so the read models are complete). The
 * condition must hold on two looks a little apart with nothing new in between.
 */
export async function waitForIdle(pipeline: Pipeline, redis: Redis, kafkaAdmin: Admin, timeoutMs: number): Promise<IdleReport> {
  const started = Date.now();
  let previous = '';
  let last = 'nothing observed yet';
  while (Date.now() - started < timeoutMs) {
    try {
      const events = await readLog(pipeline.dataDir);
      const head = events.at(-1)?.globalPosition ?? 0;
      const relayPosition = Number((await redis.get(pipeline.relayCheckpointKey)) ?? '0');
      const unpublished = events.filter((event) => event.globalPosition > relayPosition && isRelayed(event)).length;
      const topic = await topicTotals(kafkaAdmin, pipeline.topic, pipeline.groupId);
      last = `log head ${head}, relay checkpoint ${relayPosition} (${unpublished} relayed events after it), topic ${topic.messages} messages, group lag ${topic.lag}`;
      const idle = unpublished === 0 && topic.lag === 0;
      const observation = `${head}/${topic.messages}`;
      if (idle && observation === previous) return { head, relayPosition, topicMessages: topic.messages, ms: Date.now() - started };
      previous = idle ? observation : '';
    } catch (error: unknown) {
      // Kafka or Redis may still be coming back.
      last = `probe failed: ${error instanceof Error ? error.message : String(error)}`;
      previous = '';
    }
    await sleep(250);
  }
  throw new Error(`The pipeline did not become idle within ${timeoutMs} ms: ${last}\n${pipeline.describeLogs()}`);
}

/** Every key under a prefix with its raw string value (documents and checkpoints). */
export async function snapshot(redis: Redis, prefix: string): Promise<Map<string, string | null>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    for (const key of batch) keys.add(key.slice(prefix.length));
    cursor = next;
  } while (cursor !== '0');
  const sorted = [...keys].sort();
  const values = new Map<string, string | null>();
  for (let index = 0; index < sorted.length; index += 500) {
    const chunk = sorted.slice(index, index + 500);
    const texts = await redis.mget(...chunk.map((key) => prefix + key));
    chunk.forEach((key, i) => values.set(key, texts[i] ?? null));
  }
  return values;
}

export interface RebuildComparison {
  readonly events: number;
  readonly documents: number;
  readonly checkpoints: number;
  readonly rebuildMs: number;
  readonly missingInLive: string[];
  readonly missingInRebuild: string[];
  /** Keys whose raw values differ, with both values cut around the first difference. */
  readonly different: { key: string; live: string; rebuild: string }[];
}

function around(text: string | null, at: number): string {
  if (text === null) return '(not a string)';
  const from = Math.max(0, at - 60);
  return `${from > 0 ? '…' : ''}${text.slice(from, at + 60)}${at + 60 < text.length ? '…' : ''} (${text.length} chars, first difference at ${at})`;
}

/**
 * Projects the whole event log with EnvironmentProjector into a fresh RedisReadModelStore under
 * its own key prefix on the same Redis, then compares every key (documents `doc:`, checkpoints
 * `cp:`) and its raw value with the live read models, byte for byte. The rebuild's keys are
 * removed afterwards.
 */
export async function compareWithRebuild(redis: Redis, dataDir: string, livePrefix: string, sealingKeyPrefix: string): Promise<RebuildComparison> {
  const rebuildPrefix = `flagline:e2e-rebuild:${randomBytes(4).toString('hex')}:`;
  const started = Date.now();
  const events = await readLog(dataDir);
  const store = new RedisReadModelStore({ redis, keyPrefix: rebuildPrefix });
  const projector = new EnvironmentProjector(store);
  try {
    // Opened and upcast as the projector service does with what Kafka delivers.
    const opener = new EventOpener(new RedisSealingKeyStore({ redis, keyPrefix: sealingKeyPrefix }));
    for (const event of await opener.open(events)) await projector.handle(upcastRecordedAdminEvent(event));
  } finally {
    await store.close();
  }
  const rebuildMs = Date.now() - started;
  const [live, rebuilt] = await Promise.all([snapshot(redis, livePrefix), snapshot(redis, rebuildPrefix)]);
  const rebuiltKeys = [...rebuilt.keys()];
  for (let index = 0; index < rebuiltKeys.length; index += 500) await redis.unlink(...rebuiltKeys.slice(index, index + 500).map((key) => rebuildPrefix + key));

  const missingInLive = [...rebuilt.keys()].filter((key) => !live.has(key));
  const missingInRebuild = [...live.keys()].filter((key) => !rebuilt.has(key));
  const different: RebuildComparison['different'] = [];
  for (const [key, rebuildValue] of rebuilt) {
    if (!live.has(key)) continue;
    const liveValue = live.get(key) ?? null;
    if (liveValue === rebuildValue && liveValue !== null) continue;
    let at = 0;
    const a = liveValue ?? '';
    const b = rebuildValue ?? '';
    while (at < a.length && at < b.length && a[at] === b[at]) at++;
    different.push({ key, live: around(liveValue, at), rebuild: around(rebuildValue, at) });
  }
  return {
    events: events.length,
    documents: rebuiltKeys.filter((key) => key.startsWith('doc:')).length,
    checkpoints: rebuiltKeys.filter((key) => key.startsWith('cp:')).length,
    rebuildMs,
    missingInLive,
    missingInRebuild,
    different: different.slice(0, 20),
  };
}
