import type Database from 'better-sqlite3';

export interface TruncateWalOptions {
  /** Checkpoints tried while another one holds the lock. Default 400. */
  readonly attempts?: number;
  /** Wait between two, ms. Default 5. */
  readonly waitMs?: number;
  /** How the wait is made (tests pass their own). Default: the thread sleeps. */
  readonly sleep?: (ms: number) => void;
}

const sleepThread = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Copies the whole WAL into the database and truncates it to nothing (`wal_checkpoint(TRUNCATE)`),
 * trying again while SQLite answers busy (the pragma answers busy rather than failing): another
 * connection's checkpoint holds the lock, which it does not wait for, or a reader on another
 * connection still used the WAL past the busy timeout. An erasure relies on this to leave no page
 * image of a deleted row in the WAL, so it throws when the WAL stays busy rather than return as if
 * it were done.
 */
export function truncateWal(db: Database.Database, options: TruncateWalOptions = {}): void {
  const attempts = Math.max(1, options.attempts ?? 400);
  const sleep = options.sleep ?? sleepThread;
  for (let attempt = 1; ; attempt++) {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (!row || row.busy === 0) return;
    if (attempt >= attempts) throw new Error(`The WAL of ${db.name} could not be truncated: another connection kept it busy through ${attempts} attempts`);
    sleep(options.waitMs ?? 5);
  }
}
