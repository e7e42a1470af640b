import { InMemoryEventStore, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { generateKeyPairSync } from 'node:crypto';
import { exportLeaf, verifyExportWithProofs, verifyFullExport, verifyHeadsConsistent, type ExportLine, type LineProof } from './export-verifier';
import { InMemoryTreeStore } from './in-memory-tree.store';
import { TransparencyLog } from './transparency-log';

const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'c' };
const lineOf = (event: RecordedEvent): ExportLine => ({ position: event.globalPosition, id: event.id, type: event.type, streamName: event.streamName, streamRevision: event.streamRevision, data: event.data, metadata: event.metadata, recordedAt: event.recordedAt });

describe('export verifier', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  let transparency: TransparencyLog;
  let lines: ExportLine[];

  beforeAll(async () => {
    const log = new InMemoryEventStore();
    transparency = new TransparencyLog(log, new InMemoryTreeStore(), { signingKey: privateKey, flushDelayMs: 0 });
    await transparency.start();
    for (let n = 0; n < 37; n++) {
      await log.appendToStream(`thing-${n % 4}`, [{ id: `event-${n}`, type: 'ThingHappened', data: { n }, metadata } satisfies NewEvent]);
      // Heads of earlier sizes are signed when the tree has them (never after the fact).
      if ([11, 12, 20].includes(n + 1)) {
        await transparency.progress.waitFor(n + 1, 2000);
        await transparency.treeHead();
      }
    }
    await transparency.progress.waitFor(37, 2000);
    lines = (await log.readAll()).map(lineOf);
  });
  afterAll(() => transparency.stop());

  const consistency = (first: number, second: number) => Promise.resolve(transparency.consistencyProof(first, second).proof);

  it('verifies a full export against a head of the same or a smaller size', async () => {
    expect(await verifyFullExport(lines.map(exportLeaf), await transparency.treeHead(), publicKey)).toMatchObject({ verified: true, treeSize: 37 });
    expect(await verifyFullExport(lines.map(exportLeaf), await transparency.treeHead(20), publicKey)).toMatchObject({ verified: true, treeSize: 20 });
  });

  it('locates the first event that does not verify, wherever it is', async () => {
    const head = await transparency.treeHead();
    for (const bad of [0, 1, 16, 17, 30, 36]) {
      const edited = lines.map((line, index) => (index === bad ? { ...line, data: { n: -1 } } : line));
      expect(await verifyFullExport(edited.map(exportLeaf), head, publicKey, consistency)).toMatchObject({ verified: false, firstBad: { leafIndex: bad, position: bad + 1, id: `event-${bad}` } });
      // Later lines changed too: still the first is named.
      const more = edited.map((line, index) => (index > bad + 2 ? { ...line, type: 'Edited' } : line));
      expect(await verifyFullExport(more.map(exportLeaf), head, publicKey, consistency)).toMatchObject({ firstBad: { leafIndex: bad } });
    }
    expect(await verifyFullExport(lines.slice(0, 30).map(exportLeaf), head, publicKey, consistency)).toMatchObject({ verified: false, firstBad: { leafIndex: 30, afterPosition: 30 } });
    expect(await verifyFullExport(lines.slice(0, 30).map(exportLeaf), head, publicKey)).toMatchObject({ verified: false, message: expect.stringMatching(/30 events of the tree head's 37/) as unknown });
  });

  it('refuses a head whose signature does not verify', async () => {
    const head = await transparency.treeHead();
    expect(await verifyFullExport(lines.map(exportLeaf), { ...head, timestamp: head.timestamp + 1 }, publicKey)).toMatchObject({ verified: false, message: expect.stringMatching(/signature/) as unknown });
    expect(await verifyFullExport(lines.map(exportLeaf), head, generateKeyPairSync('ed25519').publicKey)).toMatchObject({ verified: false });
  });

  it('checks part of the log line by line against inclusion proofs', async () => {
    const head = await transparency.treeHead();
    const part = lines.filter((line) => line.streamName === 'thing-1');
    const proofs = new Map<number, LineProof>(part.map((line) => [line.position, transparency.inclusionProof(line.position - 1, head.treeSize)]));
    expect(verifyExportWithProofs(part.map(exportLeaf), head, publicKey, proofs)).toMatchObject({ verified: true, lines: part.length });
    const edited = part.map((line, index) => (index === 3 ? { ...line, recordedAt: '2000-01-01T00:00:00.000Z' } : line));
    expect(verifyExportWithProofs(edited.map(exportLeaf), head, publicKey, proofs)).toMatchObject({ verified: false, firstBad: { position: (part[3] as ExportLine).position } });
    const tail = new Map(proofs);
    tail.delete((part[part.length - 1] as ExportLine).position);
    expect(verifyExportWithProofs(part.map(exportLeaf), head, publicKey, tail, { allowLinesAfterHead: true })).toMatchObject({ verified: true, lines: part.length - 1, message: expect.stringMatching(/last 1 lines have no proof/) as unknown });
    // Without the option, a line without a proof is not verified, wherever it is.
    expect(verifyExportWithProofs(part.map(exportLeaf), head, publicKey, tail)).toMatchObject({ verified: false, firstBad: { position: (part[part.length - 1] as ExportLine).position } });
    const withoutOne = new Map(proofs);
    withoutOne.delete((part[2] as ExportLine).position);
    expect(verifyExportWithProofs(part.map(exportLeaf), head, publicKey, withoutOne)).toMatchObject({ verified: false, firstBad: { position: (part[2] as ExportLine).position } });
  });

  it('refuses a partial export whose lines are repeated or out of log order, though each line has its proof', async () => {
    const head = await transparency.treeHead();
    const part = lines.filter((line) => line.streamName === 'thing-2');
    const proofs = new Map<number, LineProof>(part.map((line) => [line.position, transparency.inclusionProof(line.position - 1, head.treeSize)]));
    const repeated = [...part.slice(0, 3), part[2] as ExportLine, ...part.slice(3)];
    expect(verifyExportWithProofs(repeated.map(exportLeaf), head, publicKey, proofs)).toMatchObject({ verified: false, firstBad: { position: (part[2] as ExportLine).position }, message: expect.stringMatching(/in log order, each once/) as unknown });
    const swapped = [...part];
    [swapped[1], swapped[4]] = [part[4] as ExportLine, part[1] as ExportLine];
    // Lines 0, 4, 2, 3, 1: the first line whose leaf is not after the previous one's is the third.
    expect(verifyExportWithProofs(swapped.map(exportLeaf), head, publicKey, proofs)).toMatchObject({ verified: false, firstBad: { position: (part[2] as ExportLine).position } });
    // A proof answered for another position than the line's does not stand for it.
    const misfiled = new Map(proofs).set((part[0] as ExportLine).position, proofs.get((part[1] as ExportLine).position) as LineProof);
    expect(verifyExportWithProofs(part.map(exportLeaf), head, publicKey, misfiled)).toMatchObject({ verified: false });
  });

  it('checks that a later head extends an earlier one', async () => {
    const earlier = await transparency.treeHead(11);
    const later = await transparency.treeHead();
    const proof = transparency.consistencyProof(11, 37).proof;
    expect(verifyHeadsConsistent(earlier, later, publicKey, proof)).toMatchObject({ verified: true });
    expect(verifyHeadsConsistent(await transparency.treeHead(12), later, publicKey, proof)).toMatchObject({ verified: false });
    expect(verifyHeadsConsistent(later, earlier, publicKey, proof)).toMatchObject({ verified: false });
  });
});
