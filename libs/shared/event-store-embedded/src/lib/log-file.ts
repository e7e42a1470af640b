import { readSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { syncDirectory } from './directory-sync';
import { EventLogCorruptedError } from './event-store.errors';
import { FRAME_HEADER_BYTES, LOG_FILE_MAGIC, MAX_PAYLOAD_BYTES, frameChecksum } from './record-codec';

/** Flushes written bytes (and the file size) to stable storage; `fdatasync` by default. */
export type SyncData = (file: FileHandle) => Promise<void>;

export const syncDataWithFdatasync: SyncData = (file) => file.datasync();

/** The file is not an event log of this format; nothing was changed. */
export class LogFileFormatError extends Error {
  override readonly name = 'LogFileFormatError';
}

/** Name of the log inside the store's directory. */
export const EVENT_LOG_FILE_NAME = 'events.log';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads forward through a file in large chunks, handing out views of the bytes asked for. A view
 * stays valid until the next call after the one that returned it: the reader refills two buffers
 * in turn instead of allocating one per chunk, which would keep the garbage collector busy.
 */
export class ChunkedReader {
  private readonly blocks = [Buffer.allocUnsafeSlow(0), Buffer.allocUnsafeSlow(0)];
  private current = 0;
  private buffer = this.blocks[0] as Buffer;
  private bufferStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private fileSize: number,
    private readonly chunkBytes = READ_CHUNK_BYTES,
  ) {}

  /** Lets the reader go up to a new end of the file (an append-only file only grows). */
  extendTo(fileSize: number): void {
    this.fileSize = Math.max(this.fileSize, fileSize);
  }

  /** The `length` bytes at `offset`, or null when the file ends first. Offsets never move backwards. */
  async bytesAt(offset: number, length: number): Promise<Buffer | null> {
    if (offset + length > this.fileSize) return null;
    const bufferEnd = this.bufferStart + this.buffer.length;
    if (offset < this.bufferStart || offset + length > bufferEnd) {
      const keptBytes = offset < bufferEnd && offset >= this.bufferStart ? bufferEnd - offset : 0;
      const readLength = Math.min(Math.max(length - keptBytes, this.chunkBytes), this.fileSize - offset - keptBytes);
      const size = keptBytes + readLength;
      const next = 1 - this.current;
      let block = this.blocks[next] as Buffer;
      if (block.length < size) block = this.blocks[next] = Buffer.allocUnsafeSlow(Math.max(size, this.chunkBytes));
      const fresh = block.subarray(0, size);
      if (keptBytes > 0) this.buffer.copy(fresh, 0, offset - this.bufferStart, offset - this.bufferStart + keptBytes);
      let filled = keptBytes;
      while (filled < size) {
        const { bytesRead } = await this.handle.read(fresh, filled, size - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      this.current = next;
      this.buffer = fresh.subarray(0, filled);
      this.bufferStart = offset;
      if (this.buffer.length < length) return null;
    }
    return this.buffer.subarray(offset - this.bufferStart, offset - this.bufferStart + length);
  }
}

/** A frame that verified, with where it lies in the file. */
export interface ScannedFrame<T> {
  readonly entry: T;
  readonly offset: number;
  readonly bytes: number;
  readonly checksum: number;
}

export interface RecoverOptions<T> {
  /** Offset of the first frame to verify: everything before it is trusted as verified earlier. */
  readonly from: number;
  /** Turns a checksummed payload into an entry; throwing marks the record as damaged. */
  readonly decode: (payload: Buffer) => T;
  /** Receives the verified frames in file order, in batches; throwing stops the scan and cuts nothing. */
  readonly onFrames: (frames: readonly ScannedFrame<T>[]) => void;
  readonly onWarning: (message: string) => void;
  /**
   * Bytes every payload starts with. Past a damaged record, the rest of the file is searched for
   * them when `from` says nothing of where the last acknowledged write ended (see `unknownEnd`).
   */
  readonly payloadPrefix: Buffer;
  /**
   * True when `from` is not the end of the acknowledged writes (a log verified from its start,
   * its index rebuilt). Damage followed by a record that verifies is then refused, not cut: a
   * crash tears only the last write, so intact records after the damage may be acknowledged
   * events. When false, everything after `from` was written after the last acknowledged sync
   * that `from` accounts for, and damage there is cut as a torn tail even with sound records after it.
   */
  readonly unknownEnd: boolean;
}

/** Frames handed to `onFrames` at a time during a scan. */
const SCAN_BATCH_FRAMES = 8192;

/**
 * An append-only file of `[u32 length][u32 crc32][payload]` frames after a format header.
 * Only this process writes it (the directory lock guarantees that), so the end of the file is
 * tracked in memory and writes go to explicit offsets.
 */
export class LogFile {
  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private size: number,
    private readonly syncData: SyncData,
  ) {}

  /**
   * Opens or creates the log and checks its header. Its frames are not verified yet: `recover`
   * does that from a given offset before anything is appended.
   */
  static async open(options: { readonly path: string; readonly syncData: SyncData }): Promise<LogFile> {
    await createIfMissing(options.path);
    const handle = await open(options.path, 'r+');
    try {
      const { size } = await handle.stat();
      const magic = await new ChunkedReader(handle, size).bytesAt(0, LOG_FILE_MAGIC.length);
      if (!magic?.equals(LOG_FILE_MAGIC)) throw new LogFileFormatError(`${options.path} is not an event log (bad header)`);
      return new LogFile(options.path, handle, size, options.syncData);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Verifies every frame from `from` to the end of the file, hands them to `onFrames`, and cuts
   * the file at the first damaged one. The end of the file is then the end of the last good frame.
   */
  async recover<T>(options: RecoverOptions<T>): Promise<void> {
    const reader = new ChunkedReader(this.handle, this.size);
    let offset = options.from;
    let batch: ScannedFrame<T>[] = [];
    let kept = 0;
    let damage: string | null = null;
    while (offset < this.size) {
      const frame = await decodeFrame(reader, offset, options.decode);
      if (frame.kind !== 'frame') {
        damage = frame.damage;
        break;
      }
      batch.push({ entry: frame.entry, offset, bytes: frame.frameBytes, checksum: frame.checksum });
      offset += frame.frameBytes;
      if (batch.length >= SCAN_BATCH_FRAMES) {
        options.onFrames(batch);
        kept += batch.length;
        batch = [];
      }
    }
    options.onFrames(batch);
    kept += batch.length;
    if (damage !== null) {
      // A crash can damage only the tail written after the last acknowledged sync. Where that
      // is not known, a record that verifies after the damage may be acknowledged (the damage a
      // disk error or an edit), and cutting would drop it: the file is left for the operator.
      const intact = options.unknownEnd ? await this.intactFrameAfter(offset, options) : null;
      if (intact !== null) {
        throw new EventLogCorruptedError(
          `Event log ${this.path}: ${damage} at byte ${offset}, and an intact record follows at byte ${intact}, so this is not the torn tail a crash leaves. ` +
            `The file is left as it is: restore it from a backup, or, to give up every event from byte ${offset} on, cut it there (truncate -s ${offset} ${this.path}) and start again.`,
        );
      }
      // Only the tail written after the last acknowledged sync can be damaged by a crash, so
      // nothing before `offset` is lost. Whatever follows is never served: cut it for good.
      options.onWarning(
        `Event log ${this.path}: ${damage} at byte ${offset}; cutting ${this.size - offset} trailing bytes (${kept} records checked since byte ${options.from})`,
      );
      await this.handle.truncate(offset);
      await this.handle.sync();
    }
    this.size = offset;
  }

  /** The offset of the first record after `damaged` that verifies and decodes, or null when there is none. */
  private async intactFrameAfter<T>(damaged: number, options: RecoverOptions<T>): Promise<number | null> {
    const prefix = options.payloadPrefix;
    const reader = new ChunkedReader(this.handle, this.size);
    // Each chunk is searched for prefixes that start in its first READ_CHUNK_BYTES after a frame
    // header's room, and reads far enough past them to hold the whole prefix.
    const extra = FRAME_HEADER_BYTES + prefix.length - 1;
    for (let chunkStart = damaged + 1; chunkStart + FRAME_HEADER_BYTES + prefix.length <= this.size; chunkStart += READ_CHUNK_BYTES) {
      const chunk = await reader.bytesAt(chunkStart, Math.min(READ_CHUNK_BYTES + extra, this.size - chunkStart));
      if (!chunk) return null;
      // Copied: the view would move with the reader's next read.
      const bytes = Buffer.from(chunk);
      for (let at = bytes.indexOf(prefix, FRAME_HEADER_BYTES); at !== -1 && at < READ_CHUNK_BYTES + FRAME_HEADER_BYTES; at = bytes.indexOf(prefix, at + 1)) {
        const start = chunkStart + at - FRAME_HEADER_BYTES;
        const frame = await decodeFrame(new ChunkedReader(this.handle, this.size), start, options.decode);
        if (frame.kind === 'frame') return start;
      }
    }
    return null;
  }

  get sizeBytes(): number {
    return this.size;
  }

  /** A forward reader of the file up to `limit` bytes. */
  reader(limit: number): ChunkedReader {
    return new ChunkedReader(this.handle, limit);
  }

  /** The frame at `offset`, checked and decoded. */
  frameAt<T>(offset: number, bytes: number, decode: (payload: Buffer) => T): Promise<FrameScan<T>> {
    return decodeFrame(new ChunkedReader(this.handle, Math.min(this.size, offset + bytes), bytes), offset, decode);
  }

  /** The same as `frameAt`, without waiting: for the rare lookups made while an append is decided. */
  frameAtSync<T>(offset: number, bytes: number, decode: (payload: Buffer) => T): FrameScan<T> {
    const buffer = Buffer.allocUnsafe(bytes);
    const read = offset + bytes <= this.size ? readSync(this.handle.fd, buffer, 0, bytes, offset) : 0;
    return checkFrame(read === bytes ? buffer : null, decode);
  }

  /** Writes the frames at the end of the file, resolves once they are on stable storage, and returns the offset they start at. */
  async append(frames: Buffer): Promise<number> {
    const start = this.size;
    let written = 0;
    while (written < frames.length) {
      const { bytesWritten } = await this.handle.write(frames, written, frames.length - written, start + written);
      written += bytesWritten;
    }
    await this.syncData(this.handle);
    this.size += frames.length;
    return start;
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
  | { readonly kind: 'frame'; readonly entry: T; readonly frameBytes: number; readonly checksum: number }
  | { readonly kind: 'incomplete'; readonly damage: string }
  | { readonly kind: 'damaged'; readonly damage: string };

/** Checks the frame at `offset` (length bounds, checksum, decoding) and returns its entry, or says what is wrong with it. */
export async function decodeFrame<T>(reader: ChunkedReader, offset: number, decode: (payload: Buffer) => T): Promise<FrameScan<T>> {
  const header = await reader.bytesAt(offset, FRAME_HEADER_BYTES);
  if (!header) return { kind: 'incomplete', damage: 'partial record header' };
  const length = header.readUInt32LE(0);
  if (length === 0 || length > MAX_PAYLOAD_BYTES) return { kind: 'damaged', damage: `record length ${length} out of bounds` };
  const checksum = header.readUInt32LE(4);
  // The header view stays valid across the payload read: a reader refills into its other buffer.
  const lengthBytes = header.subarray(0, 4);
  const payload = await reader.bytesAt(offset + FRAME_HEADER_BYTES, length);
  if (!payload) return { kind: 'incomplete', damage: 'partial record' };
  return checkPayload(lengthBytes, checksum, payload, decode);
}

/** The same checks on a whole frame already in memory (null: the file ended before it). */
function checkFrame<T>(frame: Buffer | null, decode: (payload: Buffer) => T): FrameScan<T> {
  if (!frame || frame.length < FRAME_HEADER_BYTES) return { kind: 'incomplete', damage: 'partial record header' };
  const length = frame.readUInt32LE(0);
  if (length !== frame.length - FRAME_HEADER_BYTES) return { kind: 'damaged', damage: `record length ${length} is not the indexed ${frame.length - FRAME_HEADER_BYTES}` };
  return checkPayload(frame.subarray(0, 4), frame.readUInt32LE(4), frame.subarray(FRAME_HEADER_BYTES), decode);
}

/** Checks a frame's payload against its checksum and decodes it (`lengthBytes`: the frame's first four bytes). */
export function checkPayload<T>(lengthBytes: Buffer, checksum: number, payload: Buffer, decode: (payload: Buffer) => T): FrameScan<T> {
  if (frameChecksum(lengthBytes, payload) !== checksum) return { kind: 'damaged', damage: 'checksum mismatch' };
  try {
    return { kind: 'frame', entry: decode(payload), frameBytes: FRAME_HEADER_BYTES + payload.length, checksum };
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
