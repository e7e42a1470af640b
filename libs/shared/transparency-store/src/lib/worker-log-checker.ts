import type { LogTailStart } from '@flagline/event-store-embedded';
import type { LogChecker, LogMismatch } from '@flagline/transparency';
import type { Worker } from 'node:worker_threads';
import type { TreeCheckJob, TreeCheckMessage } from './tree-check.worker';
import { startWorker, type LoweredPriority } from './worker-thread';

/**
 * Leaves from which the check's thread runs at the lowest priority: about 1.5 s of a core's
 * hashing here. A shorter check is done before it could matter to the serving.
 */
export const LOW_PRIORITY_CHECK_FROM = 100_000;

export interface WorkerLogCheckerOptions {
  /** Each thread as it starts (tests end one to see the check fail). */
  readonly onWorker?: (worker: Worker) => void;
  /** From how many leaves a check runs at the lowest priority (default `LOW_PRIORITY_CHECK_FROM`). */
  readonly lowPriorityFrom?: number;
  /** How each check's thread was lowered (null: it was not). */
  readonly onPriority?: (lowered: LoweredPriority) => void;
}

/**
 * The start-up check of the embedded log against its Merkle tree on a worker thread (see
 * tree-check.worker.ts), one thread per check: reading and hashing every event of a long log runs
 * beside the event loop, on another core when there is one, and a long one at the lowest
 * priority, behind the serving (`LOW_PRIORITY_CHECK_FROM`). `start(0)` gives where the log's file
 * holds its first event. A thread that dies before its outcome rejects the check (`TransparencyLog`
 * then checks again later); `stop` ends the thread, and the check resolves with null.
 */
export function workerLogChecker(treePath: string, logDirectory: string, start: (after: number) => LogTailStart, options: WorkerLogCheckerOptions = {}): LogChecker {
  let current: Worker | null = null;
  let stopped = false;
  return {
    check(treeSize: number, logHead: number, progress: (checked: number) => void): Promise<LogMismatch | null> {
      if (stopped) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        const job: TreeCheckJob = { treePath, treeSize, logDirectory, start: start(0), logHead, lowPriorityFrom: options.lowPriorityFrom ?? LOW_PRIORITY_CHECK_FROM };
        const worker = startWorker('tree-check', job);
        current = worker;
        let settled = false;
        let cause: Error | undefined;
        worker.on('message', (message: TreeCheckMessage) => {
          if (message.kind === 'priority') options.onPriority?.(message.lowered);
          else if (message.kind === 'progress') progress(message.checked);
          else {
            settled = true;
            resolve(message.mismatch);
          }
        });
        worker.on('error', (error) => {
          cause = error;
        });
        worker.on('exit', (code) => {
          if (current === worker) current = null;
          if (settled) return;
          if (stopped) resolve(null);
          else reject(new Error(`the check's thread ended (code ${code}) before its outcome${cause ? `: ${cause.message}` : ''}`));
        });
        options.onWorker?.(worker);
      });
    },
    async stop(): Promise<void> {
      stopped = true;
      await current?.terminate();
    },
  };
}
