import { appendFile, readdir, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppendOptions, AppendResult, EventStore, NewEvent, RecordedEvent, Subscription } from '@flagline/event-sourcing';
import { aNewEvent, describeEventStoreContract } from '@flagline/event-sourcing/testing';
import { aTempDirectory } from '../testing/temp-directory';
import { EmbeddedEventFollower, type EmbeddedEventFollowerOptions } from './embedded-event-follower';
import { EVENT_LOG_FILE_NAME, EmbeddedEventStore, EventLogCorruptedError, EventStoreClosedError, LOG_INDEX_FILE_NAME } from './embedded-event-store';
import { EventLogReplacedError, EventStoreReadOnlyError } from './event-store.errors';
import { LogFileFormatError } from './log-file';
import { LOG_FILE_MAGIC, encodeAppend } from './record-codec';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Appends through a writer and reads through a follower of the same directory, so the contract
 * suite exercises the follower's reads, stream reads, positions and subscriptions. An append
 * resolves once the follower has read it, as a caller reading its own writes would wait.
 */
class WriterFollowerPair implements EventStore {
  constructor(
    private readonly writer: EmbeddedEventStore,
    private readonly follower: EmbeddedEventFollower,
  ) {}

  async appendToStream(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    const result = await this.writer.appendToStream(streamName, events, options);
    await until(async () => (await this.follower.headPosition()) >= result.position);
    return result;
  }

  readStream: EventStore['readStream'] = (streamName, options) => this.follower.readStream(streamName, options);
  readAll: EventStore['readAll'] = (options) => this.follower.readAll(options);
  subscribeToAll: EventStore['subscribeToAll'] = (options, handler) => this.follower.subscribeToAll(options, handler);
  headPosition: EventStore['headPosition'] = () => this.follower.headPosition();

  async close(): Promise<void> {
    await this.follower.close();
    await this.writer.close();
  }
}

describeEventStoreContract('embedded follower reading what a writer appends', async () => {
  const directory = await aTempDirectory();
  const writer = await EmbeddedEventStore.open({ directory: directory.path });
  const follower = await EmbeddedEventStore.openFollower({ directory: directory.path });
  const store = new WriterFollowerPair(writer, follower);
  return {
    store,
    dispose: async () => {
      await store.close();
      await directory.remove();
    },
  };
});

