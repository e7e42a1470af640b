import type Database from 'better-sqlite3';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WalCheckpointerJob, WalCheckpointerReport, WalCheckpointerRequest } from './wal-checkpointer.worker';

const WORKER_SCRIPT = join(__dirname, `wal-checkpointer.worker${extname(__filename)}`);
/** From the sources (tests, `node -r @swc-node/register`), the thread compiles them as this one does. */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

/**
 * WAL pages after which a connection whose file a `WalCheckpointer` follows checkpoints on its
 * own after a commit (SQLite's `wal_autocheckpoint`): a bound in case the thread falls behind or
 * is gone, far above what it leaves between two of its checkpoints (64 MiB of 4 KiB pages).
 */
export const CHECKPOINTED_ELSEWHERE_PAGES = 16_000;

/** Wait before starting a thread again after one died, ms: doubled after each death, up to the most. */
const FIRST_RESTART_DELAY_MS = 500;
const MOST_RESTART_DELAY_MS = 30_000;

export interface WalCheckpointerOptions {
  /** How often each file's WAL is copied back, ms. Default 500. */
  readonly intervalMs?: number;
  /** One line per failure (a checkpoint that failed, a thread that died and is started again). */
  readonly log: (message: string) => void;
  /** Each checkpoint that copied frames: the WAL's frames and how many are in the database file now (tests watch it). */
  readonly onCheckpoint?: (path: string, walFrames: number, copied: number) => void;
  /** Each thread as it starts (tests end one to see the next take over). */
  readonly onWorker?: (worker: Worker) => void;
}

/**
 * WAL checkpoints of SQLite files in WAL mode, run by a worker thread of their own (see
 * wal-checkpointer.worker.ts) instead of by the connection that commits: copying the pages a
 * transaction wrote from the WAL into the database file, and the two syncs around it, leave the
 * event loop. The files' own connections keep writing and reading as before, with their automatic
 * checkpoints raised to `CHECKPOINTED_ELSEWHERE_PAGES`, a bound they reach only if this thread
 * falls behind. A checkpoint is a copy SQLite can stop and take up again at any point, so a crash
 * during one leaves a file SQLite recovers at its next open, as after the writer's own. A thread
 * that dies is started again after a bounded backoff.
 */
export class WalCheckpointer {
  private worker!: Worker;
  private closing: Promise<void> | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private delay = FIRST_RESTART_DELAY_MS;
  /** The thread runs (false between its death and its restart). */
  private alive = false;
  private readonly failing = new Set<string>();

  private constructor(
    private readonly job: WalCheckpointerJob,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.run();
  }

  /** Starts the thread on these files (each must exist, in WAL mode). */
  static start(paths: readonly string[], options: WalCheckpointerOptions): WalCheckpointer {
    return new WalCheckpointer({ paths: [...paths], intervalMs: options.intervalMs ?? 500 }, options);
  }

  private run(): void {
    const worker = new Worker(WORKER_SCRIPT, { ...WORKER_OPTIONS, workerData: this.job });
    this.worker = worker;
    this.alive = true;
    // The app closes it; a process that ends without closing it is not held up by it.
    worker.unref();
    let cause = '';
    worker.on('message', (report: WalCheckpointerReport) => {
      if (report.kind === 'checkpointed') {
        this.delay = FIRST_RESTART_DELAY_MS;
        if (this.failing.delete(report.path)) this.options.log(`WAL checkpoints of ${report.path} succeed again`);
        this.options.onCheckpoint?.(report.path, report.walFrames, report.copied);
      } else if (report.kind === 'failed') {
        this.failing.add(report.path);
        this.options.log(`a WAL checkpoint of ${report.path} failed (${report.message}); it is tried again every ${this.job.intervalMs} ms`);
      }
    });
    worker.on('error', (error) => {
      cause = `: ${error.message}`;
    });
    worker.on('exit', (code) => {
      this.alive = false;
      if (this.closing) return;
      this.options.log(`the WAL checkpointer thread exited (code ${code}${cause}); starting it again in ${this.delay} ms`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.closing) this.run();
      }, this.delay);
      this.restartTimer.unref();
      this.delay = Math.min(this.delay * 2, MOST_RESTART_DELAY_MS);
    });
    this.options.onWorker?.(worker);
  }

  /** Stops the thread once its checkpoint under way is done, and closes its connections. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      if (!this.alive) return;
      const worker = this.worker;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (report: WalCheckpointerReport) => {
          if (report.kind === 'closed') resolve();
        });
      });
      worker.postMessage({ kind: 'close' } satisfies WalCheckpointerRequest);
      // A thread that already exited answers nothing.
      await Promise.race([closed, exited]);
      await worker.terminate();
    })();
    return this.closing;
  }
}

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
 * trying again while SQLite answers busy: another connection's checkpoint holds the lock (a
 * `WalCheckpointer`'s), which it does not wait for, or a reader still used the WAL past the busy
 * timeout. An erasure relies on this to leave no page image of a deleted row in the WAL, so it
 * throws when the WAL stays busy rather than return as if it were done.
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
