import type { RecordedEvent } from '@flagline/event-sourcing';
import { CRASH_EVENT_TYPE, CRASH_STREAMS, CRASH_WRITERS, type CrashEventData } from '../testing/crash-writer';
import { appendUntilKilled } from '../testing/crash-writer-process';
import { aTempDirectory } from '../testing/temp-directory';
import { EmbeddedEventStore } from './embedded-event-store';

const ROUNDS = 4;

function expectConsistentLog(all: readonly RecordedEvent[], acknowledged: ReadonlySet<string>): void {
  expect(all.map((event) => event.globalPosition)).toEqual(all.map((_, index) => index + 1));
  const stored = new Set(all.map((event) => event.id));
  expect(stored.size).toBe(all.length);
  const missing = [...acknowledged].filter((id) => !stored.has(id));
  expect(missing).toEqual([]);

  const revisions = new Map<string, number[]>();
  const sequences = new Map<string, number[]>();
  const foreign = all.filter((event) => event.type !== CRASH_EVENT_TYPE || typeof (event.data as CrashEventData).padding !== 'string');
  expect(foreign).toEqual([]);
  for (const event of all) {
    const data = event.data as CrashEventData;
    const streamRevisions = revisions.get(event.streamName) ?? [];
    streamRevisions.push(event.streamRevision);
    revisions.set(event.streamName, streamRevisions);
    const writer = `${data.round}/${data.writer}`;
    const writerSequence = sequences.get(writer) ?? [];
    writerSequence.push(data.seq);
    sequences.set(writer, writerSequence);
  }
  for (const streamRevisions of revisions.values()) {
    expect(streamRevisions).toEqual(streamRevisions.map((_, index) => index));
  }
  // Each writer awaited every append before the next, so what survived of it is a gapless prefix.
  for (const writerSequence of sequences.values()) {
    expect(writerSequence).toEqual(writerSequence.map((_, index) => index));
  }
}

describe('EmbeddedEventStore after kill -9', () => {
  it(
    `keeps every acknowledged append and serves no torn record, over ${ROUNDS} crashes`,
    async () => {
      const directory = await aTempDirectory();
      const acknowledged = new Set<string>();
      try {
        for (let round = 1; round <= ROUNDS; round++) {
          const killAfterMs = 150 + Math.floor(Math.random() * 450);
          const acks = await appendUntilKilled(directory.path, round, { killAfterMs });
          expect(acks.length).toBeGreaterThan(50);
          for (const id of acks) acknowledged.add(id);

          const store = await EmbeddedEventStore.open({ directory: directory.path, onWarning: () => undefined });
          const all = await store.readAll();
          expectConsistentLog(all, acknowledged);
          expect(new Set(all.map((event) => event.streamName)).size).toBe(CRASH_STREAMS);
          expect(new Set(all.map((event) => (event.data as CrashEventData).writer)).size).toBe(CRASH_WRITERS);
          await store.close();

          // A cut tail is cut for good: the next open finds nothing to repair.
          const warnings: string[] = [];
          const reopened = await EmbeddedEventStore.open({ directory: directory.path, onWarning: (message) => warnings.push(message) });
          expect(await reopened.headPosition()).toBe(all.length);
          expect(warnings).toEqual([]);
          await reopened.close();
        }
      } finally {
        await directory.remove();
      }
    },
    30_000,
  );
});
