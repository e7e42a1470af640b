import { parentPort, workerData } from 'node:worker_threads';
import { compareFiles, PartRebuild, threadCpuSeconds, type CompareJob, type FeedMessage, type PartJob, type PartMessage } from './rebuild-parts';

/**
 * A worker thread of `npm run rebuild`: rebuilds the one part it is given from the lots the main
 * thread feeds it (see `rebuildParts`), or compares a live file with its rebuild (`compareInWorkers`).
 */
const post = (message: PartMessage): void => parentPort?.postMessage(message);

const job = workerData as PartJob | CompareJob;

if ('livePath' in job) {
  // A comparison of --verify: the first difference (or null), then the thread ends.
  parentPort?.postMessage(compareFiles(job.livePath, job.freshPath));
} else rebuildFromFeed(job);

function rebuildFromFeed(job: PartJob): void {
  const rebuild = new PartRebuild(job, (position) => post({ kind: 'progress', position }));
  // Lots are applied one after another, in the order they came.
  let applying: Promise<void> = Promise.resolve();

  parentPort?.on('message', (message: FeedMessage) => {
    applying = applying.then(async () => {
      if (message.kind === 'batch') {
        await rebuild.apply(message);
        post({ kind: 'applied' });
      } else {
        const events = await rebuild.finish();
        post({ kind: 'done', events, cpuSeconds: threadCpuSeconds() });
        parentPort?.close();
      }
    });
    applying.catch((error: unknown) => {
      // Thrown out of the thread: the main thread receives it as the worker's 'error'.
      setImmediate(() => {
        throw error;
      });
    });
  });
}
