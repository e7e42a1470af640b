import { spawnSync } from 'node:child_process';
import { appendFile, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcurrencyError, DuplicateEventIdError, type JsonValue, type NewEvent } from '@flagline/event-sourcing';
import { aNewEvent, describeEventStoreContract } from '@flagline/event-sourcing/testing';
import { aTempDirectory } from '../testing/temp-directory';
import { DirectoryLockedError } from './directory-lock';
import {
  EVENT_LOG_FILE_NAME,
  EmbeddedEventStore,
  EventLogCorruptedError,
  EventStoreClosedError,
  EventStoreFailedError,
  LOG_INDEX_FILE_NAME,
  type EmbeddedEventStoreOptions,
} from './embedded-event-store';
import { LogFileFormatError, type SyncData } from './log-file';
import { encodeAppend } from './record-codec';

describeEventStoreContract('embedded', async () => {
  const directory = await aTempDirectory();
  const store = await EmbeddedEventStore.open({ directory: directory.path });
  return {
    store,
    dispose: async () => {
      await store.close();
      await directory.remove();
    },
  };
});

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const heldSyncs: Array<() => void> = [];

/** A sync that waits until the test lets it through (or the test ends). */
function aHeldSync(): { syncData: SyncData; release(): void; syncs(): number } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  heldSyncs.push(release);
  let count = 0;
  return {
    syncData: async (file) => {
      count++;
      await gate;
      await file.datasync();
    },
    release: () => release(),
    syncs: () => count,
  };
}

function settledState(promise: Promise<unknown>): () => 'pending' | 'settled' {
  let state: 'pending' | 'settled' = 'pending';
  const settle = (): void => {
    state = 'settled';
  };
  promise.then(settle, settle);
  return () => state;
}

