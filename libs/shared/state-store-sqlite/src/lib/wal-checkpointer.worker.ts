import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** What the thread is given: the files whose WALs it copies back, and how often it looks. */
export interface WalCheckpointerJob {
  readonly paths: readonly string[];
  readonly intervalMs: number;
}

export type WalCheckpointerRequest = { readonly kind: 'close' };

/**
 * Sent by the thread: a checkpoint that copied frames (the WAL's frames and how many of them are
 * in the database file now, sent only when that changed since the last report), a checkpoint
 * that failed (reported once until one succeeds again), and the reply to `close`.
 */
export type WalCheckpointerReport =
  | { readonly kind: 'checkpointed'; readonly path: string; readonly walFrames: number; readonly copied: number }
  | { readonly kind: 'failed'; readonly path: string; readonly message: string }
  | { readonly kind: 'closed' };

/** A row of `PRAGMA wal_checkpoint`: busy (another checkpoint held the lock), frames in the WAL, frames copied back so far. */
interface CheckpointRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * The WAL checkpointer's thread: a connection of its own to each file, which runs a `PASSIVE`
 * checkpoint every `intervalMs`, copying the pages the app's connections committed to the WAL into
 * the database file (and syncing both, as a checkpoint does with `synchronous = NORMAL`) beside
 * the event loop. A passive checkpoint takes no lock the writer needs and copies only frames no
 * reader still needs; once it has copied them all, the writer's next transaction starts the WAL
 * over from its beginning. Busy (another connection checkpointing, such as an erasure's scrub):
 * nothing is done until the next turn.
 */
function main(): void {
  const port = parentPort;
  if (!port) throw new Error('wal-checkpointer.worker runs as a worker thread');
  const job = workerData as WalCheckpointerJob;
  const report = (message: WalCheckpointerReport): void => port.postMessage(message);
  const files = job.paths.map((path) => {
    const db = new Database(path, { fileMustExist: true });
    // Copying frames reads them straight from the WAL: no page cache or memory map to speak of.
    db.pragma('mmap_size = 0');
    db.pragma('cache_size = -1024');
    db.pragma('synchronous = NORMAL');
    // A passive checkpoint never waits on a lock: a wait would only delay the next file.
    db.pragma('busy_timeout = 0');
    // This connection writes nothing, so it never checkpoints on its own account either.
    db.pragma('wal_autocheckpoint = 0');
    return { path, db, walFrames: 0, copied: 0, failing: false };
  });
  const checkpointAll = (): void => {
    for (const file of files) {
      try {
        const [row] = file.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[];
        file.failing = false;
        if (!row || row.busy !== 0) continue;
        // Counted from the WAL's start, which the writer moves back to once every frame is copied.
        if (row.checkpointed === 0 || (row.log === file.walFrames && row.checkpointed === file.copied)) continue;
        file.walFrames = row.log;
        file.copied = row.checkpointed;
        report({ kind: 'checkpointed', path: file.path, walFrames: row.log, copied: row.checkpointed });
      } catch (error) {
        if (!file.failing) report({ kind: 'failed', path: file.path, message: error instanceof Error ? error.message : String(error) });
        file.failing = true;
      }
    }
  };
  const timer = setInterval(checkpointAll, job.intervalMs);
  port.on('message', (request: WalCheckpointerRequest) => {
    if (request.kind !== 'close') return;
    clearInterval(timer);
    for (const file of files) file.db.close();
    report({ kind: 'closed' });
    port.close();
  });
}

main();
