import { InMemoryEventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { InMemoryTreeStore, TransparencyLog } from '@flagline/transparency';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVerify } from './main';

const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'c' };
const exportLine = (event: RecordedEvent): string =>
  `${JSON.stringify({ position: event.globalPosition, id: event.id, type: event.type, streamName: event.streamName, streamRevision: event.streamRevision, data: event.data, metadata: event.metadata, recordedAt: event.recordedAt })}\n`;

/** A server answering every inclusion proof with the given status and body. */
async function answering(status: number, body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('verify CLI', () => {
  const files = mkdtempSync(join(tmpdir(), 'flagline-verify-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  let transparency: TransparencyLog;
  let events: readonly RecordedEvent[];

  beforeAll(async () => {
    const log = new InMemoryEventStore();
    transparency = new TransparencyLog(log, new InMemoryTreeStore(), { signingKey: privateKey, flushDelayMs: 0 });
    await transparency.start();
    for (let n = 0; n < 6; n++) {
      await log.appendToStream(`thing-${n % 2}`, [{ id: `event-${n}`, type: 'ThingHappened', data: { n }, metadata }]);
      // The head the export is checked against, signed when the tree had 4 leaves.
      if (n === 3) {
        await transparency.progress.waitFor(4, 2000);
        writeFileSync(join(files, 'head.json'), JSON.stringify(await transparency.treeHead()));
      }
    }
    await transparency.progress.waitFor(6, 2000);
    events = await log.readAll();
    writeFileSync(join(files, 'key.pem'), publicKey.export({ format: 'pem', type: 'spki' }).toString());
    writeFileSync(join(files, 'mine.ndjson'), events.filter((event) => event.streamName === 'thing-0').map(exportLine).join(''));
  });

  afterAll(async () => {
    await transparency.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('fetch-proofs reports the message of a 400 on another field than treeSize', async () => {
    const { server, url } = await answering(400, JSON.stringify({ statusCode: 400, message: 'position must be a positive integer', errors: [{ field: 'position', message: 'must be a positive integer' }] }));
    try {
      const result = await runVerify(['fetch-proofs', join(files, 'mine.ndjson'), '--tree-head', join(files, 'head.json'), '--server', url, '--api-key', 'k', '--out', join(files, 'proofs.ndjson')]);
      expect(result).toMatchObject({ code: 1, message: expect.stringContaining('position must be a positive integer') as unknown });
    } finally {
      server.close();
    }
  });

  it('checks a partial export with proofs: lines after the head fail it unless --allow-lines-after-head', async () => {
    // Lines at positions 1, 3, 5 of a head of 4 leaves: the last is after the head and has no proof.
    const proofs = events
      .filter((event) => event.streamName === 'thing-0' && event.globalPosition <= 4)
      .map((event) => `${JSON.stringify(transparency.inclusionProof(event.globalPosition - 1, 4))}\n`);
    writeFileSync(join(files, 'proofs.ndjson'), proofs.join(''));
    const verify = ['export', join(files, 'mine.ndjson'), '--tree-head', join(files, 'head.json'), '--public-key', join(files, 'key.pem'), '--inclusion-proofs', join(files, 'proofs.ndjson')];
    expect(await runVerify(verify)).toMatchObject({ code: 1, verdict: { verified: false, firstBad: { position: 5 } } });
    expect(await runVerify([...verify, '--allow-lines-after-head'])).toMatchObject({ code: 0, verdict: { verified: true, lines: 2 } });
  });
});
