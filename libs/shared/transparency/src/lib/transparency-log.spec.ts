import { canonicalEventBytes, InMemoryEventStore, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { generateKeyPairSync } from 'node:crypto';
import { InMemoryTreeStore } from './in-memory-tree.store';
import { hashLeaf, verifyConsistency, verifyInclusion } from './merkle';
import { verifyTreeHead } from './signed-tree-head';
import { describeTransparencyFollowerContract } from '../testing/transparency-follower.contract';
import { BUSY_WRITE_LEAVES, eventLeafHash, LogMismatchError, TransparencyLog, TreeHeadNotSignedError, TreeRangeError } from './transparency-log';

const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'c' };
const event = (n: number, data: NewEvent['data'] = { n }): NewEvent => ({ id: `event-${n}`, type: 'ThingHappened', data, metadata });
const fixedClock = () => new Date('2026-12-06T01:02:03.000Z');

/** A log of `count` events, one per stream `thing-<n mod 3>`, recorded at a fixed time so two logs of the same events hash alike. */
async function logOf(events: readonly NewEvent[]): Promise<InMemoryEventStore> {
  const log = new InMemoryEventStore(fixedClock);
  for (const [offset, next] of events.entries()) await log.appendToStream(`thing-${offset % 3}`, [next]);
  return log;
}
const events = (count: number): NewEvent[] => Array.from({ length: count }, (_, n) => event(n + 1));

