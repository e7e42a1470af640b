import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { EventLogCorruptedError } from './event-store.errors';
import { checkPayload, EVENT_LOG_FILE_NAME } from './log-file';
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES, recordedEventsOf } from './record-codec';

/** Where a tail reader starts: the record holding the event at position `after` (or the log's first record, `after` 0), whose events up to `after` it skips. */
export interface LogTailStart {
  readonly offset: number;
  readonly after: number;
}

/** Bytes read at a time: about 1,500 sealed identity records. */
const TAIL_BLOCK_BYTES = 1024 * 1024;

const decodeEvents = (payload: Buffer): RecordedEvent[] => recordedEventsOf(payload.toString('utf8'));

/**
 * Reads the records a writer in this process appends to the log file, in order, from a place the
 * store gave (`EmbeddedEventStore.tailStart`), for a reader on another thread that learns from the
 * writer how far the log is durable (the Merkle tree's follower). Each `readTo(upTo)` reads the
 * records up to the one holding `upTo`, checked as the open-time scan checks them: their
 * checksums, and positions continuing the ones before. Records past `upTo` are left for a later
 * call: they may not be durable yet. A record that does not read there is an `EventLogCorruptedError`.
 */
export class LogTail {
  private block = Buffer.allocUnsafeSlow(TAIL_BLOCK_BYTES);
  /** The file offset of the block's first byte, and how many bytes of the file it holds. */
  private blockStart = 0;
  private filled = 0;

  private constructor(
    private readonly handle: FileHandle,
    private offset: number,
    private position: number,
  ) {}

  static async open(directory: string, start: LogTailStart): Promise<LogTail> {
    return new LogTail(await open(join(directory, EVENT_LOG_FILE_NAME), 'r'), start.offset, start.after);
  }

  /** The position of the last event read. */
  get lastPosition(): number {
    return this.position;
  }

  /**
   * The events after the last one read, up to `upTo` at least (to the end of the record holding
   * it). All or nothing: after a failure the next call reads from the same place.
   */
  async readTo(upTo: number): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    let offset = this.offset;
    let position = this.position;
    const damaged = (damage: string): EventLogCorruptedError => new EventLogCorruptedError(`The event log record at byte ${offset} (after position ${position}) cannot be read: ${damage}`);
    while (position < upTo) {
      const header = await this.bytes(offset, FRAME_HEADER_BYTES, damaged);
      const length = header.readUInt32LE(0);
      if (length === 0 || length > MAX_PAYLOAD_BYTES) throw damaged(`record length ${length} out of bounds`);
      const checksum = header.readUInt32LE(4);
      const lengthBytes = Buffer.from(header.subarray(0, 4));
      const scan = checkPayload(lengthBytes, checksum, await this.bytes(offset + FRAME_HEADER_BYTES, length, damaged), decodeEvents);
      if (scan.kind !== 'frame') throw damaged(scan.damage);
      for (const event of scan.entry) {
        // The start's record may hold events before the one to start after.
        if (event.globalPosition <= position) continue;
        if (event.globalPosition !== position + 1) throw damaged(`it holds position ${event.globalPosition} after ${position}`);
        position = event.globalPosition;
        events.push(event);
      }
      offset += FRAME_HEADER_BYTES + length;
    }
    this.offset = offset;
    this.position = position;
    return events;
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** `length` bytes of the file at `offset`, valid until the next call. */
  private async bytes(offset: number, length: number, damaged: (damage: string) => Error): Promise<Buffer> {
    if (offset < this.blockStart || offset + length > this.blockStart + this.filled) {
      if (length > this.block.length) this.block = Buffer.allocUnsafeSlow(length);
      this.blockStart = offset;
      this.filled = 0;
      // The whole block when the file holds it: the records after this one are read with it.
      while (this.filled < length) {
        const { bytesRead } = await this.handle.read(this.block, this.filled, this.block.length - this.filled, offset + this.filled);
        if (bytesRead === 0) throw damaged(`the log ends at byte ${offset + this.filled}, before the ${length} bytes wanted at ${offset}`);
        this.filled += bytesRead;
      }
    }
    const at = offset - this.blockStart;
    return this.block.subarray(at, at + length);
  }
}
