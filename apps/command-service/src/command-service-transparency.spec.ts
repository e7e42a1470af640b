import { canonicalEventBytes, type RecordedEvent } from '@flagline/event-sourcing';
import { rfcLeaf, rfcMth } from '@flagline/transparency/testing';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService, type RunningCommandService } from './command-service';

const ADMIN_KEY = 'command-service-transparency-key';

async function get(service: RunningCommandService, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/admin/v1${path}`, { headers: { Authorization: `Api-Key ${ADMIN_KEY}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Command service: the log’s Merkle tree', () => {
  let dataDir: string;
  const logger = pino({ level: 'silent' });
  const config = () => loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });

  beforeAll(() => (dataDir = mkdtempSync(join(tmpdir(), 'command-service-transparency-'))));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps the tree in TRANSPARENCY_DIR, else DATA_DIR or CATALOG_DIR, else nowhere lasting', () => {
    const base = { ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', EVENTSTORE_CONNECTION_STRING: 'kurrentdb://localhost:2113?tls=false' };
    expect(loadCommandServiceConfig(base).transparencyDir).toBeNull();
    expect(loadCommandServiceConfig({ ...base, CATALOG_DIR: '/var/cache/flagline' }).transparencyDir).toBe('/var/cache/flagline');
    expect(loadCommandServiceConfig({ ...base, CATALOG_DIR: '/var/cache/flagline', TRANSPARENCY_DIR: '/var/lib/tree' }).transparencyDir).toBe('/var/lib/tree');
    expect(loadCommandServiceConfig({ ...base, TRANSPARENCY_SIGNING_KEY: '/etc/flagline/tree.pem' }).transparencySigningKey).toBe('/etc/flagline/tree.pem');
    expect(loadCommandServiceConfig(base).transparencySigningKey).toBeUndefined();
  });

  it('signs tree heads over the stored log, kept in DATA_DIR across a restart', async () => {
    expect(config().transparencyDir).toBe(dataDir);
    const first = await startCommandService(config(), logger);
    let head: Record<string, unknown>;
    try {
      const created = await fetch(`${first.url}/admin/v1/organisations`, { method: 'POST', headers: { Authorization: `Api-Key ${ADMIN_KEY}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Acme' }) });
      expect(created.status).toBe(201);
      await first.transparency.progress.waitFor(await first.storedLog.headPosition(), 5000);
      const answer = await get(first, '/transparency/tree-head');
      expect(answer.status).toBe(200);
      head = answer.body;
      const events: RecordedEvent[] = [...(await first.storedLog.readAll())];
      expect(head['treeSize']).toBe(events.length);
      expect(head['rootHash']).toBe(rfcMth(events.map((event) => rfcLeaf(canonicalEventBytes(event)))).toString('hex'));
    } finally {
      await first.close();
    }
    expect(existsSync(join(dataDir, 'transparency.sqlite'))).toBe(true);
    const second = await startCommandService(config(), logger);
    try {
      await second.transparency.start();
      expect(second.transparency.mismatch).toBeNull();
      expect((await get(second, `/transparency/tree-head?treeSize=${String(head['treeSize'])}`)).body).toEqual(head);
    } finally {
      await second.close();
    }
  });
});
