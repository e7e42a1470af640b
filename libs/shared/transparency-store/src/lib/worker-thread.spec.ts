import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lowerThisThreadPriority, type LoweredPriority } from './worker-thread';

/** A thread that lowers its own priority, reports how, and stays until told to end. */
const LOWERING_THREAD = `
require('@swc-node/register');
const { parentPort } = require('node:worker_threads');
const { lowerThisThreadPriority } = require(${JSON.stringify(join(__dirname, 'worker-thread.ts'))});
parentPort.postMessage(lowerThisThreadPriority());
parentPort.once('message', () => parentPort.close());
`;

/** A thread's scheduling policy, from the 41st field of /proc/<pid>/task/<tid>/stat (5 is SCHED_IDLE). */
const policyOf = (threadId: number): number => Number(readFileSync(`/proc/${process.pid}/task/${threadId}/stat`, 'latin1').split(') ')[1]?.split(' ')[38]);

const hasChrt = (): boolean => {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('lowerThisThreadPriority', () => {
  it('changes nothing and throws nothing where the thread’s id cannot be read', () => {
    const before = getPriority();
    expect(lowerThisThreadPriority(join(__dirname, 'no-such-link'))).toBeNull();
    expect(getPriority()).toBe(before);
  });

  it('runs the calling thread at nice 19 under the idle policy and leaves the process’s other threads as they were', async () => {
    if (process.platform !== 'linux') {
      console.log('lowerThisThreadPriority spec skipped: threads have a priority of their own on Linux only');
      return;
    }
    const before = { nice: getPriority(), policy: policyOf(process.pid) };
    const worker = new Worker(LOWERING_THREAD, { eval: true });
    try {
      const lowered = await new Promise<LoweredPriority>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      if (lowered === null) throw new Error('a Linux thread was not lowered');
      expect(lowered.threadId).not.toBe(process.pid);
      expect(getPriority(lowered.threadId)).toBe(19);
      if (hasChrt()) {
        expect(lowered.policy).toBe('idle');
        expect(policyOf(lowered.threadId)).toBe(5);
      } else {
        console.log('lowerThisThreadPriority spec: chrt (util-linux) is missing here, so only nice 19 is checked');
        expect(lowered.policy).toBe('nice');
      }
      expect({ nice: getPriority(), policy: policyOf(process.pid) }).toEqual(before);
    } finally {
      worker.postMessage('end');
      await worker.terminate();
    }
  });
});
