import type { FlagAnalyticsStore } from '@flagline/contracts';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

type Days = Map<string, Map<string, number>>;

/**
 * Flag evaluation counts in memory, optionally kept in a JSON file: flushed every second while
 * counts change and on close, replaced atomically (temp file, fsync, rename). At most the last
 * second of counts is lost on a hard crash, which analytics tolerate.
 */
export class InMemoryFlagAnalyticsStore implements FlagAnalyticsStore {
  private readonly byEnvironment = new Map<number, Days>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | null) {}

  static inMemory(): InMemoryFlagAnalyticsStore {
    return new InMemoryFlagAnalyticsStore(null);
  }

  static async persistedTo(file: string): Promise<InMemoryFlagAnalyticsStore> {
    const store = new InMemoryFlagAnalyticsStore(file);
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, Record<string, number>>>;
      for (const [environmentId, days] of Object.entries(saved)) {
        const map: Days = new Map();
        for (const [day, counts] of Object.entries(days)) map.set(day, new Map(Object.entries(counts)));
        store.byEnvironment.set(Number(environmentId), map);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    store.timer = setInterval(() => void store.flush(), 1000);
    store.timer.unref();
    return store;
  }

  record(environmentId: number, day: string, counts: Readonly<Record<string, number>>): Promise<void> {
    const days = this.byEnvironment.get(environmentId) ?? new Map<string, Map<string, number>>();
    const perFeature = days.get(day) ?? new Map<string, number>();
    for (const [feature, count] of Object.entries(counts)) perFeature.set(feature, (perFeature.get(feature) ?? 0) + count);
    days.set(day, perFeature);
    this.byEnvironment.set(environmentId, days);
    this.dirty = true;
    return Promise.resolve();
  }

  read(environmentId: number, fromDay: string, toDay: string): Promise<{ day: string; counts: Record<string, number> }[]> {
    const days = this.byEnvironment.get(environmentId) ?? new Map<string, Map<string, number>>();
    return Promise.resolve(
      [...days.entries()]
        .filter(([day]) => day >= fromDay && day <= toDay)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, counts]) => ({ day, counts: Object.fromEntries(counts) })),
    );
  }

  /** Writes the counts to the file if they changed since the last flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.file || !this.dirty) return;
      this.dirty = false;
      const snapshot: Record<string, Record<string, Record<string, number>>> = {};
      for (const [environmentId, days] of this.byEnvironment) {
        snapshot[environmentId] = Object.fromEntries([...days].map(([day, counts]) => [day, Object.fromEntries(counts)]));
      }
      await mkdir(dirname(this.file), { recursive: true });
      const temp = `${this.file}.tmp`;
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(JSON.stringify(snapshot));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
