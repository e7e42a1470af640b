import { open } from 'node:fs/promises';

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
