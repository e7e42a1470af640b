import type { RecordedEvent } from '@flagline/event-sourcing';
import { LogTail, type LogTailStart } from '@flagline/event-store-embedded';
import { eventLeafHash, nodesForAppend, type TreeLeaf } from '@flagline/transparency';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTreeStore } from './sqlite-tree.store';

/** What the thread is given: the tree's file, the log's directory, and where to start reading it. */
export interface TreeFollowerJob {
  readonly treePath: string;
  readonly logDirectory: string;
  readonly start: LogTailStart;
}

/** Asked of the thread: the leaves up to a position, or to close. */
export type TreeFollowerRequest = { readonly kind: 'writeTo'; readonly position: number } | { readonly kind: 'close' };

/** Answered by the thread, in the order asked. */
export type TreeFollowerReply = { readonly kind: 'written'; readonly position: number } | { readonly kind: 'failed'; readonly message: string } | { readonly kind: 'closed' };

/** Sent by the thread after each transaction of a write, before the write's reply: the position of the tree's last leaf, committed. */
export interface TreeFollowerProgress {
  readonly kind: 'progress';
  readonly position: number;
}

/** Leaves per SQLite transaction: a write of many leaves after a pause is split so no transaction grows without bound. */
const LEAVES_PER_APPEND = 2_000;

/**
 * The tree follower's thread: reads the log file from where the tree ends (`LogTail`), hashes
 * each event as stored and appends the leaves with the nodes they complete to its own connection
 * to the tree's file, in transactions of up to `LEAVES_PER_APPEND` leaves, each reported as
 * progress once committed (a long catch-up moves the tree the main thread knows slice by slice).
 * The main thread's connection reads the tree for heads and proofs; this one is the only writer of
 * leaves. Events the tree already holds are skipped: a thread started again after one that died
 * may be given a start from before its predecessor's last committed slice.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('tree-follower.worker runs as a worker thread');
  const job = workerData as TreeFollowerJob;
  const tree = SqliteTreeStore.open(job.treePath);
  const tail = await LogTail.open(job.logDirectory, job.start);
  const reply = (message: TreeFollowerReply | TreeFollowerProgress): void => port.postMessage(message);
  // The position of the tree's last leaf: events at or before it are leaves already.
  let treeEnd = tree.leaf(tree.size - 1)?.position ?? 0;
  // Events read but not yet leaves (a write that failed half-way): the next write starts with them.
  let unwritten: RecordedEvent[] = [];
  // Requests are handled one after another, in order.
  let queue = Promise.resolve();
  port.on('message', (request: TreeFollowerRequest) => {
    queue = queue.then(async () => {
      if (request.kind === 'close') {
        await tail.close();
        tree.close();
        reply({ kind: 'closed' });
        port.close();
        return;
      }
      try {
        // A tree far behind (a start after the follower had stopped) is caught up a slice at a time.
        while (unwritten.length > 0 || tail.lastPosition < request.position) {
          if (unwritten.length === 0) unwritten = (await tail.readTo(Math.min(request.position, tail.lastPosition + LEAVES_PER_APPEND))).filter((event) => event.globalPosition > treeEnd);
          if (unwritten.length === 0) continue;
          const size = tree.size;
          const leaves: TreeLeaf[] = unwritten.slice(0, LEAVES_PER_APPEND).map((event, offset) => ({ index: size + offset, position: event.globalPosition, eventId: event.id, hash: eventLeafHash(event) }));
          tree.append(
            leaves,
            nodesForAppend(
              tree,
              size,
              leaves.map((leaf) => leaf.hash),
            ),
          );
          unwritten = unwritten.slice(leaves.length);
          treeEnd = (leaves[leaves.length - 1] as TreeLeaf).position;
          reply({ kind: 'progress', position: treeEnd });
        }
        reply({ kind: 'written', position: Math.max(treeEnd, tail.lastPosition) });
      } catch (error) {
        reply({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
    });
  });
}

main().catch((error: unknown) => {
  // Reported to the main thread as the worker's 'error' event.
  throw error;
});
