import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const LOCK_FILE_NAME = 'LOCK';

/** Lock files this process holds, so a second open in the same process fails too. */
const heldLocks = new Set<string>();

/** Another live process (or this one) already has the directory open. */
export class DirectoryLockedError extends Error {
  override readonly name = 'DirectoryLockedError';
  constructor(
    readonly directory: string,
    readonly ownerPid: number,
  ) {
    super(
      `Event store directory ${directory} is locked by process ${ownerPid}${ownerPid === process.pid ? ' (this process)' : ''}. ` +
        `Only one process may open it; if no such process uses it, remove ${join(directory, LOCK_FILE_NAME)}.`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP']);

/** Creates the lock with its content complete before it becomes visible under its name. */
async function tryCreate(path: string): Promise<boolean> {
  const content = `${process.pid}\n`;
  const draft = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(draft, content, { flag: 'wx' });
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(code)) throw error;
  } finally {
    await unlink(draft);
  }
  // Without hard links the file is briefly empty; an empty lock reads as stale, a small risk on such file systems.
  try {
    await writeFile(path, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Single-writer guard for a store directory: a `LOCK` file holding the owner's pid. A lock
 * whose process is gone (a crash, `kill -9`) is taken over. Two processes taking over the same
 * stale lock at the same instant could both succeed; starting one store per directory at a
 * time avoids that window.
 */
export class DirectoryLock {
  private constructor(
    readonly directory: string,
    private readonly path: string,
  ) {}

  static async acquire(directory: string): Promise<DirectoryLock> {
    const path = resolve(directory, LOCK_FILE_NAME);
    if (heldLocks.has(path)) throw new DirectoryLockedError(directory, process.pid);
    heldLocks.add(path);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await tryCreate(path)) return new DirectoryLock(directory, path);
        const owner = await readOwner(path);
        if (owner === null) continue;
        // Our own pid in a lock we do not hold is a previous run that had the same pid (a container's pid 1).
        if (owner !== 0 && owner !== process.pid && isAlive(owner)) throw new DirectoryLockedError(directory, owner);
        await unlink(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      throw new Error(`Could not take the lock ${path}: it keeps reappearing`);
    } catch (error) {
      heldLocks.delete(path);
      throw error;
    }
  }

  async release(): Promise<void> {
    if (!heldLocks.has(this.path)) return;
    heldLocks.delete(this.path);
    // A lock file already gone (its directory removed) is released all the same.
    const owner = await readOwner(this.path).catch(() => null);
    if (owner === process.pid)
      await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
  }
}
