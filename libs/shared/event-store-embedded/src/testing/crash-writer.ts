import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '../lib/embedded-event-store';

/**
 * Appends until killed, from several concurrent writers, and prints `ack <event id>` for every
 * event only after its append resolved. The crash spec kills it with SIGKILL and checks that
 * every printed id survived. Usage: crash-writer <directory> <round>
 */

export const CRASH_WRITERS = 8;
export const CRASH_STREAMS = 4;
export const CRASH_EVENT_TYPE = 'CrashTestEventRecorded';

export interface CrashEventData {
  readonly round: number;
  readonly writer: number;
  readonly seq: number;
  readonly padding: string;
}

const metadata: EventMetadata = {
  actor: { kind: 'system', id: 'crash-writer' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: 'crash-test',
};

async function writeUntilKilled(store: EmbeddedEventStore, round: number, writer: number): Promise<never> {
  for (let seq = 0; ; ) {
    const size = 1 + Math.floor(Math.random() * 3);
    const events: NewEvent[] = Array.from({ length: size }, (_, index) => ({
      id: randomUUID(),
      type: CRASH_EVENT_TYPE,
      // Padding of up to a few KiB makes records straddle page boundaries, where tearing happens.
      data: { round, writer, seq: seq + index, padding: 'x'.repeat(Math.floor(Math.random() * 3000)) },
      metadata,
    }));
    await store.appendToStream(`crash-${writer % CRASH_STREAMS}`, events);
    // A pipe write on Linux is synchronous, so the ack is out of this process before the next append.
    process.stdout.write(events.map((event) => `ack ${event.id}\n`).join(''));
    seq += size;
  }
}

async function main(): Promise<void> {
  const [directory, round] = process.argv.slice(2);
  if (!directory || !round) throw new Error('usage: crash-writer <directory> <round>');
  const store = await EmbeddedEventStore.open({ directory, onWarning: (message) => process.stderr.write(`${message}\n`) });
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: CRASH_WRITERS }, (_, writer) => writeUntilKilled(store, Number(round), writer)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
