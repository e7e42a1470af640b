import { indexKeyOf } from '@flagline/event-sourcing';
import { join } from 'node:path';
import { aTempDirectory } from '../testing/temp-directory';
import { LogIndexStore, type IndexedFrame } from './log-index.store';
import { StreamKeyFilter } from './stream-key-filter';

const HEADER_BYTES = 8;

/** One frame per stream, each starting the stream: `count` streams named `${prefix}-<n>`. */
function framesStarting(prefix: string, count: number, firstPosition: number, firstOffset: number): IndexedFrame[] {
  return Array.from({ length: count }, (_, n) => ({
    offset: firstOffset + n * 100,
    bytes: 100,
    checksum: n,
    events: [{ id: `${prefix}-event-${n}`, streamName: `${prefix}-${n}`, streamRevision: 0, globalPosition: firstPosition + n }],
  }));
}

describe('StreamKeyFilter', () => {
  it('never rules out a key it was given, and rules out nearly every other one', () => {
    const filter = new StreamKeyFilter();
    for (let n = 0; n < 100_000; n++) filter.add(indexKeyOf(`identity-${n}`));
    for (let n = 0; n < 100_000; n++) expect(filter.mayHave(indexKeyOf(`identity-${n}`))).toBe(true);
    let falsePositives = 0;
    for (let n = 0; n < 100_000; n++) if (filter.mayHave(indexKeyOf(`absent-${n}`))) falsePositives++;
    expect(falsePositives).toBeLessThan(100);
  });
});

describe('LogIndexStore stream filter', () => {
  let directory: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    directory = await aTempDirectory();
  });
  afterEach(() => directory.remove());

  it('answers absent streams without a lookup once filled, and still finds every stream, old or new', () => {
    const path = join(directory.path, 'index.sqlite');
    const created = LogIndexStore.open(path, HEADER_BYTES).index;
    created.addFrames(framesStarting('old', 3000, 1, HEADER_BYTES));
    created.completeBuild();
    created.close();

    const { index } = LogIndexStore.open(path, HEADER_BYTES);
    try {
      // Not filled yet: every stream may exist, and every question goes to the file, answered right
      // (but for the streams after the last fold of stream keys, held in memory: all 3,000 here).
      expect(index.mayHaveStream('absent-0')).toBe(true);
      expect(index.streamRevision('absent-0')).toBeNull();
      expect(index.streamRevision('old-2999')).toBe(0);
      expect(index.streamLookups).toBe(1);

      const slices = [index.fillStreamFilter(1000), index.fillStreamFilter(1000), index.fillStreamFilter(1000), index.fillStreamFilter(1000)];
      expect(slices).toEqual([false, false, false, true]);
      index.addFrames(framesStarting('new', 10, 3001, HEADER_BYTES + 300_000), { decided: true });

      const before = index.streamLookups;
      for (let n = 0; n < 1000; n++) expect(index.streamRevision(`absent-${n}`)).toBeNull();
      expect(index.streamLookups - before).toBeLessThan(5);
      for (let n = 0; n < 3000; n += 7) expect(index.streamRevision(`old-${n}`)).toBe(0);
      // Without any lookup: every stream indexed may exist, nearly every other is ruled out.
      const lookups = index.streamLookups;
      for (let n = 0; n < 3000; n++) expect(index.mayHaveStream(`old-${n}`)).toBe(true);
      for (let n = 0; n < 10; n++) expect(index.mayHaveStream(`new-${n}`)).toBe(true);
      expect(Array.from({ length: 1000 }, (_, n) => index.mayHaveStream(`absent-${n}`)).filter(Boolean).length).toBeLessThan(5);
      expect(index.streamLookups).toBe(lookups);
      for (let n = 0; n < 10; n++) expect(index.streamLocations(`new-${n}`, 0, 10)).toMatchObject({ currentRevision: 0, locations: [{ position: 3001 + n }] });
      expect(index.streamLocations('absent-0', 0, 10)).toEqual({ currentRevision: null, locations: [] });
    } finally {
      index.close();
    }
  });

  it('still refuses a record that starts a stream again while it indexes the log with a filter not filled yet', () => {
    const path = join(directory.path, 'index.sqlite');
    const created = LogIndexStore.open(path, HEADER_BYTES).index;
    created.addFrames(framesStarting('old', 10, 1, HEADER_BYTES));
    created.completeBuild();
    created.close();
    const { index } = LogIndexStore.open(path, HEADER_BYTES);
    try {
      const again = framesStarting('old', 1, 11, HEADER_BYTES + 1000);
      expect(() => index.addFrames(again)).toThrow(/does not follow position 10/);
    } finally {
      index.close();
    }
  });
});
