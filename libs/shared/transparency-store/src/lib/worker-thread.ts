import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { basename, extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** From the sources (tests, `node -r @swc-node/register`), a thread compiles them as this one does. */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

/** Starts `<name>.worker` of this library (compiled beside this file, or its sources) with `workerData`. */
export function startWorker(name: string, workerData: unknown): Worker {
  return new Worker(join(__dirname, `${name}.worker${extname(__filename)}`), { ...WORKER_OPTIONS, workerData });
}

/** How a thread was lowered: Linux's idle policy (SCHED_IDLE), nice 19 alone where `chrt` is missing, or not at all. */
export type LoweredPriority = { readonly threadId: number; readonly policy: 'idle' | 'nice' } | null;

/**
 * Runs the calling thread at the lowest scheduling priority, the process's other threads left as
 * they are, so background work takes only the CPU time that serving leaves, even in a process
 * pinned to one core. Linux gives each thread its own nice value and policy, set through the
 * thread's id (`/proc/thread-self` links to `<pid>/task/<tid>`). Nice 19 alone still delays a
 * waking request thread by up to a time slice; under the idle policy the scheduler preempts the
 * thread at once. Node has no call for a policy, so util-linux's `chrt` sets it (the thread waits
 * for it, the event loop does not); without `chrt` the thread stays at nice 19. Returns how the
 * thread was lowered, or null where it could not be (another system, no /proc, a sandbox that
 * refuses the call): never throws, so background work runs at the process's priority rather than
 * not at all. `threadSelf` is where Linux links the calling thread's id (another path in specs).
 */
export function lowerThisThreadPriority(threadSelf = '/proc/thread-self'): LoweredPriority {
  if (process.platform !== 'linux') return null;
  let threadId: number;
  try {
    threadId = Number(basename(readlinkSync(threadSelf)));
    setPriority(threadId, constants.priority.PRIORITY_LOW);
  } catch {
    return null;
  }
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(threadId)], { stdio: 'ignore', timeout: 5_000 });
    return { threadId, policy: 'idle' };
  } catch {
    return { threadId, policy: 'nice' };
  }
}
