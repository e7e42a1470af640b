import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir, with a way to remove it. */
export async function aTempDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'flagline-event-store-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
