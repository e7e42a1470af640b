import type { RecordedEvent } from '@flagline/event-sourcing';
import { LogTail, type LogTailStart } from '@flagline/event-store-embedded';
import { compareLeaf, type LogMismatch } from '@flagline/transparency';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTreeStore } from './sqlite-tree.store';
import { lowerThisThreadPriority, type LoweredPriority } from './worker-thread';

/** What the thread is given: the tree's file and how many of its leaves to check, the log's directory, where it starts and its last position. */
export interface TreeCheckJob {
  readonly treePath: string;
  readonly treeSize: number;
  readonly logDirectory: string;
  readonly start: LogTailStart;
  readonly logHead: number;
  /** From how many leaves the thread runs at the lowest priority (`lowerThisThreadPriority`). */
  readonly lowPriorityFrom: number;
}

/** Sent by the thread: its priority, first; leaves that matched so far, after each page; then the outcome, once. */
export type TreeCheckMessage =
  | { readonly kind: 'priority'; readonly lowered: LoweredPriority }
  | { readonly kind: 'progress'; readonly checked: number }
  | { readonly kind: 'done'; readonly mismatch: LogMismatch | null };

/** Leaves read from the tree, and events read from the log, at a time. */
const PAGE = 4_096;

/**
 * The start-up check's thread: reads the tree's leaves from its own connection to the tree's
 * file and the log's events from the file (`LogTail`), and compares them in order as
 * `TransparencyLog` does on the main thread (`compareLeaf`), stopping at the first mismatch.
 * The tree does not grow while it runs: the follower starts once the check is done.
 * A long check runs at the lowest priority (from `lowPriorityFrom` leaves): over a long log it
 * reads and hashes for tens of seconds, and at normal priority it took a pinned server's core from
 * the requests it serves (a stored identify cost 110 µs of CPU instead of 43 for the first 25 s
 * after a start at 1,000,000 identities). A short one (a second or less) keeps the process's
 * priority, so that it is not held up behind other work of the host.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('tree-check.worker runs as a worker thread');
  const job = workerData as TreeCheckJob;
  port.postMessage({ kind: 'priority', lowered: job.treeSize >= job.lowPriorityFrom ? lowerThisThreadPriority() : null } satisfies TreeCheckMessage);
  const tree = SqliteTreeStore.open(job.treePath);
  try {
    const tail = await LogTail.open(job.logDirectory, job.start);
    try {
      port.postMessage({ kind: 'done', mismatch: await compare(tree, tail, job, (checked) => port.postMessage({ kind: 'progress', checked } satisfies TreeCheckMessage)) } satisfies TreeCheckMessage);
    } finally {
      await tail.close();
    }
  } finally {
    tree.close();
  }
}

async function compare(tree: SqliteTreeStore, tail: LogTail, job: TreeCheckJob, progress: (checked: number) => void): Promise<LogMismatch | null> {
  let events: RecordedEvent[] = [];
  let next = 0;
  for (let index = 0; index < job.treeSize; ) {
    const leaves = tree.leaves(index, Math.min(PAGE, job.treeSize - index));
    for (const leaf of leaves) {
      // Past the log's last event, the leaf is compared with nothing: the log ends before it.
      if (next === events.length && tail.lastPosition < job.logHead) {
        events = await tail.readTo(Math.min(job.logHead, tail.lastPosition + PAGE));
        next = 0;
      }
      const mismatch = compareLeaf(leaf, events[next++]);
      if (mismatch) return mismatch;
    }
    index += leaves.length;
    progress(index);
  }
  return null;
}

main().catch((error: unknown) => {
  // Reported to the main thread as the worker's 'error' event.
  throw error;
});
