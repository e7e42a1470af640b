import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aTempDirectory } from '../testing/temp-directory';
import { CheckpointFormatError, FileCheckpointStore } from './file-checkpoint.store';

describe('FileCheckpointStore', () => {
  let directory: { path: string; remove(): Promise<void> };
  let checkpoints: FileCheckpointStore;

  beforeEach(async () => {
    directory = await aTempDirectory();
    checkpoints = await FileCheckpointStore.open({ directory: join(directory.path, 'checkpoints') });
  });
  afterEach(() => directory.remove());

  it('loads 0 for a consumer that never saved', async () => {
    expect(await checkpoints.load('flag-projector')).toBe(0);
  });

  it('loads the last saved position, also from a new instance', async () => {
    await checkpoints.save('flag-projector', 41);
    await checkpoints.save('flag-projector', 42);
    await checkpoints.save('audit-relay', 7);
    const reopened = await FileCheckpointStore.open({ directory: join(directory.path, 'checkpoints') });
    expect(await reopened.load('flag-projector')).toBe(42);
    expect(await reopened.load('audit-relay')).toBe(7);
  });

  it('lands saves of one name in call order', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, n) => checkpoints.save('flag-projector', n + 1)));
    expect(await checkpoints.load('flag-projector')).toBe(50);
  });

  it('leaves only the checkpoint file behind', async () => {
    await checkpoints.save('flag-projector', 3);
    expect(await readdir(join(directory.path, 'checkpoints'))).toEqual(['flag-projector.checkpoint']);
  });

  it('ignores the draft of a save that crashed before its rename', async () => {
    await checkpoints.save('flag-projector', 3);
    await writeFile(join(directory.path, 'checkpoints', 'flag-projector.checkpoint.tmp'), '9');
    expect(await checkpoints.load('flag-projector')).toBe(3);
    await checkpoints.save('flag-projector', 4);
    expect(await checkpoints.load('flag-projector')).toBe(4);
  });

  it('refuses names that could leave the directory and positions that are not positions', async () => {
    await expect(checkpoints.save('../escape', 1)).rejects.toBeInstanceOf(RangeError);
    await expect(checkpoints.save('', 1)).rejects.toBeInstanceOf(RangeError);
    await expect(checkpoints.load('a/b')).rejects.toBeInstanceOf(RangeError);
    await expect(checkpoints.save('flag-projector', -1)).rejects.toBeInstanceOf(RangeError);
    await expect(checkpoints.save('flag-projector', 1.5)).rejects.toBeInstanceOf(RangeError);
  });

  it('reports a checkpoint file that does not hold a position', async () => {
    await writeFile(join(directory.path, 'checkpoints', 'flag-projector.checkpoint'), 'garbage');
    await expect(checkpoints.load('flag-projector')).rejects.toBeInstanceOf(CheckpointFormatError);
  });
});
