import { parentPort, workerData } from 'node:worker_threads';
import { rebuildPartFromLog, type PartJob, type PartMessage } from './rebuild-parts';

/** A worker thread of `npm run rebuild`: rebuilds the one part it is given (see `rebuildParts`). */
const post = (message: PartMessage): void => parentPort?.postMessage(message);

rebuildPartFromLog(workerData as PartJob, (position) => post({ kind: 'progress', position })).then(
  (events) => post({ kind: 'done', events }),
  (error: unknown) => {
    // Thrown out of the thread: the main thread receives it as the worker's 'error'.
    setImmediate(() => {
      throw error;
    });
  },
);
