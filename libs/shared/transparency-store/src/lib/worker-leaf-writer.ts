import type { LogTailStart } from '@flagline/event-store-embedded';
import type { LeafWriter } from '@flagline/transparency';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TreeFollowerJob, TreeFollowerReply, TreeFollowerRequest } from './tree-follower.worker';

const WORKER_SCRIPT = join(__dirname, `tree-follower.worker${extname(__filename)}`);
/** From the sources (tests, `node -r @swc-node/register`), the thread compiles them as this one does. */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

/**
 * The tree's leaves written by a worker thread that reads the embedded log's file (see
 * tree-follower.worker.ts): hashing the events and the tree's SQLite transactions run beside the
 * event loop, on another core when there is one, instead of on it. `start(after)` gives where
 * the log's file holds the event after which the tree ends.
 */
export function workerLeafWriter(treePath: string, logDirectory: string, start: (after: number) => LogTailStart): (after: number) => LeafWriter {
  return (after) => {
    const job: TreeFollowerJob = { treePath, logDirectory, start: start(after) };
    const worker = new Worker(WORKER_SCRIPT, { ...WORKER_OPTIONS, workerData: job });
    // Replies come in the order of the requests.
    const waiting: { resolve: (reply: TreeFollowerReply) => void; reject: (error: Error) => void }[] = [];
    let failure: Error | null = null;
    const fail = (error: Error): void => {
      failure ??= error;
      for (const waiter of waiting.splice(0)) waiter.reject(error);
    };
    worker.on('message', (reply: TreeFollowerReply) => waiting.shift()?.resolve(reply));
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The Merkle tree's follower thread exited (code ${code})`)));
    const ask = (request: TreeFollowerRequest): Promise<TreeFollowerReply> =>
      failure
        ? Promise.reject(failure)
        : new Promise((resolve, reject) => {
            waiting.push({ resolve, reject });
            worker.postMessage(request);
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
        closed ??= ask({ kind: 'close' }).then(
          () => undefined,
          () => undefined,
        );
        return closed.finally(() => worker.terminate().then(() => undefined));
      },
    };
  };
}
