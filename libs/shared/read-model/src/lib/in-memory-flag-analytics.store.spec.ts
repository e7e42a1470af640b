import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryFlagAnalyticsStore } from './in-memory-flag-analytics.store';

describe('InMemoryFlagAnalyticsStore', () => {
  it('adds counts per environment, day and feature and reads a day range', async () => {
    const store = InMemoryFlagAnalyticsStore.inMemory();
    await store.record(1, '2026-11-20', { a: 2, b: 1 });
    await store.record(1, '2026-11-20', { a: 3 });
    await store.record(1, '2026-11-21', { b: 4 });
    await store.record(2, '2026-11-21', { a: 9 });
    expect(await store.read(1, '2026-11-20', '2026-11-21')).toEqual([
      { day: '2026-11-20', counts: { a: 5, b: 1 } },
      { day: '2026-11-21', counts: { b: 4 } },
    ]);
    expect(await store.read(1, '2026-11-21', '2026-11-21')).toEqual([{ day: '2026-11-21', counts: { b: 4 } }]);
  });

  it('keeps counts across a restart when persisted to a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'analytics-'));
    try {
      const file = join(dir, 'analytics.json');
      const first = await InMemoryFlagAnalyticsStore.persistedTo(file);
      await first.record(7, '2026-11-21', { checkout: 12 });
      await first.close();
      const second = await InMemoryFlagAnalyticsStore.persistedTo(file);
      await second.record(7, '2026-11-21', { checkout: 1 });
      expect(await second.read(7, '2026-01-01', '2026-12-31')).toEqual([{ day: '2026-11-21', counts: { checkout: 13 } }]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
