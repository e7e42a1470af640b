import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import { checkPayload, EVENT_LOG_FILE_NAME, LogFileFormatError } from './log-file';
import { FRAME_HEADER_BYTES, LOG_FILE_MAGIC, MAX_PAYLOAD_BYTES, recordedEventsOf } from './record-codec';

export interface LogScanOptions {
  /** The event store's directory. */
  readonly directory: string;
  /** The last position to read: the head the writer reported (the scan ends there, however the file goes on). */
  readonly upTo: number;
  /** Events per batch handed out (whole records: a batch may hold a few more). */
  readonly batchEvents: number;
}

/** Bytes of the log read at a time (a larger record is read whole into a buffer of its size). */
const SCAN_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * A window of the file, read forward a block at a time: the records inside it are checked and
 * decoded without a wait each (a scan of a million records would otherwise wait for each header
 * and payload in turn).
 */
class BlockWindow {
  private block = Buffer.allocUnsafeSlow(SCAN_BLOCK_BYTES);
  /** The file offset of the block's first byte, and how many bytes of the file it holds. */
  private start = 0;
  private filled = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
  ) {}

  /** Whether `[offset, offset + length)` is in the window. */
  holds(offset: number, length: number): boolean {
    return offset >= this.start && offset + length <= this.start + this.filled;
  }

  /** Moves the window to start at `offset` (offsets only move forward) holding at least `length` bytes; false when the file ends first. */
  async moveTo(offset: number, length: number): Promise<boolean> {
    if (offset + length > this.fileSize) return false;
    const kept = Math.max(0, this.start + this.filled - offset);
    const from = offset - this.start;
    if (length > this.block.length) {
      const larger = Buffer.allocUnsafeSlow(length);
      this.block.copy(larger, 0, from, from + kept);
      this.block = larger;
    } else this.block.copy(this.block, 0, from, from + kept);
    this.start = offset;
    this.filled = kept;
    const wanted = Math.min(this.block.length, this.fileSize - offset);
    while (this.filled < wanted) {
      const { bytesRead } = await this.handle.read(this.block, this.filled, wanted - this.filled, offset + this.filled);
      if (bytesRead === 0) break;
      this.filled += bytesRead;
    }
    return this.filled >= length;
  }

  /** The bytes at `offset` (in the window), valid until the window moves. */
  bytes(offset: number, length: number): Buffer {
    const at = offset - this.start;
    return this.block.subarray(at, at + length);
  }

  uint32At(offset: number): number {
    return this.block.readUInt32LE(offset - this.start);
  }
}

/** One record of the log as a scan reads it: its payload's text and the events it holds (those up to the scan's `upTo`). */
export interface ScannedRecord {
  readonly text: string;
  readonly events: readonly RecordedEvent[];
}

/** A record's payload as text with its events: the text can be handed on (to a thread that decodes it again) without encoding the events anew. */
function decodeScannedRecord(payload: Buffer): ScannedRecord {
  const text = payload.toString('utf8');
  return { text, events: recordedEventsOf(text) };
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
  for await (const records of scanLogRecords(options)) {
    const batch: RecordedEvent[] = [];
    for (const record of records) for (const event of record.events) batch.push(event);
    yield batch;
  }
}

/**
 * `scanLog` by record: each batch holds whole records (at least `batchEvents` events but the
 * last), each with its payload's text; a record holding events past `upTo` has only the ones up
 * to it in `events`, and all of them in its text.
 */
export async function* scanLogRecords(options: LogScanOptions): AsyncGenerator<ScannedRecord[]> {
  const path = join(options.directory, EVENT_LOG_FILE_NAME);
  const handle = await open(path, 'r');
  try {
    const window = new BlockWindow(handle, (await handle.stat()).size);
    if (!(await window.moveTo(0, LOG_FILE_MAGIC.length)) || !window.bytes(0, LOG_FILE_MAGIC.length).equals(LOG_FILE_MAGIC)) {
      throw new LogFileFormatError(`${path} is not an event log (bad header)`);
    }
    const damaged = (offset: number, damage: string): EventLogCorruptedError =>
      new EventLogCorruptedError(`The event log record at byte ${offset} cannot be read before position ${options.upTo}: ${damage}`);
    let offset = LOG_FILE_MAGIC.length;
    let position = 0;
    let batch: ScannedRecord[] = [];
    let batchEvents = 0;
    while (position < options.upTo) {
      if (!window.holds(offset, FRAME_HEADER_BYTES) && !(await window.moveTo(offset, FRAME_HEADER_BYTES))) throw damaged(offset, 'partial record header');
      const length = window.uint32At(offset);
      if (length === 0 || length > MAX_PAYLOAD_BYTES) throw damaged(offset, `record length ${length} out of bounds`);
      const frameBytes = FRAME_HEADER_BYTES + length;
      if (!window.holds(offset, frameBytes) && !(await window.moveTo(offset, frameBytes))) throw damaged(offset, 'partial record');
      const scan = checkPayload(window.bytes(offset, 4), window.uint32At(offset + 4), window.bytes(offset + FRAME_HEADER_BYTES, length), decodeScannedRecord);
      if (scan.kind !== 'frame') throw damaged(offset, scan.damage);
      let events = scan.entry.events;
      for (let index = 0; index < events.length; index++) {
        const event = events[index] as RecordedEvent;
        if (event.globalPosition !== position + 1) throw new EventLogCorruptedError(`The event log record at byte ${offset} holds position ${event.globalPosition} after ${position}`);
        if (event.globalPosition > options.upTo) {
          events = events.slice(0, index);
          break;
        }
        position = event.globalPosition;
      }
      batch.push(events === scan.entry.events ? scan.entry : { text: scan.entry.text, events });
      batchEvents += events.length;
      offset += frameBytes;
      if (batchEvents >= options.batchEvents) {
        yield batch;
        batch = [];
        batchEvents = 0;
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await handle.close();
  }
}
