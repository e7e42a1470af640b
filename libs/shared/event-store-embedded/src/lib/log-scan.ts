import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import { ChunkedReader, decodeFrame, EVENT_LOG_FILE_NAME, LogFileFormatError } from './log-file';
import { decodeRecordedEvents, LOG_FILE_MAGIC } from './record-codec';

export interface LogScanOptions {
  /** The event store's directory. */
  readonly directory: string;
  /** The last position to read: the head the writer reported (the scan ends there, however the file goes on). */
  readonly upTo: number;
  /** Events per batch handed out (whole records: a batch may hold a few more). */
  readonly batchEvents: number;
}

/**
 * Reads the events of the log file in order, from the first to `upTo`, in batches, straight
 * through the file without its index: each record's checksum is verified and its events must
 * continue the positions before them. It takes no lock and writes nothing, so it is for a
 * reader whose process already holds the directory (the rebuild: one scan per worker thread,
 * with the store opened, and its torn tail cut, by the main thread). A log that ends before
 * `upTo` or holds a damaged record there is an `EventLogCorruptedError`.
 */
export async function* scanLog(options: LogScanOptions): AsyncGenerator<RecordedEvent[]> {
  const path = join(options.directory, EVENT_LOG_FILE_NAME);
  const handle = await open(path, 'r');
  try {
    const reader = new ChunkedReader(handle, (await handle.stat()).size);
    const magic = await reader.bytesAt(0, LOG_FILE_MAGIC.length);
    if (!magic?.equals(LOG_FILE_MAGIC)) throw new LogFileFormatError(`${path} is not an event log (bad header)`);
    let offset = LOG_FILE_MAGIC.length;
    let position = 0;
    let batch: RecordedEvent[] = [];
    while (position < options.upTo) {
      const scan = await decodeFrame(reader, offset, decodeRecordedEvents);
      if (scan.kind !== 'frame') throw new EventLogCorruptedError(`The event log record at byte ${offset} cannot be read before position ${options.upTo}: ${scan.damage}`);
      for (const event of scan.entry) {
        if (event.globalPosition !== position + 1) throw new EventLogCorruptedError(`The event log record at byte ${offset} holds position ${event.globalPosition} after ${position}`);
        if (event.globalPosition > options.upTo) break;
        batch.push(event);
        position = event.globalPosition;
      }
      offset += scan.frameBytes;
      if (batch.length >= options.batchEvents) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await handle.close();
  }
}
