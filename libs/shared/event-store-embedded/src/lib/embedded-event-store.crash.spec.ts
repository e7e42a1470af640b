import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { CRASH_EVENT_TYPE, CRASH_STREAMS, CRASH_WRITERS, type CrashEventData } from '../testing/crash-writer';
import { aTempDirectory } from '../testing/temp-directory';
import { EmbeddedEventStore } from './embedded-event-store';

const REPO_ROOT = resolve(__dirname, '../../../../..');
const CRASH_WRITER = resolve(__dirname, '../testing/crash-writer.ts');
const ROUNDS = 4;

/** Runs the crash writer, kills it with SIGKILL after `killAfterMs` of appending, and returns the ids it acknowledged. */
async function appendUntilKilled(directory: string, round: number, killAfterMs: number): Promise<string[]> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', CRASH_WRITER, directory, String(round)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = once(child, 'close');

  const ready = new Promise<void>((resolveReady, rejectReady) => {
    const check = (): void => {
      if (stdout.startsWith('ready\n')) resolveReady();
    };
    child.stdout.on('data', check);
    void closed.then(() => rejectReady(new Error(`crash writer exited before it was ready: ${stderr}`)));
  });
  await ready;
  await new Promise((resolveDelay) => setTimeout(resolveDelay, killAfterMs));
  child.kill('SIGKILL');
  const [code, signal] = (await closed) as [number | null, NodeJS.Signals | null];
  if (signal !== 'SIGKILL') throw new Error(`crash writer ended with ${code ?? signal ?? 'nothing'} before the kill: ${stderr}`);

  const lines = stdout.split('\n');
  // Only lines ending in a newline were written whole.
  lines.pop();
  return lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice('ack '.length));
}

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
          const acks = await appendUntilKilled(directory.path, round, killAfterMs);
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
