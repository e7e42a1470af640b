import { EmbeddedEventStore, EVENT_LOG_FILE_NAME, EventLogCorruptedError, LogTail } from '@flagline/event-store-embedded';
import { rfcLeaf, rfcMth, rfcRootFromPath } from '@flagline/transparency/testing';
import { TransparencyLog } from '@flagline/transparency';
import { canonicalEventBytes, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { loadSigningKey } from './signing-key';
import { SqliteTreeStore, TRANSPARENCY_FILE_NAME } from './sqlite-tree.store';
import { startTransparency } from './start-transparency';
import { workerLeafWriter } from './worker-leaf-writer';

const metadata = { actor: { kind: 'system' as const, id: 'worker-follower-spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'spec' };
const newEvent = (n: number): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: { n, text: `event ${n}` }, metadata });

async function everything(log: EmbeddedEventStore): Promise<RecordedEvent[]> {
  return [...(await log.readAll({ after: 0, maxCount: 100_000 }))];
}

/** `count` events in records of one, appended `inParallel` at a time (group commits). */
async function appendMany(log: EmbeddedEventStore, from: number, count: number, inParallel = 500): Promise<void> {
  for (let done = 0; done < count; done += inParallel) {
    await Promise.all(Array.from({ length: Math.min(inParallel, count - done) }, (_, k) => log.appendToStream(`many-${from + done + k}`, [newEvent(from + done + k)])));
  }
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

describe('the Merkle tree worker thread while it catches up, and when it dies', () => {
  let dataDir: string;
  const directory = (): string => join(dataDir, 'events');
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'flagline-worker-tree-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** The tree over `log` with its leaves written by `workerLeafWriter`, its threads and log lines kept. */
  const follow = (log: EmbeddedEventStore) => {
    const treePath = join(dataDir, TRANSPARENCY_FILE_NAME);
    const tree = SqliteTreeStore.open(treePath);
    const lines: string[] = [];
    const workers: Worker[] = [];
    const transparency = new TransparencyLog(log, tree, {
      signingKey: loadSigningKey({ dataDir }).key,
      leafWriter: workerLeafWriter(treePath, directory(), (after) => log.tailStart(after), { log: (line) => lines.push(line), onWorker: (worker) => workers.push(worker), restartDelayMs: 20 }),
    });
    return {
      transparency,
      lines,
      workers,
      close: async () => {
        await transparency.stop();
        tree.close();
      },
    };
  };

  it('answers, during a long catch-up, only leaves of the tree it knows, with proofs that verify, and moves slice by slice', async () => {
    const log = await EmbeddedEventStore.open({ directory: directory() });
    await appendMany(log, 0, 12_000);
    const events = await everything(log);
    const hashes = events.map((event) => rfcLeaf(canonicalEventBytes(event)));
    const { transparency, close } = follow(log);
    await transparency.start();
    // An event of the first slice, and events the worker writes in its last slices: looked up (by id and by position) while it writes the first ones.
    const targets = [events[1000], events[events.length - 1500], events[events.length - 1]] as RecordedEvent[];
    const sizesSeen = new Set<number>();
    let proofs = 0;
    while (transparency.size < events.length) {
      const size = transparency.size;
      sizesSeen.add(size);
      for (const target of targets) {
        for (const leaf of [transparency.leafOf({ eventId: target.id }), transparency.leafOf({ position: target.globalPosition })]) {
          if (!leaf) continue;
          expect(leaf.index).toBeLessThan(size);
          const proof = transparency.inclusionProof(leaf.index, size);
          const root = rfcRootFromPath(leaf.index, size, hashes[leaf.index] as Buffer, proof.auditPath.map((hash) => Buffer.from(hash, 'hex')));
          expect(root?.toString('hex')).toBe(rfcMth(hashes.slice(0, size)).toString('hex'));
          proofs++;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // 12,000 leaves in slices of 2,000: the tree as known moved through sizes between 0 and the end, not in one step.
    expect([...sizesSeen].filter((size) => size > 0 && size < events.length).length).toBeGreaterThanOrEqual(2);
    await transparency.progress.waitFor(events.length, 10_000);
    expect(transparency.leafOf({ eventId: (targets[1] as RecordedEvent).id })?.index).toBe(events.length - 1500);
    // The first slice's event was proved in each size seen between.
    expect(proofs).toBeGreaterThanOrEqual(4);
    await close();
    await log.close();
  }, 60_000);

  it('starts a thread that died again: the tree reaches the log head and a head is signed over it', async () => {
    const log = await EmbeddedEventStore.open({ directory: directory() });
    await appendMany(log, 0, 3_000);
    const { transparency, lines, workers, close } = follow(log);
    await transparency.start();
    // Ended while it has the first writes to do, then more events arrive.
    await (workers[0] as Worker).terminate();
    await appendMany(log, 3_000, 1_000);
    const head = await log.headPosition();
    await transparency.progress.waitFor(head, 20_000);
    const events = await everything(log);
    expect(transparency.size).toBe(events.length);
    expect(transparency.rootHash(events.length)).toBe(rfcMth(events.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    const signed = await transparency.treeHead();
    expect(signed.treeSize).toBe(events.length);
    expect(workers.length).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/follower thread exited .*starting it again in 20 ms, from position \d+ \(restart 1\)/);
    // Ended again once it had written: the next one resumes where the tree is, and the log grows on.
    await (workers[1] as Worker).terminate();
    await appendMany(log, 4_000, 50);
    await transparency.progress.waitFor(await log.headPosition(), 20_000);
    const after = await everything(log);
    expect(transparency.size).toBe(after.length);
    expect(transparency.rootHash(after.length)).toBe(rfcMth(after.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    expect(lines).toHaveLength(2);
    await close();
    await log.close();
  }, 60_000);
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
