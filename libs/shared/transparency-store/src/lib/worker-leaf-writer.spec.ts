import { EmbeddedEventStore, EVENT_LOG_FILE_NAME, EventLogCorruptedError, LogTail } from '@flagline/event-store-embedded';
import { rfcLeaf, rfcMth } from '@flagline/transparency/testing';
import { canonicalEventBytes, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTransparency } from './start-transparency';

const metadata = { actor: { kind: 'system' as const, id: 'worker-follower-spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'spec' };
const newEvent = (n: number): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: { n, text: `event ${n}` }, metadata });

async function everything(log: EmbeddedEventStore): Promise<RecordedEvent[]> {
  return [...(await log.readAll({ after: 0, maxCount: 10_000 }))];
}

describe('the Merkle tree written by a worker thread reading the embedded log', () => {
  let dataDir: string;
  const directory = (): string => join(dataDir, 'events');
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'flagline-worker-tree-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = (log: EmbeddedEventStore) =>
    startTransparency(log, { dataDir, log: () => undefined, embeddedLog: { directory: directory(), tailStart: (after) => log.tailStart(after) } });

  it('holds one leaf per event in log order, with the root of the RFC, and resumes inside a record of several events', async () => {
    let log = await EmbeddedEventStore.open({ directory: directory() });
    // Records of one event and of several, in several streams, some appended at once (one group commit).
    await Promise.all(Array.from({ length: 20 }, (_, n) => log.appendToStream(`thing-${n % 3}`, [newEvent(n)])));
    await log.appendToStream('batch-a', [newEvent(100), newEvent(101), newEvent(102)]);
    let { transparency, close } = start(log);
    await transparency.start();
    await transparency.progress.waitFor(await log.headPosition(), 10_000);
    let events = await everything(log);
    expect(transparency.size).toBe(events.length);
    expect(transparency.rootHash(events.length)).toBe(rfcMth(events.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    // The leaf of an event the worker wrote is found by the main thread's connection, by position and by id.
    const third = events[2] as RecordedEvent;
    expect(transparency.leafOf({ position: third.globalPosition })?.hash.toString('hex')).toBe(rfcLeaf(canonicalEventBytes(third)).toString('hex'));
    expect(transparency.leafOf({ eventId: third.id })?.index).toBe(2);
    await close();
    await log.close();

    // Stopped after a record of three events: the next start reads from that record and skips what the tree holds.
    log = await EmbeddedEventStore.open({ directory: directory() });
    await log.appendToStream('batch-b', [newEvent(200), newEvent(201)]);
    for (let n = 0; n < 5; n++) await log.appendToStream('thing-0', [newEvent(300 + n)], { expectedRevision: 'any' });
    ({ transparency, close } = start(log));
    await transparency.start();
    expect(transparency.mismatch).toBeNull();
    await transparency.progress.waitFor(await log.headPosition(), 10_000);
    events = await everything(log);
    expect(transparency.size).toBe(events.length);
    expect(transparency.rootHash(events.length)).toBe(rfcMth(events.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    const head = await transparency.treeHead();
    expect(head.treeSize).toBe(events.length);
    await close();
    await log.close();
  });

  it('makes every event delivered before the stop a leaf, and the tree is whole after a restart', async () => {
    let log = await EmbeddedEventStore.open({ directory: directory() });
    let { transparency, close } = start(log);
    await transparency.start();
    await Promise.all(Array.from({ length: 50 }, (_, n) => log.appendToStream(`burst-${n}`, [newEvent(n)])));
    // Stopped while the writer waits for more (up to 20 ms): what was delivered is written, the rest on the next start.
    await close();
    await log.close();
    log = await EmbeddedEventStore.open({ directory: directory() });
    ({ transparency, close } = start(log));
    await transparency.start();
    expect(transparency.mismatch).toBeNull();
    await transparency.progress.waitFor(await log.headPosition(), 10_000);
    const events = await everything(log);
    expect(transparency.size).toBe(50);
    expect(transparency.rootHash(50)).toBe(rfcMth(events.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    await close();
    await log.close();
  });
});

describe('LogTail', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-log-tail-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('reads whole records up to a position, and after a damaged record fails again from the same place', async () => {
    const log = await EmbeddedEventStore.open({ directory });
    await log.appendToStream('a', [newEvent(0), newEvent(1)]);
    await log.appendToStream('b', [newEvent(2)]);
    await log.appendToStream('c', [newEvent(3)]);
    const start = log.tailStart(0);
    await log.close();
    const tail = await LogTail.open(directory, start);
    // Position 1 is in a record of two events: both are read.
    expect((await tail.readTo(1)).map((event) => event.globalPosition)).toEqual([1, 2]);
    // A byte of the next record's payload changed: its checksum fails, every time, and nothing is consumed.
    const path = join(directory, EVENT_LOG_FILE_NAME);
    const fd = openSync(path, 'r+');
    const size = 64;
    const tailBytes = Buffer.alloc(size);
    const fileSize = statSync(path).size;
    readSync(fd, tailBytes, 0, size, fileSize - size);
    tailBytes[size - 10] = (tailBytes[size - 10] as number) ^ 0xff;
    writeSync(fd, tailBytes, 0, size, fileSize - size);
    closeSync(fd);
    const fresh = await LogTail.open(directory, start);
    expect((await fresh.readTo(3)).map((event) => event.globalPosition)).toEqual([1, 2, 3]);
    await expect(fresh.readTo(4)).rejects.toThrow(EventLogCorruptedError);
    await expect(fresh.readTo(4)).rejects.toThrow(/checksum/);
    expect(fresh.lastPosition).toBe(3);
    await fresh.close();
    await tail.close();
  });
});
