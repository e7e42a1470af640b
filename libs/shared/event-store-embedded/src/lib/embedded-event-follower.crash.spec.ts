import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { aNewEvent } from '@flagline/event-sourcing/testing';
import { CRASH_WRITERS, type CrashEventData } from '../testing/crash-writer';
import { appendUntilKilled } from '../testing/crash-writer-process';
import { aTempDirectory } from '../testing/temp-directory';
import { EmbeddedEventFollower } from './embedded-event-follower';
import { EVENT_LOG_FILE_NAME, EmbeddedEventStore } from './embedded-event-store';
import { encodeAppend } from './record-codec';

const ROUNDS = 4;

const MIN_ACKS_PER_ROUND = 50;

/**
 * What a kill in the middle of a write leaves, which a SIGKILL in a test rarely hits: the first
 * part of a record (odd rounds) or a whole record whose bytes did not all reach the disk (even
 * rounds). Positions in it are plausible but never matter: it must not be served either way.
 */
function aTornTail(round: number, tornIds: Set<string>): Buffer {
  const events = Array.from({ length: 3 }, () => ({ ...aNewEvent('Torn', { padding: 'z'.repeat(1500) }), id: `torn-${randomUUID()}` }));
  for (const event of events) tornIds.add(event.id);
  const { frame } = encodeAppend({ streamName: 'crash-0', firstRevision: 0, firstPosition: 1, recordedAt: new Date().toISOString(), events });
  if (round % 2 === 1) return frame.subarray(0, 1 + Math.floor(Math.random() * (frame.length - 1)));
  const flipped = 8 + Math.floor(Math.random() * (frame.length - 8));
  frame.writeUInt8(frame.readUInt8(flipped) ^ 0x5a, flipped);
  return frame;
}

async function until(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not met in ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 5));
  }
}

describe('EmbeddedEventFollower following a writer process that is killed with SIGKILL and restarted', () => {
  it(
    `delivers every acknowledged event once, in order, without gaps, over ${ROUNDS} crashes, never reopened`,
    async () => {
      const directory = await aTempDirectory();
      const warnings: string[] = [];
      // Opened before the writer ever ran: the log does not exist yet.
      const follower = await EmbeddedEventFollower.open({ directory: directory.path, onWarning: (message) => warnings.push(message) });
      const seen: RecordedEvent[] = [];
      const seenIds = new Set<string>();
      const violations: string[] = [];
      const subscription = follower.subscribeToAll({}, (event) => {
        const expected = (seen.at(-1)?.globalPosition ?? 0) + 1;
        if (event.globalPosition !== expected) violations.push(`position ${event.globalPosition} delivered where ${expected} was due`);
        if (seenIds.has(event.id)) violations.push(`event ${event.id} delivered twice`);
        seen.push(event);
        seenIds.add(event.id);
      });
      const acknowledged: string[] = [];
      const tornIds = new Set<string>();
      try {
        for (let round = 1; round <= ROUNDS; round++) {
          const acks = await appendUntilKilled(directory.path, round, { killAfterMs: Math.floor(Math.random() * 400), minAcks: MIN_ACKS_PER_ROUND });
          expect(acks.length).toBeGreaterThanOrEqual(MIN_ACKS_PER_ROUND);
          acknowledged.push(...acks);
          await appendFile(join(directory.path, EVENT_LOG_FILE_NAME), aTornTail(round, tornIds));
          // The writer is dead, possibly mid-append: the follower alone reaches every acknowledged event.
          await until(
            () => acknowledged.every((id) => seenIds.has(id)),
            5000,
            () => `round ${round}: ${acknowledged.filter((id) => !seenIds.has(id)).length} acknowledged events not delivered`,
          );
          expect(violations).toEqual([]);
        }

        // What the follower delivered is exactly the log a writer recovers: the acknowledged events
        // plus any that were durable when their writer died, nothing torn, in the same places.
        const recovered = await EmbeddedEventStore.open({ directory: directory.path, onWarning: () => undefined });
        const log = await recovered.readAll();
        await recovered.close();
        await until(
          () => seen.length >= log.length,
          5000,
          () => `follower at ${seen.length} of ${log.length}`,
        );
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
        expect(violations).toEqual([]);
        expect(seen.filter((event) => tornIds.has(event.id))).toEqual([]);
        expect(seen.map((event) => [event.globalPosition, event.id])).toEqual(log.map((event) => [event.globalPosition, event.id]));

        // Each in-process writer awaited every append before the next, so what it got in is a gapless prefix.
        const sequences = new Map<string, number[]>();
        for (const event of seen) {
          const data = event.data as CrashEventData;
          const key = `${data.round}/${data.writer}`;
          sequences.set(key, [...(sequences.get(key) ?? []), data.seq]);
        }
        expect(sequences.size).toBe(ROUNDS * CRASH_WRITERS);
        for (const sequence of sequences.values()) expect(sequence).toEqual(sequence.map((_, index) => index));
        // The only report allowed is about a damaged record the follower waited behind until the next writer cut it.
        expect(warnings.filter((warning) => !/checksum mismatch at byte \d+; nothing from there on is served/.test(warning))).toEqual([]);
      } finally {
        await subscription.stop();
        await follower.close();
        await directory.remove();
      }
    },
    30_000,
  );
});
