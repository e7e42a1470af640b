import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from './directory-sync';

const CHECKPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
}

/**
 * Durable positions of log consumers (projectors, relays), one small file per consumer name.
 * A save replaces the file atomically, so a crash leaves either the old or the new position.
 */
export class FileCheckpointStore {
  /** Saves per name, chained so an older position never lands after a newer one. */
  private readonly saving = new Map<string, Promise<void>>();

  private constructor(private readonly directory: string) {}

  static async open(options: { readonly directory: string }): Promise<FileCheckpointStore> {
    await mkdir(options.directory, { recursive: true });
    return new FileCheckpointStore(options.directory);
  }

  /** The saved position, or 0 when the consumer never saved one. */
  async load(name: string): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.pathOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const position = Number(text.trim());
    if (text.trim() === '' || !Number.isSafeInteger(position) || position < 0) {
      throw new CheckpointFormatError(`Checkpoint ${name} holds ${JSON.stringify(text)}, not a position`);
    }
    return position;
  }

  save(name: string, position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      return Promise.reject(new RangeError(`Checkpoint position must be a non-negative integer, got ${position}`));
    }
    let path: string;
    try {
      path = this.pathOf(name);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const previous = this.saving.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.replace(path, `${position}\n`));
    this.saving.set(name, next);
    const forget = (): void => {
      if (this.saving.get(name) === next) this.saving.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  private async replace(path: string, content: string): Promise<void> {
    // Written and synced under a temporary name first: the rename then swaps in complete
    // content, and syncing the directory makes the swap itself survive a crash.
    const draft = `${path}.tmp`;
    const handle = await open(draft, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(draft, path);
    await syncDirectory(this.directory);
  }

  private pathOf(name: string): string {
    if (!CHECKPOINT_NAME.test(name)) throw new RangeError(`Checkpoint name ${JSON.stringify(name)} must match ${String(CHECKPOINT_NAME)}`);
    return join(this.directory, `${name}.checkpoint`);
  }
}
