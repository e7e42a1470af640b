import { readModelKeys } from '@flagline/contracts';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { timeServedChanges } from './served-propagation';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const document = (revision: number, updatedAt: number) => ({ environmentId: 7, revision, updatedAt: new Date(updatedAt).toISOString(), name: 'Production' });

describe('timeServedChanges', () => {
  it('times a notified change from its event time to its read-back, and never a full load', async () => {
    const base = new InMemoryReadModelStore();
    let now = T0;
    const observed: number[] = [];
    const store = timeServedChanges(base, (seconds) => observed.push(seconds), () => now);
    const key = readModelKeys.environment(7);
    const commit = (revision: number, at: number, next: number) =>
      base.commit({ checkpoint: { key: 'cp', expected: next - 1, next }, writes: [{ key, value: document(revision, at) }], changedEnvironments: [7] });
    await commit(1, T0 - 3_600_000, 1);
    // The first load reads an hour-old document: not a propagation.
    now = T0;
    expect(await store.getMany([key])).toEqual([document(1, T0 - 3_600_000)]);
    const reads: Promise<unknown>[] = [];
    store.subscribe(() => reads.push(store.getMany([key])));
    now = T0 + 250;
    await commit(2, T0, 2);
    await Promise.all(reads);
    expect(observed).toEqual([0.25]);
    // Read again without a notification (a poll), or a notification with nothing newer: not timed again.
    await store.getMany([key]);
    expect(observed).toEqual([0.25]);
    // An environment created since the load is timed too.
    const created = readModelKeys.environment(8);
    now = T0 + 10_000;
    await base.commit({ checkpoint: { key: 'cp', expected: 2, next: 3 }, writes: [{ key: created, value: { ...document(1, T0 + 9_000), environmentId: 8 } }], changedEnvironments: [8] });
    reads.push(store.getMany([created]));
    await Promise.all(reads);
    expect(observed).toEqual([0.25, 1]);
  });
});
