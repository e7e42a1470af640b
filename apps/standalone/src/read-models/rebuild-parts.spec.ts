import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestApp, tempDataDir } from '../testing/http-harness';
import { appendIdentities, seedEnvironment } from '../testing/identity-log';
import { compareFiles, compareInWorkers, rebuildParts, standaloneParts, threadCpuSeconds, type RebuildProgress } from '../rebuild-parts';

jest.setTimeout(120_000);

const adminKey = 'flk_rebuild_parts_spec_0123456789';

describe('rebuildParts (a worker thread per part)', () => {
  let dataDir: string;
  let scratch: string;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-rebuild-parts-');
    scratch = await tempDataDir('flagline-rebuild-parts-fresh-');
    const environment = await seedEnvironment(dataDir, adminKey);
    await appendIdentities(dataDir, environment, 1_500);
    // The app projects the appended identities into its live files, which the rebuild must equal.
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    await app.stop();
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('rebuilds every part from the whole log, reporting positions that only grow up to the head, into files equal to the live ones', async () => {
    const progress: RebuildProgress[] = [];
    let head = -1;
    const rebuilt = await rebuildParts(
      {
        dataDir,
        parts: standaloneParts(),
        batchEvents: 250,
        freshPath: (part) => join(scratch, part.fileName),
        onStart: (at) => (head = at),
        onProgress: (at) => progress.push(at),
      },
      (result) => result,
    );
    expect(head).toBeGreaterThan(1_500);
    expect(rebuilt.events).toBe(head);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.map(({ position }) => position)).toEqual([...progress.map(({ position }) => position)].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toEqual({ position: head, head });
    for (const { livePath, freshPath } of rebuilt.parts) expect(compareFiles(livePath, freshPath)).toBeNull();
    // The same answer from the worker threads --verify compares in.
    expect(await compareInWorkers(rebuilt.parts)).toEqual([null, null]);
    // Each thread's CPU (Linux), each a part of the process's: the main thread's and every part worker's, each of which did work.
    if (process.platform === 'linux') {
      const threads = [rebuilt.mainCpuSeconds, ...rebuilt.parts.map(({ cpuSeconds }) => cpuSeconds)];
      for (const used of threads) expect(used).toBeGreaterThan(0);
      const all = process.cpuUsage();
      expect(threads.reduce((sum: number, used) => sum + (used ?? 0), 0)).toBeLessThanOrEqual((all.user + all.system) / 1e6 + 0.05);
    } else console.log('rebuild-parts spec: per-thread CPU is read from /proc on Linux only; not checked on', process.platform);
  });

  it('reads the CPU time of the calling thread, which grows with work done on it and not with work on another', async () => {
    if (process.platform !== 'linux') {
      console.log('threadCpuSeconds spec skipped: /proc/thread-self is Linux only');
      return;
    }
    const before = threadCpuSeconds() as number;
    let spin = 0;
    for (const end = Date.now() + 200; Date.now() < end; ) spin++;
    const after = threadCpuSeconds() as number;
    expect(spin).toBeGreaterThan(0);
    expect(after - before).toBeGreaterThan(0.1);
    // A worker spinning as long leaves this thread's time where it was, give or take a little.
    const { Worker } = await import('node:worker_threads');
    const quiet = threadCpuSeconds() as number;
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker('for (const end = Date.now() + 300; Date.now() < end; );', { eval: true });
      worker.once('error', reject);
      worker.once('exit', () => resolve());
    });
    expect((threadCpuSeconds() as number) - quiet).toBeLessThan(0.15);
  });

  it('fails with the error of a part that fails, without calling whileLocked, and lets go of the data directory', async () => {
    let called = false;
    const failing = rebuildParts(
      {
        dataDir,
        parts: standaloneParts(),
        // The catalog's fresh file cannot be made: its directory does not exist.
        freshPath: (part) => (part.key === 'catalog' ? join(scratch, 'missing', 'catalog.sqlite') : join(scratch, `again-${part.fileName}`)),
      },
      () => {
        called = true;
      },
    );
    await expect(failing).rejects.toThrow(/directory does not exist|unable to open database/);
    expect(called).toBe(false);
    expect(existsSync(join(scratch, 'missing'))).toBe(false);
    // The lock was released: the app starts on the directory.
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    await app.stop();
  });
});
