import type { LogTailStart } from '@flagline/event-store-embedded';
import type { LeafWriter } from '@flagline/transparency';
import type { Worker } from 'node:worker_threads';
import type { TreeFollowerJob, TreeFollowerProgress, TreeFollowerReply, TreeFollowerRequest } from './tree-follower.worker';
import { startWorker } from './worker-thread';

/** Wait before starting a thread again after one died, ms: doubled after each death with no write between, up to the most. */
const FIRST_RESTART_DELAY_MS = 100;
const MOST_RESTART_DELAY_MS = 10_000;

export interface WorkerLeafWriterOptions {
  /** One line per thread that died and is started again. */
  readonly log: (message: string) => void;
  /** Each thread as it starts (tests end one to see the next take over). */
  readonly onWorker?: (worker: Worker) => void;
  /** The first wait before starting a dead thread again, ms (tests pass their own). */
  readonly restartDelayMs?: number;
}

/**
 * The tree's leaves written by a worker thread that reads the embedded log's file (see
 * tree-follower.worker.ts): hashing the events and the tree's SQLite transactions run beside the
 * event loop, on another core when there is one, instead of on it. `start(after)` gives where
 * the log's file holds the event after which the tree ends.
 *
 * A thread that dies (an exception, an exit, `terminate`) is started again after a bounded backoff,
 * from the tree's last position it reported (it skips the leaves the file holds past it); the
 * writes it had not answered are asked again of the new one, so they take longer instead of failing.
 */
export function workerLeafWriter(
  treePath: string,
  logDirectory: string,
  start: (after: number) => LogTailStart,
  options: WorkerLeafWriterOptions,
): (after: number, progress: (position: number) => void) => LeafWriter {
  return (after, progress) => {
    // Requests not answered yet, in the order asked: replies come in that order.
    const waiting: { request: TreeFollowerRequest; resolve: (reply: TreeFollowerReply) => void }[] = [];
    let treeEnd = after;
    let closing = false;
    let restarts = 0;
    let delay = options.restartDelayMs ?? FIRST_RESTART_DELAY_MS;
    let restartTimer: ReturnType<typeof setTimeout> | null = null;
    let worker: Worker;
    const run = (): void => {
      const job: TreeFollowerJob = { treePath, logDirectory, start: start(treeEnd) };
      const current = startWorker('tree-follower', job);
      worker = current;
      let cause = '';
      current.on('message', (message: TreeFollowerReply | TreeFollowerProgress) => {
        // A thread that writes again earns the first delay back.
        delay = options.restartDelayMs ?? FIRST_RESTART_DELAY_MS;
        if (message.kind === 'progress') {
          treeEnd = Math.max(treeEnd, message.position);
          progress(message.position);
          return;
        }
        if (message.kind === 'written') treeEnd = Math.max(treeEnd, message.position);
        waiting.shift()?.resolve(message);
      });
      current.on('error', (error) => {
        cause = `: ${error.message}`;
      });
      current.on('exit', (code) => {
        if (closing) {
          for (const waiter of waiting.splice(0)) waiter.resolve({ kind: 'closed' });
          return;
        }
        restarts++;
        options.log(`transparency: the Merkle tree's follower thread exited (code ${code}${cause}); starting it again in ${delay} ms, from position ${treeEnd} (restart ${restarts})`);
        restartTimer = setTimeout(() => {
          restartTimer = null;
          if (closing) {
            for (const waiter of waiting.splice(0)) waiter.resolve({ kind: 'closed' });
            return;
          }
          run();
          for (const waiter of waiting) worker.postMessage(waiter.request);
        }, delay);
        delay = Math.min(delay * 2, MOST_RESTART_DELAY_MS);
      });
      options.onWorker?.(current);
    };
    run();
    const ask = (request: TreeFollowerRequest): Promise<TreeFollowerReply> =>
      new Promise((resolve) => {
        waiting.push({ request, resolve });
        // A thread being started again is given every waiting request once it runs.
        if (!restartTimer) worker.postMessage(request);
      });
    let closed: Promise<void> | null = null;
    return {
      async writeTo(position) {
        const reply = await ask({ kind: 'writeTo', position });
        if (reply.kind === 'failed') throw new Error(`The Merkle tree's follower thread: ${reply.message}`);
        if (reply.kind !== 'written') throw new Error(`The Merkle tree's follower thread answered ${reply.kind} to a write`);
        return reply.position;
      },
      close() {
        closed ??= (async () => {
          const ending = ask({ kind: 'close' });
          closing = true;
          if (restartTimer) {
            clearTimeout(restartTimer);
            restartTimer = null;
            for (const waiter of waiting.splice(0)) waiter.resolve({ kind: 'closed' });
          }
          await ending;
          await worker.terminate();
        })();
        return closed;
      },
    };
  };
}
