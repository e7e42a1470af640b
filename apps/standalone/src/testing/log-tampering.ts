import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * What an attacker with the data directory can do to the embedded log: rewrite its frames
 * (`[u32 LE length][u32 LE crc32 of length bytes + payload][payload]` after an 8-byte magic),
 * recomputing every checksum and keeping positions dense and stream revisions consistent, so that
 * the log still opens; and remove the log's index so it is rebuilt from the edited file.
 */
export interface Frame {
  /** The append's JSON payload: streamName, firstRevision, firstPosition, recordedAt, events, ... */
  payload: Buffer;
}

export interface AppendRecord {
  readonly streamName: string;
  readonly firstRevision: number;
  readonly firstPosition: number;
  readonly events: readonly { readonly id: string; readonly type: string }[];
}

const MAGIC_BYTES = 8;

export async function readFrames(dataDir: string): Promise<{ magic: Buffer; frames: Frame[] }> {
  const bytes = await readFile(join(dataDir, 'events', 'events.log'));
  const frames: Frame[] = [];
  for (let offset = MAGIC_BYTES; offset < bytes.length; ) {
    const length = bytes.readUInt32LE(offset);
    frames.push({ payload: Buffer.from(bytes.subarray(offset + 8, offset + 8 + length)) });
    offset += 8 + length;
  }
  return { magic: bytes.subarray(0, MAGIC_BYTES), frames };
}

export const recordOf = (frame: Frame): AppendRecord => JSON.parse(frame.payload.toString('utf8')) as AppendRecord;

/** The frame with its append's fields changed, serialised as the store does (key order kept). */
export function withFields(frame: Frame, fields: Partial<Record<'streamName' | 'firstRevision' | 'firstPosition', string | number>>): Frame {
  const record = JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) record[key] = value;
  return { payload: Buffer.from(JSON.stringify(record), 'utf8') };
}

/** Writes the frames back with fresh checksums and removes the log's index, as an attacker covering their tracks would. */
export async function writeFrames(dataDir: string, magic: Buffer, frames: readonly Frame[]): Promise<void> {
  const parts: Buffer[] = [magic];
  for (const { payload } of frames) {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload, crc32(header.subarray(0, 4))), 4);
    parts.push(header, payload);
  }
  await writeFile(join(dataDir, 'events', 'events.log'), Buffer.concat(parts));
  for (const suffix of ['', '-wal', '-shm']) await rm(join(dataDir, 'events', `index.sqlite${suffix}`), { force: true });
}

/** Renumbers the positions of frames so they are dense again from 1 (after one was dropped). */
export function renumbered(frames: readonly Frame[]): Frame[] {
  let next = 1;
  return frames.map((frame) => {
    const record = recordOf(frame);
    const renumberedFrame = record.firstPosition === next ? frame : withFields(frame, { firstPosition: next });
    next += record.events.length;
    return renumberedFrame;
  });
}