describe('TransparencyLog', () => {
  const { privateKey } = generateKeyPairSync('ed25519');

  it('follows the log as stored, one leaf per event in log order, in batches, and signs tree heads over it', async () => {
    const log = await logOf(events(10));
    const tree = new InMemoryTreeStore();
    const transparency = new TransparencyLog(log, tree, { signingKey: privateKey, batchSize: 4, clock: () => 1_000 });
    await transparency.start();
    await transparency.progress.waitFor(10, 2000);
    const earlier = await transparency.treeHead();
    for (let more = 11; more <= 25; more++) await log.appendToStream('thing-x', [event(more)]);
    await transparency.progress.waitFor(25, 2000);
    expect(transparency.size).toBe(25);
    const stored = await log.readAll();
    stored.forEach((recorded, index) => {
      expect(tree.leaf(index)).toEqual({ index, position: recorded.globalPosition, eventId: recorded.id, hash: hashLeaf(canonicalEventBytes(recorded)) });
    });

    const head = await transparency.treeHead();
    expect(head.treeSize).toBe(25);
    expect(verifyTreeHead(transparency.publicKey, head)).toBe(true);
    expect(await transparency.treeHead()).toEqual(head);
    // An earlier size is answered with the head signed then; none is signed after the fact.
    expect(earlier.treeSize).toBe(10);
    expect(await transparency.treeHead(10)).toEqual(earlier);
    await expect(transparency.treeHead(7)).rejects.toThrow(TreeHeadNotSignedError);

    const leaf = transparency.leafOf({ eventId: 'event-5' });
    const proof = transparency.inclusionProof(leaf?.index ?? -1, 25);
    expect(proof.position).toBe(5);
    expect(verifyInclusion(proof.leafIndex, 25, eventLeafHash(stored[4] as RecordedEvent), proof.auditPath.map((hash) => Buffer.from(hash, 'hex')), Buffer.from(head.rootHash, 'hex'))).toBe(true);
    const consistency = transparency.consistencyProof(10, 25);
    expect(verifyConsistency(10, 25, Buffer.from(earlier.rootHash, 'hex'), Buffer.from(head.rootHash, 'hex'), consistency.proof.map((hash) => Buffer.from(hash, 'hex')))).toBe(true);
    await transparency.stop();
  });

  it('gathers the events that arrive within the flush delay into one write of the tree, and writes a full batch at once', async () => {
    const log = await logOf([]);
    const tree = new InMemoryTreeStore();
    const appends: number[] = [];
    const append = tree.append.bind(tree);
    tree.append = (leaves, nodes) => {
      appends.push(leaves.length);
      append(leaves, nodes);
    };
    const transparency = new TransparencyLog(log, tree, { signingKey: privateKey, batchSize: 8, flushDelayMs: 200 });
    await transparency.start();
    for (let n = 1; n <= 5; n++) {
      await log.appendToStream('thing-x', [event(n)]);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Turns of the event loop went by, but not the delay: nothing written yet.
    expect(appends).toEqual([]);
    await transparency.progress.waitFor(5, 2000);
    expect(appends).toEqual([5]);
    // A full batch is written without waiting for the delay.
    await log.appendToStream('thing-y', events(8).map((next, offset) => ({ ...next, id: `full-${offset}` })));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(appends).toEqual([5, 8]);
    expect(transparency.size).toBe(13);
    await transparency.stop();
  });

  it('with a leaf writer, waits the busy delay after a write of many events, and the flush delay again after a write of few', async () => {
    const log = await logOf([]);
    const writes: { at: number; from: number; to: number }[] = [];
    const transparency = new TransparencyLog(log, new InMemoryTreeStore(), {
      signingKey: privateKey,
      flushDelayMs: 10,
      busyFlushDelayMs: 500,
      // Takes every event asked for as written at once.
      leafWriter: (after) => {
        let end = after;
        return {
          writeTo: (position) => {
            writes.push({ at: performance.now(), from: end, to: position });
            end = position;
            return Promise.resolve(position);
          },
          close: () => Promise.resolve(),
        };
      },
    });
    await transparency.start();
    const appended = (count: number, prefix: string) => log.appendToStream('thing-x', events(count).map((next, offset) => ({ ...next, id: `${prefix}-${offset}` })));
    const startedAt = performance.now();
    await appended(BUSY_WRITE_LEAVES, 'busy');
    await transparency.progress.waitFor(BUSY_WRITE_LEAVES, 2000);
    await appended(1, 'after-busy');
    await transparency.progress.waitFor(BUSY_WRITE_LEAVES + 1, 2000);
    await appended(1, 'after-quiet');
    await transparency.progress.waitFor(BUSY_WRITE_LEAVES + 2, 2000);
    expect(writes.map(({ from, to }) => to - from)).toEqual([BUSY_WRITE_LEAVES, 1, 1]);
    const [busy, afterBusy, afterQuiet] = writes.map((write) => write.at) as [number, number, number];
    expect(busy - startedAt).toBeLessThan(400);
    expect(afterBusy - busy).toBeGreaterThanOrEqual(450);
    expect(afterQuiet - afterBusy).toBeLessThan(400);
    await transparency.stop();
  });

  it('names bad sizes and leaves', async () => {
    const transparency = new TransparencyLog(await logOf(events(3)), new InMemoryTreeStore(), { signingKey: privateKey });
    await transparency.start();
    await transparency.progress.waitFor(3, 2000);
    await expect(transparency.treeHead(4)).rejects.toThrow(TreeRangeError);
    expect(() => transparency.inclusionProof(2, 2)).toThrow(/not in a tree of 2 leaves/);
    expect(() => transparency.inclusionProof(5, 3)).toThrow(TreeRangeError);
    expect(() => transparency.consistencyProof(3, 2)).toThrow(/must not exceed/);
    expect(() => transparency.consistencyProof(1, 9)).toThrow(/exceeds the tree's 3 leaves/);
    expect(transparency.leafOf({ position: 99 })).toBeUndefined();
    await transparency.stop();
  });

  describe('at start, finds the first place where the log no longer holds what the tree recorded', () => {
    async function treeOver(original: readonly NewEvent[]): Promise<InMemoryTreeStore> {
      const tree = new InMemoryTreeStore();
      const transparency = new TransparencyLog(await logOf(original), tree, { signingKey: privateKey, batchSize: 3 });
      await transparency.start();
      await transparency.progress.waitFor(original.length, 2000);
      await transparency.stop();
      return tree;
    }

    async function checkAgainst(tree: InMemoryTreeStore, tampered: readonly NewEvent[]) {
      const reported: unknown[] = [];
      const transparency = new TransparencyLog(await logOf(tampered), tree, { signingKey: privateKey, batchSize: 3, onMismatch: (mismatch) => reported.push(mismatch) });
      await transparency.start();
      await expect(transparency.treeHead()).rejects.toThrow(LogMismatchError);
      await transparency.stop();
      expect(reported).toEqual([transparency.mismatch]);
      return transparency.mismatch;
    }

    it('a changed event', async () => {
      const original = events(8);
      const tree = await treeOver(original);
      const tampered = original.map((next, index) => (index === 5 ? { ...next, data: { n: 666 } } : next));
      expect(await checkAgainst(tree, tampered)).toMatchObject({ kind: 'changed', leafIndex: 5, position: 6, eventId: 'event-6' });
    });

    it('two events swapped', async () => {
      const original = events(8);
      const tree = await treeOver(original);
      const tampered = [...original];
      [tampered[3], tampered[4]] = [original[4] as NewEvent, original[3] as NewEvent];
      expect(await checkAgainst(tree, tampered)).toMatchObject({ kind: 'replaced', leafIndex: 3, position: 4, eventId: 'event-4', foundEventId: 'event-5' });
    });

    it('a dropped event', async () => {
      const original = events(8);
      const tree = await treeOver(original);
      expect(await checkAgainst(tree, original.filter((_, index) => index !== 2))).toMatchObject({ kind: 'replaced', position: 3, eventId: 'event-3', foundEventId: 'event-4' });
    });

    it('a truncated log', async () => {
      const original = events(8);
      const tree = await treeOver(original);
      expect(await checkAgainst(tree, original.slice(0, 6))).toMatchObject({ kind: 'missing', leafIndex: 6, position: 7, eventId: 'event-7' });
    });

    it('and an intact log resumes from the persisted size', async () => {
      const original = events(8);
      const tree = await treeOver(original);
      const log = await logOf([...original, ...events(12).slice(8)]);
      const transparency = new TransparencyLog(log, tree, { signingKey: privateKey });
      await transparency.start();
      await transparency.progress.waitFor(12, 2000);
      expect(transparency.mismatch).toBeNull();
      expect(tree.leaves(0, 20).map((leaf) => leaf.eventId)).toEqual(events(12).map((next) => next.id));
      await transparency.stop();
    });
  });
});

describeTransparencyFollowerContract('in-memory event store', () => Promise.resolve({ log: new InMemoryEventStore(), dispose: () => Promise.resolve() }));

describe('TransparencyLog start-up check progress', () => {
  it('reports how far it got, and is done once the log was compared', async () => {
    const log = new InMemoryEventStore();
    for (let n = 1; n <= 30; n++) await log.appendToStream('thing-a', [event(n)]);
    const tree = new InMemoryTreeStore();
    const { privateKey } = generateKeyPairSync('ed25519');
    const first = new TransparencyLog(log, tree, { signingKey: privateKey });
    await first.start();
    await first.progress.waitFor(30, 2000);
    await first.stop();
    const second = new TransparencyLog(log, tree, { signingKey: privateKey, batchSize: 2 });
    expect(second.check).toEqual({ done: false, checked: 0, of: 30 });
    await second.start();
    expect(second.check).toEqual({ done: true, checked: 30, of: 30 });
    await second.stop();
  });
});
