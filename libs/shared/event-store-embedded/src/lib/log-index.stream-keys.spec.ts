import Database from 'better-sqlite3';
import { join } from 'node:path';
import { aTempDirectory } from '../testing/temp-directory';
import { EventLogCorruptedError } from './event-store.errors';
import { LOG_INDEX_VERSION, LogIndexStore, STREAMS_FOLDED_EVERY, type IndexedFrame } from './log-index.store';

const HEADER_BYTES = 8;
const FRAME_BYTES = 100;

/** One frame per event: `streams[i]` at revision `revisions[i]`, from `firstPosition` on, right after `afterOffset`. */
function frames(events: readonly { stream: string; revision: number }[], firstPosition: number, afterOffset: number): IndexedFrame[] {
  return events.map(({ stream, revision }, n) => ({
    offset: afterOffset + n * FRAME_BYTES,
    bytes: FRAME_BYTES,
    checksum: firstPosition + n,
    events: [{ id: `event-${firstPosition + n}`, streamName: stream, streamRevision: revision, globalPosition: firstPosition + n }],
  }));
}

/** Appends events after what the index covers, as the store's writer does. */
function append(index: LogIndexStore, events: readonly { stream: string; revision: number }[]): void {
  index.addFrames(frames(events, index.coverage.head + 1, index.coverage.coveredOffset), { decided: true });
}

const starting = (prefix: string, from: number, count: number) => Array.from({ length: count }, (_, n) => ({ stream: `${prefix}-${from + n}`, revision: 0 }));

describe('LogIndexStore stream keys', () => {
  let directory: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    directory = await aTempDirectory();
  });
  afterEach(() => directory.remove());

  const pairs = (path: string): number => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM stream_keys').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it(`finds streams before and after their keys are written ${STREAMS_FOLDED_EVERY} at a time, extends either kind, and after a reopen`, () => {
    const path = join(directory.path, 'index.sqlite');
    let index = LogIndexStore.open(path, HEADER_BYTES).index;
    try {
      index.completeBuild();
      const total = STREAMS_FOLDED_EVERY + 300;
      for (let from = 0; from < total; from += 500) append(index, starting('s', from, Math.min(500, total - from)));
      const folded = pairs(path);
      expect(folded).toBeGreaterThanOrEqual(STREAMS_FOLDED_EVERY);
      expect(folded).toBeLessThan(total);
      // A folded stream and one held in memory get their next events.
      append(index, [
        { stream: 's-3', revision: 1 },
        { stream: `s-${total - 1}`, revision: 1 },
        { stream: 's-3', revision: 2 },
      ]);
      const check = (store: LogIndexStore): void => {
        expect(store.streamRevision('s-3')).toBe(2);
        expect(store.streamRevision(`s-${total - 1}`)).toBe(1);
        for (let n = 0; n < total; n += 101) expect(store.streamRevision(`s-${n}`)).toBe(n === 3 ? 2 : 0);
        expect(store.streamRevision(`s-${total}`)).toBeNull();
        expect(store.streamLocations('s-3', 0, 10).locations.map((location) => location.revision)).toEqual([0, 1, 2]);
        expect(store.streamLocations(`s-${total - 1}`, 0, 10).locations.map((location) => location.position)).toEqual([total, total + 2]);
      };
      check(index);
      // A stream already there is refused as a new one, folded or not.
      for (const stream of ['s-5', `s-${total - 2}`]) {
        expect(() => index.addFrames(frames([{ stream, revision: 0 }], index.coverage.head + 1, index.coverage.coveredOffset))).toThrow(EventLogCorruptedError);
      }
      index.close();
      index = LogIndexStore.open(path, HEADER_BYTES).index;
      check(index);
    } finally {
      index.close();
    }
  });

  it('forgets the streams of a transaction that was rolled back', () => {
    const path = join(directory.path, 'index.sqlite');
    const { index } = LogIndexStore.open(path, HEADER_BYTES);
    try {
      index.completeBuild();
      append(index, starting('s', 0, 3));
      // Two new streams, then a record that does not follow: nothing of the three is kept.
      const bad = frames([...starting('t', 0, 2), { stream: 's-1', revision: 5 }], index.coverage.head + 1, index.coverage.coveredOffset);
      expect(() => index.addFrames(bad, { decided: true })).toThrow(EventLogCorruptedError);
      expect(index.streamRevision('t-0')).toBeNull();
      expect(index.streamRevision('t-1')).toBeNull();
      expect(index.streamRevision('s-1')).toBe(0);
      append(index, starting('t', 0, 2));
      expect(index.streamRevision('t-1')).toBe(0);
      expect(index.coverage.head).toBe(5);
    } finally {
      index.close();
    }
  });

  it('migrates an index of layout 4 (each stream key indexed as it was added) in place at open', () => {
    const path = join(directory.path, 'index.sqlite');
    const created = LogIndexStore.open(path, HEADER_BYTES).index;
    created.completeBuild();
    append(created, starting('s', 0, 50));
    append(created, [{ stream: 's-7', revision: 1 }]);
    created.close();
    // Layout 4 as it was: the index of name keys, no stream_keys or stream_fold.
    const db = new Database(path);
    db.exec('CREATE INDEX streams_by_key ON streams (name_key); DROP TABLE stream_keys; DROP TABLE stream_fold; PRAGMA user_version = 4;');
    db.close();

    const { index, replacedBecause } = LogIndexStore.open(path, HEADER_BYTES);
    try {
      expect(replacedBecause).toBeNull();
      expect(index.coverage.head).toBe(51);
      expect(index.streamRevision('s-7')).toBe(1);
      for (let n = 0; n < 50; n += 7) expect(index.streamRevision(`s-${n}`)).toBe(n === 7 ? 1 : 0);
      append(index, [{ stream: 's-8', revision: 1 }, ...starting('s', 50, 2)]);
      expect(index.streamRevision('s-8')).toBe(1);
      expect(index.streamRevision('s-51')).toBe(0);
    } finally {
      index.close();
    }
    const after = new Database(path, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(LOG_INDEX_VERSION);
      expect(after.prepare("SELECT name FROM sqlite_master WHERE name = 'streams_by_key'").get()).toBeUndefined();
      expect(after.prepare('SELECT count(*) AS n FROM stream_keys').get()).toEqual({ n: 50 });
    } finally {
      after.close();
    }
  });
});
