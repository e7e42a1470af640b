import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import { checkPayload, EVENT_LOG_FILE_NAME, LogFileFormatError } from './log-file';
import { FRAME_HEADER_BYTES, LOG_FILE_MAGIC, MAX_PAYLOAD_BYTES, payloadHead, recordedEventsOf } from './record-codec';

export interface LogScanOptions {
  /** The event store's directory. */
  readonly directory: string;
  /** The last position to read: the head the writer reported (the scan ends there, however the file goes on). */
  readonly upTo: number;
  /** Records per batch handed out (the last batch may hold fewer). */
  readonly batchRecords: number;
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

/** One record of the log as `scanLogPayloads` reads it: its payload's text, undecoded, and the position of its first event. */
export interface ScannedPayload {
  readonly text: string;
  readonly firstPosition: number;
}

function decodeScannedPayload(payload: Buffer): ScannedPayload {
  const text = payload.toString('utf8');
  // Another writer's shape: decoded whole.
  const firstPosition = payloadHead(text)?.firstPosition ?? (recordedEventsOf(text)[0] as RecordedEvent).globalPosition;
  return { text, firstPosition };
}

/**
 * Reads the records of the log file in order, straight through the file without its index, for a
 * reader that decodes the payloads elsewhere (the rebuild's worker threads): each record's
 * checksum is verified and its text handed out undecoded, with its first event's position (read
 * from the head of the text); records from the first to the one holding `upTo`, in batches of at
 * `batchRecords` records. It takes no lock and writes nothing, so it is for a reader whose
 * process already holds the directory (the rebuild, with the store opened, and its torn tail cut).
 * It cannot tell how many events a record holds: records must start at increasing positions, and
 * the reader that decodes them checks that their events continue one another up to `upTo` (see
 * `checkEventPositions`).
 */
export async function* scanLogPayloads(options: LogScanOptions): AsyncGenerator<ScannedPayload[]> {
  let last = 0;
  let batch: ScannedPayload[] = [];
  for await (const { entry, offset } of scanFrames(options, decodeScannedPayload)) {
    if (entry.firstPosition > options.upTo) break;
    if (entry.firstPosition <= last) throw new EventLogCorruptedError(`The event log record at byte ${offset} holds position ${entry.firstPosition} after ${last}`);
    last = entry.firstPosition;
    batch.push(entry);
    if (batch.length >= options.batchRecords) {
      yield batch;
      batch = [];
    }
    // The record holding `upTo` is the last read. One holding it past its first event is not told
    // apart: the next record, starting past `upTo`, ends the scan then, and is read (checked) to
    // know that. The rebuild reads to the head, which nothing follows.
    if (entry.firstPosition >= options.upTo) break;
  }
  if (batch.length > 0) yield batch;
}

/**
 * Checks that decoded events continue the positions before them (`after`), as a reader of
 * `scanLogPayloads` must: the position of the last one, or an `EventLogCorruptedError`.
 */
export function checkEventPositions(events: readonly RecordedEvent[], after: number): number {
  let position = after;
  for (const event of events) {
    if (event.globalPosition !== position + 1) throw new EventLogCorruptedError(`The event log holds position ${event.globalPosition} after ${position}`);
    position = event.globalPosition;
  }
  return position;
}

/**
 * The frames of the log file in order, each checked against its checksum and decoded with
 * `decode`, with its byte offset; ends where the file ends. A record cut short or damaged is an
 * `EventLogCorruptedError` (the store, opened by the caller, has already cut a torn tail).
 */
async function* scanFrames<T>(options: LogScanOptions, decode: (payload: Buffer) => T): AsyncGenerator<{ readonly entry: T; readonly offset: number }> {
  const path = join(options.directory, EVENT_LOG_FILE_NAME);
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const window = new BlockWindow(handle, fileSize);
    if (!(await window.moveTo(0, LOG_FILE_MAGIC.length)) || !window.bytes(0, LOG_FILE_MAGIC.length).equals(LOG_FILE_MAGIC)) {
      throw new LogFileFormatError(`${path} is not an event log (bad header)`);
    }
    const damaged = (offset: number, damage: string): EventLogCorruptedError =>
      new EventLogCorruptedError(`The event log record at byte ${offset}, read on the way to position ${options.upTo}, is damaged: ${damage}`);
    let offset = LOG_FILE_MAGIC.length;
    while (offset < fileSize) {
      if (!window.holds(offset, FRAME_HEADER_BYTES) && !(await window.moveTo(offset, FRAME_HEADER_BYTES))) throw damaged(offset, 'partial record header');
      const length = window.uint32At(offset);
      if (length === 0 || length > MAX_PAYLOAD_BYTES) throw damaged(offset, `record length ${length} out of bounds`);
      const frameBytes = FRAME_HEADER_BYTES + length;
      if (!window.holds(offset, frameBytes) && !(await window.moveTo(offset, frameBytes))) throw damaged(offset, 'partial record');
      const scan = checkPayload(window.bytes(offset, 4), window.uint32At(offset + 4), window.bytes(offset + FRAME_HEADER_BYTES, length), decode);
      if (scan.kind !== 'frame') throw damaged(offset, scan.damage);
      yield { entry: scan.entry, offset };
      offset += frameBytes;
    }
  } finally {
    await handle.close();
  }
}
