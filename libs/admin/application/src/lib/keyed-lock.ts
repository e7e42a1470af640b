/**
 * Runs tasks one at a time per key: a task holding several keys waits for every earlier task
 * on any of them. Keys are taken in sorted order, so two tasks cannot wait on each other.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) {
        const previous = this.tails.get(key) ?? Promise.resolve();
        let release!: () => void;
        const current = new Promise<void>((resolve) => (release = resolve));
        const tail = previous.then(() => current);
        this.tails.set(key, tail);
        releases.push(() => {
          release();
          // Forget the key once nobody queued behind this task.
          if (this.tails.get(key) === tail) this.tails.delete(key);
        });
        await previous;
      }
      return await task();
    } finally {
      for (const release of releases) release();
    }
  }
}
