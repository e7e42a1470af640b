import Database from 'better-sqlite3';
import { appendFile, copyFile, open as openFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue, RecordedEvent } from '@flagline/event-sourcing';
import { aNewEvent } from '@flagline/event-sourcing/testing';
import { aTempDirectory } from '../testing/temp-directory';
import {
  EVENT_LOG_FILE_NAME,
  EmbeddedEventStore,
  EventLogCorruptedError,
  LOG_INDEX_FILE_NAME,
  type EmbeddedEventStoreOptions,
  type LogIndexProgress,
} from './embedded-event-store';
import { CACHED_FRAMES, CACHED_FRAME_BYTES, RECENT_EVENTS_KEPT } from './persisted-log-view';
import { encodeAppend } from './record-codec';

interface IndexRows {
  readonly events: unknown[];
  readonly streams: unknown[];
  readonly coverage: unknown;
}

/** Everything the index file holds, read with SQLite directly (the store closed). */
function indexRows(path: string): IndexRows {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      events: db.prepare('SELECT * FROM events ORDER BY position').all(),
      streams: db.prepare('SELECT name, revision FROM streams ORDER BY name').all(),
      coverage: db.prepare('SELECT * FROM coverage').get(),
    };
  } finally {
    db.close();
  }
}

describe('EmbeddedEventStore index (index.sqlite beside the log)', () => {
  let directory: { path: string; remove(): Promise<void> };
  const opened: EmbeddedEventStore[] = [];
  const logPath = (): string => join(directory.path, EVENT_LOG_FILE_NAME);
  const indexPath = (): string => join(directory.path, LOG_INDEX_FILE_NAME);

  async function open(options: Partial<EmbeddedEventStoreOptions> = {}): Promise<EmbeddedEventStore> {
    const store = await EmbeddedEventStore.open({ directory: directory.path, onWarning: () => undefined, ...options });
    opened.push(store);
    return store;
  }

  async function close(store: EmbeddedEventStore): Promise<void> {
    opened.splice(opened.indexOf(store), 1);
    await store.close();
  }

  /** Appends to a few streams, one to three events at a time, and returns what the store then serves. */
  async function appendSome(store: EmbeddedEventStore, appends: number, tag: string): Promise<void> {
    for (let at = 0; at < appends; at++) {
      const events = Array.from({ length: 1 + (at % 3) }, (_, n) => aNewEvent(`${tag}Happened`, { at, n, text: 'é'.repeat(at % 7) }));
      await store.appendToStream(`stream-${at % 5}`, events);
    }
  }

  interface Served {
    readonly all: readonly RecordedEvent[];
    readonly streams: ReadonlyArray<{ currentRevision: number | null; events: readonly RecordedEvent[] }>;
    readonly head: number;
  }

  async function served(store: EmbeddedEventStore): Promise<Served> {
    const streams = [];
    for (let stream = 0; stream < 6; stream++) streams.push(await store.readStream(`stream-${stream}`));
    return { all: await store.readAll(), streams, head: await store.headPosition() };
  }

  async function removeIndex(): Promise<void> {
    for (const suffix of ['', '-wal', '-shm']) await rm(`${indexPath()}${suffix}`, { force: true });
  }

  beforeEach(async () => {
    directory = await aTempDirectory();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await directory.remove();
  });

  it('keeps the index beside the log and opens from it without reading the log again', async () => {
    const first = await open();
    await appendSome(first, 30, 'First');
    const before = await served(first);
    await close(first);
    expect(await readdir(directory.path)).toContain(LOG_INDEX_FILE_NAME);

    const progress: LogIndexProgress[] = [];
    const warnings: string[] = [];
    const second = await open({ onProgress: (report) => progress.push(report), onWarning: (message) => warnings.push(message) });
    expect(await served(second)).toEqual(before);
    expect(warnings).toEqual([]);
    // Nothing after the covered offset: the one report says the index already covered everything.
    const logBytes = (await stat(logPath())).size;
    expect(progress).toEqual([{ bytes: logBytes, totalBytes: logBytes, events: before.head }]);
  });

  it('rebuilds a deleted index from the log, reporting progress, into the same rows', async () => {
    const first = await open();
    await appendSome(first, 40, 'First');
    const before = await served(first);
    await close(first);
    const rowsBefore = indexRows(indexPath());
    await removeIndex();

    const progress: LogIndexProgress[] = [];
    const second = await open({ onProgress: (report) => progress.push(report) });
    expect(await served(second)).toEqual(before);
    const logBytes = (await stat(logPath())).size;
    expect(progress.at(-1)).toEqual({ bytes: logBytes, totalBytes: logBytes, events: before.head });
    // Retries are still recognised through the rebuilt index.
    const retried = before.all.slice(-3).filter((event) => event.streamName === before.all.at(-1)?.streamName);
    expect(
      await second.appendToStream(
        retried[0]!.streamName,
        retried.map(({ id, type, data, metadata }) => ({ id, type, data: data as JsonValue, metadata })),
      ),
    ).toEqual({ nextExpectedRevision: retried.at(-1)!.streamRevision, position: retried.at(-1)!.globalPosition });
    await close(second);
    expect(indexRows(indexPath())).toEqual(rowsBefore);
  });

  it('keeps no id rows for appends of fresh ids, and a rebuild from the log leaves them out as well', async () => {
    const first = await open();
    const kept = [aNewEvent('Kept')];
    const fresh = [aNewEvent('Fresh', { n: 1 }), aNewEvent('Fresh', { n: 2 })];
    await first.appendToStream('stream-1', kept);
    await first.appendToStream('stream-2', fresh, { expectedRevision: 'no_stream', freshIds: true });
    const before = await served(first);
    await close(first);
    const rowsBefore = indexRows(indexPath());
    expect(rowsBefore.events.map((row) => (row as { id: string | null }).id)).toEqual([kept[0]!.id, null, null]);

    await removeIndex();
    const second = await open();
    expect(await served(second)).toEqual(before);
    // The events of a plain append are still recognised when retried.
    expect(await second.appendToStream('stream-1', kept)).toEqual({ nextExpectedRevision: 0, position: 1 });
    await close(second);
    expect(indexRows(indexPath())).toEqual(rowsBefore);
  });

  it('catches up an index left behind the log, as after a kill between the log sync and the index commit', async () => {
    const first = await open();
    await appendSome(first, 10, 'Early');
    await close(first);
    const behind = join(directory.path, 'index-behind.sqlite');
    await copyFile(indexPath(), behind);
    const second = await open();
    await appendSome(second, 25, 'Late');
    const before = await served(second);
    await close(second);
    const rowsBefore = indexRows(indexPath());
    await copyFile(behind, indexPath());
    const coveredBehind = (indexRows(indexPath()).coverage as { covered_offset: number; head_position: number }).head_position;
    expect(coveredBehind).toBeLessThan(before.head);

    const warnings: string[] = [];
    const progress: LogIndexProgress[] = [];
    const third = await open({ onWarning: (message) => warnings.push(message), onProgress: (report) => progress.push(report) });
    expect(await served(third)).toEqual(before);
    expect(warnings).toEqual([]);
    expect(progress.at(-1)?.events).toBe(before.head);
    expect(await third.appendToStream('stream-0', [aNewEvent()])).toEqual({
      nextExpectedRevision: before.streams[0]!.currentRevision! + 1,
      position: before.head + 1,
    });
    await close(third);
    expect(indexRows(indexPath()).events.slice(0, before.head)).toEqual(rowsBefore.events);
  });

  it('detects an index ahead of a log whose torn tail was cut, and rebuilds it', async () => {
    const first = await open();
    await appendSome(first, 12, 'Kept');
    const kept = await served(first);
    const keptBytes = (await stat(logPath())).size;
    await first.appendToStream('stream-0', [aNewEvent('Torn', { padding: 'p'.repeat(500) })]);
    await close(first);
    // The index covers the last record; the log loses half of it.
    const log = await openFile(logPath(), 'r+');
    await log.truncate(keptBytes + 100);
    await log.close();

    const warnings: string[] = [];
    const second = await open({ onWarning: (message) => warnings.push(message) });
    expect(await served(second)).toEqual(kept);
    expect((await stat(logPath())).size).toBe(keptBytes);
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`is rebuilt from the log: it covers \\d+ bytes of the log, which holds ${keptBytes + 100}$`)),
      expect.stringContaining(`at byte ${keptBytes}; cutting 100 trailing bytes`),
    ]);
    expect(await second.appendToStream('stream-0', [aNewEvent()])).toEqual({
      nextExpectedRevision: kept.streams[0]!.currentRevision! + 1,
      position: kept.head + 1,
    });
  });

  it('rebuilds an index whose last record is not the one in the log (a different log of the same length or longer)', async () => {
    const first = await open();
    await appendSome(first, 6, 'Original');
    await close(first);
    const other = await aTempDirectory();
    try {
      const replacement = await EmbeddedEventStore.open({ directory: other.path });
      await appendSome(replacement, 9, 'Replacement');
      const expected = await served(replacement);
      await replacement.close();
      await copyFile(join(other.path, EVENT_LOG_FILE_NAME), logPath());

      const warnings: string[] = [];
      const second = await open({ onWarning: (message) => warnings.push(message) });
      expect(await served(second)).toEqual(expected);
      expect(warnings).toEqual([expect.stringMatching(/is rebuilt from the log: its last record \(byte \d+, position \d+\) is not the one in the log/)]);
    } finally {
      await other.remove();
    }
  });

  it.each([
    ['garbage over its first page', (path: string) => writeFile(path, Buffer.alloc(8192, 0x5a))],
    [
      'another layout version',
      (path: string) => {
        const db = new Database(path);
        db.pragma('user_version = 99');
        db.close();
        return Promise.resolve();
      },
    ],
    [
      'a build that never completed (no secondary indexes yet)',
      (path: string) => {
        const db = new Database(path);
        db.exec('DROP INDEX events_by_id; DROP INDEX events_by_stream');
        db.pragma('user_version = 0');
        db.close();
        return Promise.resolve();
      },
    ],
    ['another SQLite file', async (path: string) => {
      await rm(path);
      const db = new Database(path);
      db.exec('CREATE TABLE unrelated (x)');
      db.close();
    }],
    ['an empty file', (path: string) => writeFile(path, '')],
  ])('rebuilds an index file holding %s', async (_, spoil) => {
    const first = await open();
    await appendSome(first, 15, 'First');
    const before = await served(first);
    await close(first);
    const rowsBefore = indexRows(indexPath());
    await spoil(indexPath());

    const warnings: string[] = [];
    const second = await open({ onWarning: (message) => warnings.push(message) });
    expect(await served(second)).toEqual(before);
    await close(second);
    expect(indexRows(indexPath())).toEqual(rowsBefore);
    expect(warnings).toEqual([expect.stringContaining('is rebuilt from the log: it could not be read')]);
  });

  it.each([
    ['while catching up an index', false],
    ['while building an index from the whole log', true],
  ])('refuses a log that stores one event id twice %s, and leaves the log as it is', async (_, withoutIndex) => {
    const first = await open();
    const event = aNewEvent('Once');
    await first.appendToStream('stream-a', [event]);
    await close(first);
    const frame = encodeAppend({ streamName: 'stream-b', firstRevision: 0, firstPosition: 2, recordedAt: '2026-01-01T00:00:00.000Z', events: [event] }).frame;
    await appendFile(logPath(), frame);
    const logBytes = (await stat(logPath())).size;
    if (withoutIndex) await removeIndex();

    await expect(open()).rejects.toThrow(new EventLogCorruptedError(`Event log stores event id ${event.id} twice`));
    expect((await stat(logPath())).size).toBe(logBytes);
  });

  it.each([
    ['while catching up an index', false],
    ['while building an index from the whole log', true],
  ])('refuses a log that starts one stream twice %s', async (_, withoutIndex) => {
    const first = await open();
    await first.appendToStream('stream-a', [aNewEvent('Once')]);
    await first.appendToStream('stream-b', [aNewEvent('Other')]);
    await close(first);
    const again = encodeAppend({ streamName: 'stream-a', firstRevision: 0, firstPosition: 3, recordedAt: '2026-01-01T00:00:00.000Z', events: [aNewEvent('Again')] }).frame;
    await appendFile(logPath(), again);
    if (withoutIndex) await removeIndex();

    await expect(open()).rejects.toThrow(
      new EventLogCorruptedError('Event log record at position 3 (stream stream-a revision 0) does not follow position 2 (stream revision 0)'),
    );
  });

  it('holds nothing per event in memory: 200,000 events leave only bounded windows and caches', async () => {
    const store = await open();
    const appends = 2_000;
    const perAppend = 100;
    for (let wave = 0; wave < appends; wave += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, n) =>
          store.appendToStream(
            `identity-${wave + n}`,
            Array.from({ length: perAppend }, (_, at) => aNewEvent('TraitSet', { at })),
          ),
        ),
      );
    }
    expect(await store.headPosition()).toBe(appends * perAppend);
    expect(store.footprint()).toEqual({ recentEvents: expect.any(Number), cachedFrames: 0, cachedFrameBytes: 0, pendingEvents: 0, pendingStreams: 0 });
    expect(store.footprint().recentEvents).toBeLessThan(2 * RECENT_EVENTS_KEPT);

    for (let stream = 0; stream < appends; stream += 7) {
      const { events } = await store.readStream(`identity-${stream}`, { fromRevision: 50, maxCount: 3 });
      expect(events.map((event) => event.data)).toEqual([{ at: 50 }, { at: 51 }, { at: 52 }]);
    }
    let delivered = 0;
    const subscription = store.subscribeToAll({ after: 0 }, () => {
      delivered++;
    });
    await subscription.caughtUp;
    await subscription.stop();
    expect(delivered).toBe(appends * perAppend);

    const footprint = store.footprint();
    expect(footprint.cachedFrames).toBeGreaterThan(0);
    expect(footprint.cachedFrames).toBeLessThanOrEqual(CACHED_FRAMES);
    expect(footprint.cachedFrameBytes).toBeLessThanOrEqual(CACHED_FRAME_BYTES);
    expect(footprint.recentEvents).toBeLessThan(2 * RECENT_EVENTS_KEPT);
    expect(footprint.pendingEvents + footprint.pendingStreams).toBe(0);
  }, 120_000);
});
