import { canonicalEventBytes, type EventStore, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { InMemoryTreeStore } from '../lib/in-memory-tree.store';
import type { TransparencyTreeStore } from '../lib/tree-store.port';
import { TransparencyLog } from '../lib/transparency-log';
import { rfcLeaf, rfcMth, rfcRootFromPath, rfcVerifyConsistency } from './rfc6962-reference';

export interface FollowerHarness {
  /** A log to follow, shared by the tests of the suite (it may already hold events of other tests). */
  readonly log: EventStore;
  dispose(): Promise<void>;
}

const metadata = { actor: { kind: 'system' as const, id: 'transparency-contract' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'contract' };
const newEvent = (n: number): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: { n, text: `event ${n}` }, metadata });

async function everything(log: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after = 0; ; ) {
    const page = await log.readAll({ after, maxCount: 500 });
    const last = page[page.length - 1];
    if (!last) return events;
    events.push(...page);
    after = last.globalPosition;
  }
}

/**
 * The tree over a real log (embedded, EventStoreDB): one leaf per event in the log's order, whatever
 * its positions (EventStoreDB's `$all` positions are not dense), with roots and proofs that an RFC
 * 6962 implementation of the tests' own verifies, and a follower that resumes where it stopped.
 */
export function describeTransparencyFollowerContract(adapterName: string, factory: () => Promise<FollowerHarness>): void {
  describe(`Transparency follower contract: ${adapterName}`, () => {
    let harness: FollowerHarness;
    const { privateKey } = generateKeyPairSync('ed25519');

    beforeAll(async () => {
      harness = await factory();
    }, 180_000);
    afterAll(() => harness?.dispose());

    it('keeps one leaf per stored event in log order, proofs verifying, and resumes after a restart', async () => {
      const stream = `transparency-${randomUUID().replace(/-/g, '')}`;
      for (let n = 0; n < 12; n++) await harness.log.appendToStream(stream, [newEvent(n)]);
      await harness.log.appendToStream(`${stream}-b`, [newEvent(100), newEvent(101), newEvent(102)]);
      const tree: TransparencyTreeStore = new InMemoryTreeStore();
      const first = new TransparencyLog(harness.log, tree, { signingKey: privateKey, batchSize: 5 });
      await first.start();
      await first.progress.waitFor(await harness.log.headPosition(), 10_000);
      await first.stop();
      const sizeBefore = tree.size;

      await harness.log.appendToStream(stream, [newEvent(12), newEvent(13)]);
      const second = new TransparencyLog(harness.log, tree, { signingKey: privateKey });
      await second.start();
      expect(second.mismatch).toBeNull();
      await second.progress.waitFor(await harness.log.headPosition(), 10_000);

      const events = await everything(harness.log);
      expect(tree.size).toBe(events.length);
      expect(tree.size).toBe(sizeBefore + 2);
      events.forEach((event, index) => expect(tree.leaf(index)).toMatchObject({ index, position: event.globalPosition, eventId: event.id }));
      const leaves = events.map((event) => rfcLeaf(canonicalEventBytes(event)));
      const head = await second.treeHead();
      expect(head.rootHash).toBe(rfcMth(leaves).toString('hex'));
      const last = events[events.length - 1] as RecordedEvent;
      const leaf = second.leafOf({ position: last.globalPosition });
      const proof = second.inclusionProof(leaf?.index ?? -1, head.treeSize);
      expect(rfcRootFromPath(proof.leafIndex, head.treeSize, leaves[proof.leafIndex] as Buffer, proof.auditPath.map((hash) => Buffer.from(hash, 'hex')))?.toString('hex')).toBe(head.rootHash);
      const consistency = second.consistencyProof(sizeBefore, head.treeSize);
      expect(rfcVerifyConsistency(sizeBefore, head.treeSize, rfcMth(leaves.slice(0, sizeBefore)), rfcMth(leaves), consistency.proof.map((hash) => Buffer.from(hash, 'hex')))).toBe(true);
      await second.stop();
    }, 60_000);
  });
}
