import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { aNewEvent } from '@flagline/event-sourcing/testing';
import { aTempDirectory } from '../testing/temp-directory';
import { EmbeddedEventStore, EventLogCorruptedError } from './embedded-event-store';
import { EVENT_LOG_FILE_NAME, LogFileFormatError } from './log-file';
import { checkEventPositions, scanLogPayloads, type ScannedPayload } from './log-scan';
import { recordedEventsOf } from './record-codec';

async function scanned(options: Parameters<typeof scanLogPayloads>[0]): Promise<ScannedPayload[][]> {
  const batches: ScannedPayload[][] = [];
  for await (const batch of scanLogPayloads(options)) batches.push(batch);
  return batches;
}

/** The events of the payloads read, decoded. */
const decoded = (batches: readonly ScannedPayload[][]): RecordedEvent[] => batches.flat().flatMap((payload) => recordedEventsOf(payload.text));

describe('scanLogPayloads', () => {
  let directory: Awaited<ReturnType<typeof aTempDirectory>>;
  let stored: readonly RecordedEvent[];

  beforeEach(async () => {
    directory = await aTempDirectory();
    const store = await EmbeddedEventStore.open({ directory: directory.path });
    // Appends of one, three and two events, over two streams: records hold several events.
    await store.appendToStream('a-1', [aNewEvent('ThingHappened', { n: 1 })]);
    await store.appendToStream('b-1', [aNewEvent('ThingHappened', { n: 2 }), aNewEvent('ThingHappened', { n: 3 }), aNewEvent('ThingHappened', { n: 4 })]);
    await store.appendToStream('a-1', [aNewEvent('ThingHappened', { n: 5 }), aNewEvent('ThingHappened', { n: 6 })]);
    stored = await store.readAll();
    await store.close();
  });

  afterEach(() => directory.remove());

  it('reads every record the store wrote, each with its text and first position, in batches of whole records, to the record holding upTo', async () => {
    const batches = await scanned({ directory: directory.path, upTo: 6, batchRecords: 2 });
    expect(batches.map((batch) => batch.map((payload) => payload.firstPosition))).toEqual([[1, 2], [5]]);
    expect(batches.flat().map((payload) => recordedEventsOf(payload.text))).toEqual([stored.slice(0, 1), stored.slice(1, 4), stored.slice(4, 6)]);
    // The record holding upTo is the last one read, whole: its reader cuts it.
    expect((await scanned({ directory: directory.path, upTo: 3, batchRecords: 100 })).flat().map((payload) => payload.firstPosition)).toEqual([1, 2]);
    expect((await scanned({ directory: directory.path, upTo: 5, batchRecords: 100 })).flat().map((payload) => payload.firstPosition)).toEqual([1, 2, 5]);
    expect(await scanned({ directory: directory.path, upTo: 0, batchRecords: 100 })).toEqual([]);
  });

  it('reports a damaged record as corrupted, and reads the records before it when one of them starts at upTo', async () => {
    const path = join(directory.path, EVENT_LOG_FILE_NAME);
    const handle = await open(path, 'r+');
    try {
      const { size } = await handle.stat();
      // A byte of the last record's payload changed: its checksum no longer matches.
      await handle.write(Buffer.from('#'), 0, 1, size - 5);
    } finally {
      await handle.close();
    }
    await expect(scanned({ directory: directory.path, upTo: 6, batchRecords: 100 })).rejects.toThrow(/byte \d+, read on the way to position 6, is damaged: checksum mismatch/);
    expect(decoded(await scanned({ directory: directory.path, upTo: 2, batchRecords: 100 }))).toEqual(stored.slice(0, 4));
    // Position 4 is inside the second record: the damaged third is read to tell where the second ends.
    await expect(scanned({ directory: directory.path, upTo: 4, batchRecords: 100 })).rejects.toThrow(EventLogCorruptedError);
  });

  it('leaves the count of events to the reader that decodes them: positions must continue', () => {
    expect(checkEventPositions(stored.slice(0, 4), 0)).toBe(4);
    expect(checkEventPositions([], 7)).toBe(7);
    // A record missing, or one read twice: the positions do not continue.
    expect(() => checkEventPositions([...stored.slice(0, 1), ...stored.slice(4, 6)], 0)).toThrow(/position 5 after 1/);
    expect(() => checkEventPositions(stored.slice(1, 4), 4)).toThrow(EventLogCorruptedError);
  });

  it('reads records across the blocks it reads the file in, one larger than a block included', async () => {
    const store = await EmbeddedEventStore.open({ directory: directory.path });
    // 5 MiB and 3 MiB records: the first larger than a 4 MiB block, the second across the next block's end.
    await store.appendToStream('c-1', [aNewEvent('Large', { text: 'x'.repeat(5 * 1024 * 1024) })]);
    await store.appendToStream('c-1', [aNewEvent('Large', { text: 'y'.repeat(3 * 1024 * 1024) }), aNewEvent('Small', { n: 9 })]);
    await store.appendToStream('a-1', [aNewEvent('ThingHappened', { n: 10 })]);
    const all = await store.readAll();
    await store.close();
    const batches = await scanned({ directory: directory.path, upTo: 10, batchRecords: 1 });
    expect(batches.map((batch) => batch.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(decoded(batches)).toEqual(all);
  });

  it('refuses a file that is not an event log', async () => {
    await writeFile(join(directory.path, EVENT_LOG_FILE_NAME), 'not a log at all');
    await expect(scanned({ directory: directory.path, upTo: 1, batchRecords: 100 })).rejects.toThrow(LogFileFormatError);
  });
});
