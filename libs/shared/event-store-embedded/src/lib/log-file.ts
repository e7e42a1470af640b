import { open, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { syncDirectory } from './directory-sync';
import { FRAME_HEADER_BYTES, LOG_FILE_MAGIC, MAX_PAYLOAD_BYTES, frameChecksum } from './record-codec';

/** Flushes written bytes (and the file size) to stable storage; `fdatasync` by default. */
export type SyncData = (file: FileHandle) => Promise<void>;

export const syncDataWithFdatasync: SyncData = (file) => file.datasync();

export interface OpenLogFileOptions<T> {
  readonly path: string;
  /** Turns a checksummed payload into an entry; throwing marks the record as damaged. */
  readonly decode: (payload: Buffer) => T;
  readonly syncData: SyncData;
  readonly onWarning: (message: string) => void;
}

/** The file is not an event log of this format; nothing was changed. */
export class LogFileFormatError extends Error {
  override readonly name = 'LogFileFormatError';
}

/** Name of the log inside the store's directory. */
export const EVENT_LOG_FILE_NAME = 'events.log';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Reads forward through a file in large chunks, handing out views of the bytes asked for. */
export class ChunkedReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
  ) {}

  /** The `length` bytes at `offset`, or null when the file ends first. Offsets never move backwards. */
  async bytesAt(offset: number, length: number): Promise<Buffer | null> {
    if (offset + length > this.fileSize) return null;
    const bufferEnd = this.bufferStart + this.buffer.length;
    if (offset < this.bufferStart || offset + length > bufferEnd) {
      const kept = offset < bufferEnd && offset >= this.bufferStart ? this.buffer.subarray(offset - this.bufferStart) : Buffer.alloc(0);
      const readFrom = offset + kept.length;
      const readLength = Math.min(Math.max(length - kept.length, READ_CHUNK_BYTES), this.fileSize - readFrom);
      const fresh = Buffer.allocUnsafe(readLength);
      let filled = 0;
      while (filled < readLength) {
        const { bytesRead } = await this.handle.read(fresh, filled, readLength - filled, readFrom + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      this.buffer = Buffer.concat([kept, fresh.subarray(0, filled)]);
      this.bufferStart = offset;
      if (this.buffer.length < length) return null;
    }
    return this.buffer.subarray(offset - this.bufferStart, offset - this.bufferStart + length);
  }
}

/**
 * An append-only file of `[u32 length][u32 crc32][payload]` frames after a format header.
 * Only this process writes it (the directory lock guarantees that), so the end of the file is
 * tracked in memory and writes go to explicit offsets.
 */
export class LogFile {
  private constructor(
    private readonly handle: FileHandle,
    private size: number,
    private readonly syncData: SyncData,
  ) {}

  /** Opens or creates the log, verifies every frame, and cuts the file at the first damaged one. */
  static async open<T>(options: OpenLogFileOptions<T>): Promise<{ file: LogFile; entries: T[] }> {
    await createIfMissing(options.path);
    const handle = await open(options.path, 'r+');
    try {
      const { size } = await handle.stat();
      const reader = new ChunkedReader(handle, size);
      const magic = await reader.bytesAt(0, LOG_FILE_MAGIC.length);
      if (!magic?.equals(LOG_FILE_MAGIC)) throw new LogFileFormatError(`${options.path} is not an event log (bad header)`);
      const entries: T[] = [];
      let offset = LOG_FILE_MAGIC.length;
      let damage: string | null = null;
      while (offset < size) {
        const frame = await decodeFrame(reader, offset, options.decode);
        if (frame.kind !== 'frame') {
          damage = frame.damage;
          break;
        }
        entries.push(frame.entry);
        offset += frame.frameBytes;
      }
      if (damage !== null) {
        // Only the tail written after the last acknowledged sync can be damaged by a crash, so
        // nothing before `offset` is lost. Whatever follows is never served: cut it for good.
        options.onWarning(
          `Event log ${options.path}: ${damage} at byte ${offset}; cutting ${size - offset} trailing bytes (${entries.length} records kept)`,
        );
        await handle.truncate(offset);
        await handle.sync();
      }
      return { file: new LogFile(handle, offset, options.syncData), entries };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get sizeBytes(): number {
    return this.size;
  }

  /** Writes the frames at the end of the file and resolves only once they are on stable storage. */
  async append(frames: Buffer): Promise<void> {
    let written = 0;
    while (written < frames.length) {
      const { bytesWritten } = await this.handle.write(frames, written, frames.length - written, this.size + written);
      written += bytesWritten;
    }
    await this.syncData(this.handle);
    this.size += frames.length;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * What lies at an offset: a whole frame that verified and decoded; the end of the file before a
 * whole frame (`incomplete`: an append still being written, or a torn tail); or a whole frame that
 * fails its checks (`damaged`).
 */
export type FrameScan<T> =
  | { readonly kind: 'frame'; readonly entry: T; readonly frameBytes: number }
  | { readonly kind: 'incomplete'; readonly damage: string }
  | { readonly kind: 'damaged'; readonly damage: string };

/** Checks the frame at `offset` (length bounds, checksum, decoding) and returns its entry, or says what is wrong with it. */
export async function decodeFrame<T>(reader: ChunkedReader, offset: number, decode: (payload: Buffer) => T): Promise<FrameScan<T>> {
  const header = await reader.bytesAt(offset, FRAME_HEADER_BYTES);
  if (!header) return { kind: 'incomplete', damage: 'partial record header' };
  const length = header.readUInt32LE(0);
  const checksum = header.readUInt32LE(4);
  if (length === 0 || length > MAX_PAYLOAD_BYTES) return { kind: 'damaged', damage: `record length ${length} out of bounds` };
  const lengthBytes = Buffer.from(header.subarray(0, 4));
  const payload = await reader.bytesAt(offset + FRAME_HEADER_BYTES, length);
  if (!payload) return { kind: 'incomplete', damage: 'partial record' };
  if (frameChecksum(lengthBytes, payload) !== checksum) return { kind: 'damaged', damage: 'checksum mismatch' };
  try {
    return { kind: 'frame', entry: decode(payload), frameBytes: FRAME_HEADER_BYTES + length };
  } catch (error) {
    return { kind: 'damaged', damage: `undecodable record (${error instanceof Error ? error.message : String(error)})` };
  }
}

/** Creates the log with its header through a rename, so a crash never leaves a half-made log behind. */
async function createIfMissing(path: string): Promise<void> {
  try {
    const existing = await open(path, 'r');
    await existing.close();
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const draft = `${dirname(path)}/.${basename(path)}.new`;
  const handle = await open(draft, 'w');
  try {
    await handle.write(LOG_FILE_MAGIC, 0, LOG_FILE_MAGIC.length, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(draft, path);
  await syncDirectory(dirname(path));
}
