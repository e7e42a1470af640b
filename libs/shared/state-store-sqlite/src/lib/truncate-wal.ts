import type Database from 'better-sqlite3';

export interface TruncateWalOptions {
  /** How long to keep trying while another connection keeps the WAL busy, ms. Default 2,000. */
  readonly withinMs?: number;
  /** Wait between two attempts, ms. Default 5. */
  readonly waitMs?: number;
  /** How the wait is made (tests pass their own). Default: the thread sleeps. */
  readonly sleep?: (ms: number) => void;
  /** The clock the bound is read from, ms (tests pass their own). Default: `performance.now`. */
  readonly now?: () => number;
}

const sleepThread = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Copies the whole WAL into the database and truncates it to nothing (`wal_checkpoint(TRUNCATE)`),
 * trying again while SQLite answers busy (the pragma answers busy rather than failing): another
 * connection's checkpoint holds the lock, or a reader on another connection still uses the WAL.
 * An erasure relies on this to leave no page image of a deleted row in the WAL, so it throws when
 * the WAL stays busy rather than return as if it were done.
 *
 * The connection's busy timeout is set to 0 while it tries (and put back after), so one attempt
 * never waits on its own: the whole call, which runs on the caller's thread, is bounded by
 * `withinMs` (2 s by default) rather than by attempts times the busy timeout.
 */
export function truncateWal(db: Database.Database, options: TruncateWalOptions = {}): void {
  const withinMs = Math.max(0, options.withinMs ?? 2000);
  const waitMs = options.waitMs ?? 5;
  const sleep = options.sleep ?? sleepThread;
  const now = options.now ?? (() => performance.now());
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const until = now() + withinMs;
    for (;;) {
      const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      if (!row || row.busy === 0) return;
      if (now() >= until) throw new Error(`The WAL of ${db.name} could not be truncated: another connection kept it busy for ${withinMs} ms`);
      sleep(waitMs);
    }
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