describe('EmbeddedEventFollower', () => {
  let directory: { path: string; remove(): Promise<void> };
  const closers: Array<() => Promise<void>> = [];
  const warnings: string[] = [];
  const logPath = (): string => join(directory.path, EVENT_LOG_FILE_NAME);

  async function openWriter(): Promise<EmbeddedEventStore> {
    const writer = await EmbeddedEventStore.open({ directory: directory.path, onWarning: (message) => warnings.push(`writer: ${message}`) });
    closers.push(() => writer.close());
    return writer;
  }

  async function openFollower(options: Partial<EmbeddedEventFollowerOptions> = {}): Promise<EmbeddedEventFollower> {
    const follower = await EmbeddedEventFollower.open({
      directory: directory.path,
      onWarning: (message) => warnings.push(`follower: ${message}`),
      ...options,
    });
    closers.push(() => follower.close());
    return follower;
  }

  /** Subscribes from the start and records what arrives. */
  function record(follower: EmbeddedEventFollower): { seen: RecordedEvent[]; subscription: Subscription } {
    const seen: RecordedEvent[] = [];
    const subscription = follower.subscribeToAll({}, (event) => {
      seen.push(event);
    });
    return { seen, subscription };
  }

  /** Writes `count` single-event appends with a writer that is closed again. */
  async function writeEvents(count: number, stream = 'stream-a'): Promise<NewEvent[]> {
    const writer = await openWriter();
    const events = Array.from({ length: count }, (_, n) => aNewEvent('Written', { n }));
    for (const event of events) await writer.appendToStream(stream, [event]);
    await writer.close();
    return events;
  }

  /** A well-formed frame for the record after `head` events of one stream. */
  function frameAfter(head: number, events: readonly NewEvent[], stream = 'stream-a'): Buffer {
    return encodeAppend({ streamName: stream, firstRevision: head, firstPosition: head + 1, recordedAt: new Date().toISOString(), events }).frame;
  }

  beforeEach(async () => {
    directory = await aTempDirectory();
    warnings.length = 0;
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await directory.remove();
  });

  it('reads what the writer stored before it opened', async () => {
    const written = await writeEvents(3);
    const follower = await openFollower();
    expect(await follower.headPosition()).toBe(3);
    expect((await follower.readAll()).map((event) => event.id)).toEqual(written.map((event) => event.id));
    expect((await follower.readStream('stream-a', { fromRevision: 1 })).events.map((event) => event.globalPosition)).toEqual([2, 3]);
  });

  it('is also opened through EmbeddedEventStore.openFollower', async () => {
    await writeEvents(1);
    const follower = await EmbeddedEventStore.openFollower({ directory: directory.path });
    closers.push(() => follower.close());
    expect(follower).toBeInstanceOf(EmbeddedEventFollower);
    expect(await follower.headPosition()).toBe(1);
  });

  it('delivers events a writer appends after the follower subscribed within a second, in order', async () => {
    const writer = await openWriter();
    const follower = await openFollower();
    const { seen, subscription } = record(follower);
    await subscription.caughtUp;
    const started = Date.now();
    const first = aNewEvent('First');
    const batch = [aNewEvent('Second'), aNewEvent('Third')];
    await writer.appendToStream('stream-a', [first]);
    await writer.appendToStream('stream-b', batch);
    await until(() => seen.length === 3, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen.map((event) => [event.id, event.globalPosition, event.streamName, event.streamRevision])).toEqual([
      [first.id, 1, 'stream-a', 0],
      [batch[0]!.id, 2, 'stream-b', 0],
      [batch[1]!.id, 3, 'stream-b', 1],
    ]);
    expect(await follower.headPosition()).toBe(3);
  });

  it('reads a new record when the file system reports the write, not at the next poll', async () => {
    const writer = await openWriter();
    const follower = await openFollower({ pollIntervalMs: 600_000 });
    const { seen, subscription } = record(follower);
    await subscription.caughtUp;
    const event = aNewEvent('Notified');
    await writer.appendToStream('stream-a', [event]);
    await until(() => seen.length === 1, 5000);
    expect(seen[0]).toMatchObject({ id: event.id, globalPosition: 1 });
  });

  it('with watching off, reads new records only when it polls', async () => {
    const writer = await openWriter();
    const follower = await openFollower({ pollIntervalMs: 600_000, watch: false });
    const { seen, subscription } = record(follower);
    await subscription.caughtUp;
    await writer.appendToStream('stream-a', [aNewEvent('Unnoticed')]);
    await sleep(300);
    expect(seen).toHaveLength(0);
    expect(await follower.headPosition()).toBe(0);
  });

  it('rejects appends with EventStoreReadOnlyError and writes nothing', async () => {
    await writeEvents(1);
    const before = await readFile(logPath());
    const follower = await openFollower();
    await expect(follower.appendToStream('stream-a', [aNewEvent()])).rejects.toBeInstanceOf(EventStoreReadOnlyError);
    await expect(follower.appendToStream('stream-a', [aNewEvent()], { expectedRevision: 0 })).rejects.toThrow(/read-only follower/);
    expect(await follower.headPosition()).toBe(1);
    expect((await readFile(logPath())).equals(before)).toBe(true);
  });

  it('takes no lock and creates no file: a writer opens the directory while it follows', async () => {
    const follower = await openFollower();
    const writer = await openWriter();
    await writer.appendToStream('stream-a', [aNewEvent()]);
    await until(async () => (await follower.headPosition()) === 1);
    await writer.close();
    await follower.close();
    // Only the writer's files: its log and the index it keeps beside it.
    expect((await readdir(directory.path)).sort()).toEqual([EVENT_LOG_FILE_NAME, LOG_INDEX_FILE_NAME].sort());
  });

  it('waits for a log that does not exist yet, without creating its directory', async () => {
    const missing = join(directory.path, 'not-yet');
    const follower = await openFollower({ directory: missing });
    const { seen } = record(follower);
    expect(await follower.headPosition()).toBe(0);
    await sleep(60);
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });

    const writer = await EmbeddedEventStore.open({ directory: missing });
    closers.push(() => writer.close());
    const event = aNewEvent();
    await writer.appendToStream('stream-a', [event]);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ id: event.id, globalPosition: 1 });
  });

  it('serves a record only once it is written whole', async () => {
    await writeEvents(2);
    const follower = await openFollower();
    const { seen } = record(follower);
    await until(() => seen.length === 2);

    const event = aNewEvent('Third');
    const frame = frameAfter(2, [event]);
    const half = Math.floor(frame.length / 2);
    // A writer between the two halves of its write; also a header cut in two.
    await appendFile(logPath(), frame.subarray(0, 5));
    await sleep(80);
    await appendFile(logPath(), frame.subarray(5, half));
    await sleep(80);
    expect(seen).toHaveLength(2);
    expect(await follower.headPosition()).toBe(2);

    await appendFile(logPath(), frame.subarray(half));
    await until(() => seen.length === 3);
    expect(seen[2]).toMatchObject({ id: event.id, globalPosition: 3, streamRevision: 2 });
  });

  it('does not serve or touch a torn tail, and follows the writer that cuts it and appends', async () => {
    const written = await writeEvents(3);
    const torn = aNewEvent('Torn');
    await appendFile(logPath(), frameAfter(3, [torn, aNewEvent('Torn')]).subarray(0, 40));
    const tornLog = await readFile(logPath());

    const follower = await openFollower();
    const { seen, subscription } = record(follower);
    await subscription.caughtUp;
    await sleep(100);
    expect(seen.map((event) => event.id)).toEqual(written.map((event) => event.id));
    expect((await readFile(logPath())).equals(tornLog)).toBe(true);

    const writer = await openWriter();
    expect(warnings).toEqual([expect.stringMatching(/^writer: .*partial record/)]);
    const next = [aNewEvent('After1'), aNewEvent('After2')];
    await writer.appendToStream('stream-a', [next[0]!]);
    await writer.appendToStream('stream-b', [next[1]!]);
    await until(() => seen.length === 5);
    await sleep(60);
    expect(seen.map((event) => [event.id, event.globalPosition])).toEqual(
      [...written, ...next].map((event, index) => [event.id, index + 1]),
    );
    expect(seen.some((event) => event.id === torn.id)).toBe(false);
    expect((await follower.readStream('stream-a')).events.map((event) => event.streamRevision)).toEqual([0, 1, 2, 3]);
    expect(warnings.filter((warning) => warning.startsWith('follower:'))).toEqual([]);
  });

  it('waits behind a whole record that fails its checksum, never past it, until a writer cuts it', async () => {
    const written = await writeEvents(2);
    const damaged = frameAfter(2, [aNewEvent('Damaged')]);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 3) ^ 0xff, damaged.length - 3);
    // A sound record after the damaged one: skipping ahead to it would leave a gap.
    await appendFile(logPath(), Buffer.concat([damaged, frameAfter(3, [aNewEvent('BehindDamage')])]));

    const follower = await openFollower();
    const { seen } = record(follower);
    await until(() => warnings.some((warning) => warning.includes('checksum mismatch')), 3000);
    expect(warnings).toEqual([expect.stringMatching(/^follower: .*checksum mismatch at byte \d+; nothing from there on is served/)]);
    expect(seen.map((event) => event.id)).toEqual(written.map((event) => event.id));

    const writer = await openWriter();
    const replacement = aNewEvent('Replacement');
    await writer.appendToStream('stream-a', [replacement]);
    await until(() => seen.length === 3);
    expect(seen[2]).toMatchObject({ id: replacement.id, globalPosition: 3, streamRevision: 2 });
  });

  it('reads a log the writer cut below a torn tail and grew past its old size', async () => {
    const written = await writeEvents(1);
    // A long torn record: after the cut, new records cover and pass the bytes it took.
    await appendFile(logPath(), frameAfter(1, [aNewEvent('Torn', { padding: 'x'.repeat(2000) })]).subarray(0, 1500));
    const follower = await openFollower();
    const { seen } = record(follower);
    await until(() => seen.length === 1);

    const writer = await openWriter();
    const next = Array.from({ length: 5 }, (_, n) => aNewEvent('After', { padding: 'y'.repeat(400), n }));
    for (const event of next) await writer.appendToStream('stream-a', [event]);
    await until(() => seen.length === 6);
    expect(seen.map((event) => [event.id, event.globalPosition])).toEqual([...written, ...next].map((event, index) => [event.id, index + 1]));
  });

  it('rejects a file that is not an event log', async () => {
    await writeFile(logPath(), 'not a log at all');
    await expect(openFollower()).rejects.toBeInstanceOf(LogFileFormatError);
  });

  it('refuses a verified record that does not follow its predecessor', async () => {
    await writeEvents(2);
    const follower = await openFollower();
    const { seen, subscription } = record(follower);
    await appendFile(logPath(), frameAfter(4, [aNewEvent()]));
    await expect(subscription.done).rejects.toBeInstanceOf(EventLogCorruptedError);
    expect(seen.map((event) => event.globalPosition)).toEqual([1, 2]);
    expect(warnings).toEqual([expect.stringMatching(/^follower: .*stopped: Event log record at position 5/)]);
    await expect(openFollower()).rejects.toBeInstanceOf(EventLogCorruptedError);
  });

  it('stops with EventLogReplacedError when the log shrinks below what it served', async () => {
    await writeEvents(3);
    const follower = await openFollower();
    const { seen, subscription } = record(follower);
    await truncate(logPath(), LOG_FILE_MAGIC.length);
    await expect(subscription.done).rejects.toBeInstanceOf(EventLogReplacedError);
    expect(seen).toHaveLength(3);
    // What it served stays readable.
    expect(await follower.headPosition()).toBe(3);
  });

  it('stops with EventLogReplacedError when the log is replaced by another file', async () => {
    await writeEvents(2);
    const follower = await openFollower();
    const { subscription } = record(follower);
    await writeFile(join(directory.path, 'other.log'), await readFile(logPath()));
    await rename(join(directory.path, 'other.log'), logPath());
    await expect(subscription.done).rejects.toThrow(/replaced by another file/);
  });

  it('stops polling and subscriptions on close', async () => {
    const writer = await openWriter();
    const follower = await openFollower();
    const { seen, subscription } = record(follower);
    await follower.close();
    await expect(subscription.done).resolves.toBeUndefined();
    await writer.appendToStream('stream-a', [aNewEvent()]);
    await sleep(60);
    expect(seen).toEqual([]);
    await expect(follower.readAll()).rejects.toBeInstanceOf(EventStoreClosedError);
    await expect(follower.headPosition()).rejects.toBeInstanceOf(EventStoreClosedError);
    await expect(follower.appendToStream('stream-a', [aNewEvent()])).rejects.toBeInstanceOf(EventStoreClosedError);
    expect(() => follower.subscribeToAll({}, () => undefined)).toThrow(EventStoreClosedError);
  });

  it('refuses a poll interval that is not a positive number', async () => {
    await expect(openFollower({ pollIntervalMs: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
