import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes a created, renamed or removed directory entry durable. A file's own fsync does not
 * cover its name in the parent directory, so without this a crash can lose a new file.
 */
export async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a directory for fsync; NTFS journals the entry itself.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `syncDirectory`, synchronously (for start-up code that is synchronous). */
export function syncDirectorySync(directory: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates a file that must not exist yet (`EEXIST` otherwise) and makes it durable before
 * returning: its bytes fsynced, then its name in the directory. For small files that must survive
 * a crash once the caller relies on them (a key whose loss makes data unreadable or unfindable).
 */
export function writeNewFileDurably(path: string, data: string | Buffer, mode = 0o600): void {
  const fd = openSync(path, 'wx', mode);
  try {
    // The mode as asked, whatever the umask.
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectorySync(dirname(path));
}
