import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestApp, tempDataDir } from '../testing/http-harness';
import { appendIdentities, seedEnvironment } from '../testing/identity-log';
import { compareFiles, compareInWorkers, rebuildParts, standaloneParts, type RebuildProgress } from '../rebuild-parts';

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
