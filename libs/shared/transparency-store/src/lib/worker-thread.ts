import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** From the sources (tests, `node -r @swc-node/register`), a thread compiles them as this one does. */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

/** Starts `<name>.worker` of this library (compiled beside this file, or its sources) with `workerData`. */
export function startWorker(name: string, workerData: unknown): Worker {
  return new Worker(join(__dirname, `${name}.worker${extname(__filename)}`), { ...WORKER_OPTIONS, workerData });
}
