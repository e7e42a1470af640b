import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import type { NewEvent } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { TRANSPARENCY_FILE_NAME } from './sqlite-tree.store';
import { startTransparency } from './start-transparency';
import { LOW_PRIORITY_CHECK_FROM, workerLogChecker } from './worker-log-checker';
import type { LoweredPriority } from './worker-thread';

const metadata = { actor: { kind: 'system' as const, id: 'worker-check-spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'spec' };
const newEvent = (n: number): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: { n, text: `event ${n}` }, metadata });

async function appendMany(log: EmbeddedEventStore, from: number, count: number): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    await Promise.all(Array.from({ length: Math.min(500, count - done) }, (_, k) => log.appendToStream(`many-${from + done + k}`, [newEvent(from + done + k)])));
  }
}

/** A log's start in its file and its head, read with the log open. */
async function logAt(directory: string): Promise<{ start: (after: number) => ReturnType<EmbeddedEventStore['tailStart']>; head: number }> {
  const log = await EmbeddedEventStore.open({ directory });
  const head = await log.headPosition();
  const first = log.tailStart(0);
  await log.close();
  return { start: () => first, head };
}

describe('the start-up check of the embedded log against its tree, on a worker thread', () => {
  let dataDir: string;
  const logDirectory = (): string => join(dataDir, 'events');
  const treePath = (): string => join(dataDir, TRANSPARENCY_FILE_NAME);
  /** The log's first 5,000 events as they were, before 5,000 more were appended. */
  let earlier: string;
  const SIZE = 10_000;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flagline-worker-check-'));
    earlier = mkdtempSync(join(tmpdir(), 'flagline-worker-check-earlier-'));
    let log = await EmbeddedEventStore.open({ directory: logDirectory() });
    await appendMany(log, 0, SIZE / 2);
    await log.close();
    cpSync(logDirectory(), earlier, { recursive: true });
    log = await EmbeddedEventStore.open({ directory: logDirectory() });
    await appendMany(log, SIZE / 2, SIZE / 2);
    // The tree over all of it, written by the follower's thread.
    const { transparency, close } = startTransparency(log, { dataDir, log: () => undefined, embeddedLog: { directory: logDirectory(), tailStart: (after) => log.tailStart(after) } });
    await transparency.start();
    await transparency.progress.waitFor(await log.headPosition(), 20_000);
    expect(transparency.size).toBe(SIZE);
    await close();
    await log.close();
  }, 60_000);
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(earlier, { recursive: true, force: true });
  });

  it('finds every leaf matching its event, telling how many matched page by page', async () => {
    const { start, head } = await logAt(logDirectory());
    const checked: number[] = [];
    expect(await workerLogChecker(treePath(), logDirectory(), start).check(SIZE, head, (count) => checked.push(count))).toBeNull();
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(checked).toEqual([...checked].sort((a, b) => a - b));
    expect(checked[checked.length - 1]).toBe(SIZE);
  });

  it('runs a long check at the lowest priority and a short one at the process’s own', async () => {
    const { start, head } = await logAt(logDirectory());
    const check = async (lowPriorityFrom?: number): Promise<LoweredPriority[]> => {
      const priorities: LoweredPriority[] = [];
      const checker = workerLogChecker(treePath(), logDirectory(), start, { ...(lowPriorityFrom !== undefined ? { lowPriorityFrom } : {}), onPriority: (lowered) => priorities.push(lowered) });
      expect(await checker.check(SIZE, head, () => undefined)).toBeNull();
      return priorities;
    };
    // This log's 10,000 leaves are a short check.
    expect(SIZE).toBeLessThan(LOW_PRIORITY_CHECK_FROM);
    expect(await check()).toEqual([null]);
    const long = await check(SIZE);
    expect(long).toHaveLength(1);
    if (process.platform === 'linux') expect(long[0]).toEqual({ threadId: expect.any(Number), policy: expect.stringMatching(/^(idle|nice)$/) });
    else expect(long).toEqual([null]);
  });

  it('names the first leaf past the end of a log that was cut short', async () => {
    const { start, head } = await logAt(earlier);
    expect(head).toBe(SIZE / 2);
    const mismatch = await workerLogChecker(treePath(), earlier, start).check(SIZE, head, () => undefined);
    expect(mismatch).toMatchObject({ kind: 'missing', leafIndex: SIZE / 2, position: SIZE / 2 + 1 });
    expect(mismatch?.message).toMatch(/the log ends before it/);
  });

  it('names the first leaf whose place holds another event', async () => {
    const other = mkdtempSync(join(tmpdir(), 'flagline-worker-check-other-'));
    try {
      const log = await EmbeddedEventStore.open({ directory: other });
      await appendMany(log, 0, 10);
      await log.close();
      const { start, head } = await logAt(other);
      const mismatch = await workerLogChecker(treePath(), other, start).check(SIZE, head, () => undefined);
      expect(mismatch).toMatchObject({ kind: 'replaced', leafIndex: 0, position: 1 });
      expect(mismatch?.foundEventId).toEqual(expect.any(String));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('fails when its thread ends before the outcome, and resolves with nothing once stopped', async () => {
    const { start, head } = await logAt(logDirectory());
    const workers: Worker[] = [];
    const dying = workerLogChecker(treePath(), logDirectory(), start, { onWorker: (worker) => workers.push(worker) });
    const failed = dying.check(SIZE, head, () => undefined);
    await (workers[0] as Worker).terminate();
    await expect(failed).rejects.toThrow(/the check's thread ended \(code \d+\) before its outcome/);

    const stopping = workerLogChecker(treePath(), logDirectory(), start);
    const stopped = stopping.check(SIZE, head, () => undefined);
    await stopping.stop();
    expect(await stopped).toBeNull();
    // A check asked after the stop starts no thread.
    expect(await stopping.check(SIZE, head, () => undefined)).toBeNull();
  });

  it('is how the tree over an embedded log is checked at start: done, every leaf counted, no mismatch', async () => {
    const log = await EmbeddedEventStore.open({ directory: logDirectory() });
    const { transparency, close } = startTransparency(log, { dataDir, log: () => undefined, embeddedLog: { directory: logDirectory(), tailStart: (after) => log.tailStart(after) } });
    await transparency.start();
    expect(transparency.check).toEqual({ done: true, checked: SIZE, of: SIZE });
    expect(transparency.mismatch).toBeNull();
    expect((await transparency.treeHead()).treeSize).toBe(SIZE);
    await close();
    await log.close();
  });
});