describe('EmbeddedEventStore', () => {
  let directory: { path: string; remove(): Promise<void> };
  const opened: EmbeddedEventStore[] = [];
  const logPath = (): string => join(directory.path, EVENT_LOG_FILE_NAME);
  const indexPath = (): string => join(directory.path, LOG_INDEX_FILE_NAME);

  async function open(options: Partial<EmbeddedEventStoreOptions> = {}): Promise<EmbeddedEventStore> {
    const store = await EmbeddedEventStore.open({ directory: directory.path, onWarning: () => undefined, ...options });
    opened.push(store);
    return store;
  }

  beforeEach(async () => {
    directory = await aTempDirectory();
  });
  afterEach(async () => {
    for (const release of heldSyncs.splice(0)) release();
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await directory.remove();
  });

  it('rules out only streams with no event in the log: appended, being written, or written before a restart all may exist', async () => {
    const store = await open();
    expect(store.mayHaveStream('flag-a')).toBe(false);
    const appending = store.appendToStream('flag-a', [aNewEvent('FlagCreated')], { expectedRevision: 'no_stream' });
    expect(store.mayHaveStream('flag-a')).toBe(true);
    await appending;
    expect(store.mayHaveStream('flag-a')).toBe(true);
    expect(store.mayHaveStream('flag-b')).toBe(false);
    await store.close();

    const reopened = await open();
    // The first question starts filling the filter from the index (one stream: filled at once).
    expect(reopened.mayHaveStream('flag-a')).toBe(true);
    expect(reopened.mayHaveStream('flag-b')).toBe(false);
  });

  describe('when reopened', () => {
    it('serves the same streams, revisions, positions, ids, data and metadata', async () => {
      let now = Date.parse('2026-03-01T10:00:00.000Z');
      const clock = (): Date => new Date((now += 1000));
      const first = await open({ clock });
      await first.appendToStream('flag-a', [aNewEvent('FlagCreated', { key: 'dark-mode' }), aNewEvent('FlagEnabled')], {
        expectedRevision: 'no_stream',
      });
      await first.appendToStream('flag-b', [aNewEvent('FlagCreated', { key: 'beta', tags: ['x', 'y'], weight: 0.25 })]);
      await first.appendToStream('flag-a', [aNewEvent('FlagDisabled', null)], { expectedRevision: 1 });
      const all = await first.readAll();
      const streamA = await first.readStream('flag-a');
      const streamB = await first.readStream('flag-b');
      await first.close();

      const second = await open();
      expect(await second.readAll()).toEqual(all);
      expect(await second.readStream('flag-a')).toEqual(streamA);
      expect(await second.readStream('flag-b')).toEqual(streamB);
      expect(await second.headPosition()).toBe(4);
      expect(all.map((event) => event.recordedAt)).toEqual([
        '2026-03-01T10:00:01.000Z',
        '2026-03-01T10:00:01.000Z',
        '2026-03-01T10:00:02.000Z',
        '2026-03-01T10:00:03.000Z',
      ]);
    });

    it('continues appending at the right revision and position', async () => {
      const first = await open();
      await first.appendToStream('flag-a', [aNewEvent(), aNewEvent()]);
      await first.appendToStream('flag-b', [aNewEvent()]);
      await first.close();

      const second = await open();
      await expect(second.appendToStream('flag-a', [aNewEvent()], { expectedRevision: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await second.appendToStream('flag-a', [aNewEvent()], { expectedRevision: 1 })).toEqual({ nextExpectedRevision: 2, position: 4 });
      expect(await second.appendToStream('flag-c', [aNewEvent()], { expectedRevision: 'no_stream' })).toEqual({
        nextExpectedRevision: 0,
        position: 5,
      });
      await second.close();

      const third = await open();
      expect((await third.readAll()).map((event) => event.globalPosition)).toEqual([1, 2, 3, 4, 5]);
    });

    it('recognises a retried append', async () => {
      const batch = [aNewEvent(), aNewEvent()];
      const first = await open();
      await first.appendToStream('flag-a', [aNewEvent()]);
      const original = await first.appendToStream('flag-a', batch, { expectedRevision: 0 });
      await first.close();

      const second = await open();
      expect(await second.appendToStream('flag-a', batch, { expectedRevision: 0 })).toEqual(original);
      expect(await second.headPosition()).toBe(3);
      await expect(second.appendToStream('flag-b', [batch[0]!])).rejects.toBeInstanceOf(DuplicateEventIdError);
    });
  });

  describe('with a damaged log', () => {
    async function writeIntactLog(): Promise<{ intactBytes: number; ids: string[] }> {
      const store = await open();
      const events = [aNewEvent('A'), aNewEvent('B'), aNewEvent('C')];
      await store.appendToStream('flag-a', [events[0]!, events[1]!]);
      await store.appendToStream('flag-b', [events[2]!]);
      await store.close();
      return { intactBytes: (await stat(logPath())).size, ids: events.map((event) => event.id) };
    }

    function aNextFrame(): Buffer {
      return encodeAppend({
        streamName: 'flag-a',
        firstRevision: 2,
        firstPosition: 4,
        recordedAt: '2026-01-01T00:00:00.000Z',
        events: [aNewEvent('Torn', { padding: 'p'.repeat(200) })],
      }).frame;
    }

    const tails: ReadonlyArray<[string, () => Buffer]> = [
      ['a few bytes of a length prefix', () => Buffer.from([0x2a, 0x01])],
      ['a full header with a truncated payload', () => aNextFrame().subarray(0, 60)],
      [
        'a whole record with a corrupted checksum',
        () => {
          const frame = Buffer.from(aNextFrame());
          frame.writeUInt8(frame.readUInt8(5) ^ 0xff, 5);
          return frame;
        },
      ],
      [
        'a whole record with a flipped payload byte',
        () => {
          const frame = Buffer.from(aNextFrame());
          frame.writeUInt8(frame.readUInt8(100) ^ 0x01, 100);
          return frame;
        },
      ],
      ['a zero-filled page', () => Buffer.alloc(4096)],
      ['a length beyond any record', () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3])],
    ];

    it.each(tails)('cuts %s at open and serves only the intact events', async (_, tail) => {
      const { intactBytes, ids } = await writeIntactLog();
      await appendFile(logPath(), tail());
      const warnings: string[] = [];

      const store = await open({ onWarning: (message) => warnings.push(message) });
      expect((await store.readAll()).map((event) => event.id)).toEqual(ids);
      expect((await stat(logPath())).size).toBe(intactBytes);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`at byte ${intactBytes}`);

      const next = aNewEvent('AfterRecovery');
      expect(await store.appendToStream('flag-a', [next], { expectedRevision: 1 })).toEqual({ nextExpectedRevision: 2, position: 4 });
      await store.close();
      const reopenWarnings: string[] = [];
      const reopened = await open({ onWarning: (message) => reopenWarnings.push(message) });
      expect((await reopened.readAll()).map((event) => event.id)).toEqual([...ids, next.id]);
      expect(reopenWarnings).toEqual([]);
    });

    async function damageTheMiddleRecord(at = 20, damagedData: Record<string, string> = {}): Promise<{ kept: NewEvent; keptBytes: number }> {
      const first = await open();
      const kept = aNewEvent('Kept');
      await first.appendToStream('flag-a', [kept]);
      await first.close();
      const keptBytes = (await stat(logPath())).size;
      const second = await open();
      await second.appendToStream('flag-a', [aNewEvent('Damaged', damagedData)]);
      await second.appendToStream('flag-a', [aNewEvent('AfterDamage')]);
      await second.close();
      const bytes = await readFile(logPath());
      bytes.writeUInt8(bytes.readUInt8(keptBytes + at) ^ 0x01, keptBytes + at);
      await writeFile(logPath(), bytes);
      return { kept, keptBytes };
    }

    // Damage followed by a record that verifies is not a torn tail: acknowledged events follow it.
    const middles: ReadonlyArray<[string, number, Record<string, string>]> = [
      ['a flipped payload byte', 20, {}],
      ['a flipped length byte, so the record cannot be skipped', 2, {}],
      ['a flipped length byte of a record longer than one read chunk', 2, { padding: 'p'.repeat(3 * 1024 * 1024) }],
    ];

    it.each(middles)('refuses to open a log whose damaged record (%s) is followed by intact ones, and leaves the file as it is', async (_, at, data) => {
      const { keptBytes } = await damageTheMiddleRecord(at, data);
      await rm(indexPath(), { force: true });
      const damaged = await readFile(logPath());

      const refusal = open();
      await expect(refusal).rejects.toBeInstanceOf(EventLogCorruptedError);
      await expect(refusal).rejects.toThrow(`at byte ${keptBytes}, and an intact record follows at byte `);
      await expect(refusal).rejects.toThrow(`truncate -s ${keptBytes} `);
      expect((await readFile(logPath())).equals(damaged)).toBe(true);
      // Refused again, not repaired by the first attempt.
      await expect(open()).rejects.toBeInstanceOf(EventLogCorruptedError);
    });

    it('opens once the operator cuts the log where the refusal says, serving the events before the damage', async () => {
      const { kept, keptBytes } = await damageTheMiddleRecord();
      await rm(indexPath(), { force: true });
      await expect(open()).rejects.toBeInstanceOf(EventLogCorruptedError);
      await truncate(logPath(), keptBytes);

      const store = await open();
      expect((await store.readAll()).map((event) => event.id)).toEqual([kept.id]);
      await store.close();
    });

    it('refuses to read a damaged record the index already covers, rather than serve it or what follows it', async () => {
      // Open trusts what the index covers (that is what makes it fast), so damage there, which a
      // crash cannot cause, is found when the record is read.
      const { kept, keptBytes } = await damageTheMiddleRecord();

      const store = await open();
      await expect(store.readAll()).rejects.toThrow(new EventLogCorruptedError(`Indexed event log record at byte ${keptBytes} cannot be read: checksum mismatch`));
      await expect(store.readStream('flag-a')).rejects.toThrow(EventLogCorruptedError);
      expect((await store.readAll({ maxCount: 1 })).map((event) => event.id)).toEqual([kept.id]);
    });

    it('refuses a file that is not an event log and leaves it untouched', async () => {
      await writeFile(logPath(), 'not an event log at all');
      await expect(open()).rejects.toBeInstanceOf(LogFileFormatError);
      expect(await readFile(logPath(), 'utf8')).toBe('not an event log at all');
      await expect(open()).rejects.toBeInstanceOf(LogFileFormatError);
    });

    it('refuses a checksummed record that does not follow the one before it', async () => {
      await writeIntactLog();
      const skipping = encodeAppend({
        streamName: 'flag-a',
        firstRevision: 2,
        firstPosition: 9,
        recordedAt: '2026-01-01T00:00:00.000Z',
        events: [aNewEvent()],
      });
      await appendFile(logPath(), skipping.frame);
      await expect(open()).rejects.toBeInstanceOf(EventLogCorruptedError);
    });
  });

  describe('durability', () => {
    it('acknowledges an append and shows it to readers only after its sync', async () => {
      const held = aHeldSync();
      const store = await open({ syncData: held.syncData });
      const append = store.appendToStream('flag-a', [aNewEvent()]);
      const state = settledState(append);
      await until(() => held.syncs() === 1);
      await tick();
      expect(state()).toBe('pending');
      expect(await store.readStream('flag-a')).toEqual({ currentRevision: null, events: [] });
      expect(await store.headPosition()).toBe(0);

      held.release();
      expect(await append).toEqual({ nextExpectedRevision: 0, position: 1 });
      expect(await store.headPosition()).toBe(1);
    });

    it('decides racing appends against appends still in flight and reports them once those are durable', async () => {
      const held = aHeldSync();
      const store = await open({ syncData: held.syncData });
      const first = aNewEvent('First');
      const winner = store.appendToStream('flag-a', [first], { expectedRevision: 'no_stream' });
      await tick();
      const loser = store.appendToStream('flag-a', [aNewEvent('Loser')], { expectedRevision: 'no_stream' });
      const follower = store.appendToStream('flag-a', [aNewEvent('Follower')], { expectedRevision: 0 });
      const retry = store.appendToStream('flag-a', [first], { expectedRevision: 'no_stream' });
      const loserState = settledState(loser);
      const retryState = settledState(retry);
      await tick();
      expect([loserState(), retryState()]).toEqual(['pending', 'pending']);

      held.release();
      expect(await winner).toEqual({ nextExpectedRevision: 0, position: 1 });
      await expect(loser).rejects.toMatchObject({ name: 'ConcurrencyError', actual: 0 });
      expect(await follower).toEqual({ nextExpectedRevision: 1, position: 2 });
      expect(await retry).toEqual({ nextExpectedRevision: 0, position: 1 });
      expect((await store.readStream('flag-a')).events.map((event) => event.type)).toEqual(['First', 'Follower']);
    });

    it('writes appends accepted before close and refuses later ones', async () => {
      const store = await open();
      const appends = [store.appendToStream('flag-a', [aNewEvent()]), store.appendToStream('flag-b', [aNewEvent()])];
      const closed = store.close();
      await expect(store.appendToStream('flag-a', [aNewEvent()])).rejects.toBeInstanceOf(EventStoreClosedError);
      await closed;
      expect(await Promise.all(appends)).toEqual([
        { nextExpectedRevision: 0, position: 1 },
        { nextExpectedRevision: 0, position: 2 },
      ]);
      const reopened = await open();
      expect(await reopened.headPosition()).toBe(2);
    });

    it('refuses a batch JSON cannot carry and stays usable', async () => {
      const store = await open();
      const unserialisable: NewEvent = { ...aNewEvent(), data: { big: 1n } as unknown as JsonValue };
      await expect(store.appendToStream('flag-a', [aNewEvent(), unserialisable])).rejects.toBeInstanceOf(TypeError);
      const missingData: NewEvent = { ...aNewEvent(), data: undefined as unknown as JsonValue };
      await expect(store.appendToStream('flag-a', [missingData])).rejects.toThrow(/without data/);
      const twice = aNewEvent();
      await expect(store.appendToStream('flag-a', [twice, twice])).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await store.appendToStream('flag-a', [aNewEvent()], { expectedRevision: 'no_stream' })).toEqual({
        nextExpectedRevision: 0,
        position: 1,
      });
      await store.close();
      expect(await (await open()).headPosition()).toBe(1);
    });
  });

  describe('when a write or sync fails', () => {
    it('rejects the whole group, refuses further appends, and fails subscriptions after the durable events', async () => {
      let syncs = 0;
      const store = await open({
        syncData: async (file) => {
          if (++syncs === 2) throw new Error('EIO: simulated device error');
          await file.datasync();
        },
      });
      const durable = aNewEvent('Durable');
      await store.appendToStream('flag-a', [durable]);
      const seen: string[] = [];
      const subscription = store.subscribeToAll({}, (event) => {
        seen.push(event.type);
      });
      await subscription.caughtUp;

      const lost = [aNewEvent('Lost1'), aNewEvent('Lost2')];
      const group = await Promise.allSettled([store.appendToStream('flag-a', [lost[0]!]), store.appendToStream('flag-b', [lost[1]!])]);
      expect(group.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof EventStoreFailedError)).toEqual([true, true]);
      await expect(store.appendToStream('flag-c', [aNewEvent()])).rejects.toBeInstanceOf(EventStoreFailedError);
      await expect(subscription.done).rejects.toBeInstanceOf(EventStoreFailedError);
      expect(seen).toEqual(['Durable']);
      expect((await store.readAll()).map((event) => event.id)).toEqual([durable.id]);
      expect(syncs).toBe(2);
      await store.close();

      // The failed group's outcome is unknown; retrying it with the same ids settles it exactly once.
      const reopened = await open();
      await reopened.appendToStream('flag-a', [lost[0]!]);
      await reopened.appendToStream('flag-b', [lost[1]!]);
      expect((await reopened.readAll()).map((event) => event.id)).toEqual([durable.id, lost[0]!.id, lost[1]!.id]);
    });
  });

  describe('group commit', () => {
    it('syncs once for many appends issued together', async () => {
      let syncs = 0;
      const store = await open({
        syncData: async (file) => {
          syncs++;
          await file.datasync();
        },
      });
      const results = await Promise.all(Array.from({ length: 200 }, (_, n) => store.appendToStream(`flag-${n % 10}`, [aNewEvent()])));
      expect(results.map((result) => result.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
      expect(syncs).toBe(1);
    });

    it('batches appends from concurrent writers into fewer syncs than appends', async () => {
      let syncs = 0;
      const store = await open({
        syncData: async (file) => {
          syncs++;
          await file.datasync();
        },
      });
      const writers = 20;
      const appendsPerWriter = 10;
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          for (let n = 0; n < appendsPerWriter; n++) {
            await store.appendToStream(`flag-${writer}`, [aNewEvent()], { expectedRevision: n === 0 ? 'no_stream' : n - 1 });
          }
        }),
      );
      expect(await store.headPosition()).toBe(writers * appendsPerWriter);
      expect(syncs).toBeLessThan((writers * appendsPerWriter) / 4);
      await store.close();
      const reopened = await open();
      for (let writer = 0; writer < writers; writer++) {
        expect((await reopened.readStream(`flag-${writer}`)).currentRevision).toBe(appendsPerWriter - 1);
      }
    });
  });

  describe('single writer', () => {
    it('refuses a second open of the same directory until the first is closed', async () => {
      const first = await open();
      const attempt = open();
      await expect(attempt).rejects.toBeInstanceOf(DirectoryLockedError);
      await expect(attempt).rejects.toThrow(directory.path);
      await first.close();
      const second = await open();
      expect(await second.headPosition()).toBe(0);
    });

    it('refuses a directory locked by another live process', async () => {
      await writeFile(join(directory.path, 'LOCK'), `${process.ppid}\n`);
      await expect(open()).rejects.toMatchObject({ name: 'DirectoryLockedError', ownerPid: process.ppid });
    });

    it('takes over the lock of a process that died', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(join(directory.path, 'LOCK'), `${dead}\n`);
      const store = await open();
      expect(await readFile(join(directory.path, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
      await store.close();
      await expect(stat(join(directory.path, 'LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
