import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService, type RunningCommandService } from './command-service';

const ADMIN_KEY = 'command-service-spec-admin-key';

async function call(service: RunningCommandService, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/admin/v1${path}`, {
    method,
    headers: { Authorization: `Api-Key ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Command service on the embedded log: the admin catalog persisted under DATA_DIR', () => {
  let dataDir: string;
  const logger = pino({ level: 'silent' });
  const config = () =>
    loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the catalog in DATA_DIR/catalog.sqlite and restarts without replaying the log', async () => {
    expect(config().catalogPath).toBe(join(dataDir, 'catalog.sqlite'));
    const first = await startCommandService(config(), logger);
    let environment: number;
    let identities: unknown;
    try {
      const organisation = await call(first, 'POST', '/organisations', { name: 'Acme' });
      const project = await call(first, 'POST', '/projects', { organisation: organisation.body['id'], name: 'Storefront' });
      const created = await call(first, 'POST', `/projects/${String(project.body['id'])}/environments`, { name: 'Production' });
      environment = created.body['id'] as number;
      for (const identifier of ['ada', 'grace', 'linus']) {
        expect((await call(first, 'POST', `/environments/${environment}/identities`, { identifier, traits: { plan: 'pro' } })).status).toBe(201);
      }
      identities = (await call(first, 'GET', `/environments/${environment}/identities?pageSize=2`)).body;
      expect(first.catalog.appliedCount).toBe(first.catalog.position);
    } finally {
      await first.close();
    }

    const second = await startCommandService(config(), logger);
    try {
      expect(second.catalog.appliedCount).toBe(0);
      expect((await call(second, 'GET', `/environments/${environment}/identities?pageSize=2`)).body).toEqual(identities);
      const history = await call(second, 'GET', `/environments/${environment}/identities/grace/history`);
      expect((history.body['results'] as { type: string }[]).map((entry) => entry.type)).toEqual(['IdentityCreated']);
    } finally {
      await second.close();
    }
  });
});

describe('Command service configuration: where the admin catalog persists', () => {
  const base = { ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec' };

  it('is DATA_DIR/catalog.sqlite on the embedded log, CATALOG_DIR/catalog.sqlite when given', () => {
    expect(loadCommandServiceConfig({ ...base, EVENT_STORE: 'embedded', DATA_DIR: '/srv/flagline' }).catalogPath).toBe(join('/srv/flagline', 'catalog.sqlite'));
    expect(loadCommandServiceConfig({ ...base, EVENTSTORE_CONNECTION_STRING: 'kurrentdb://localhost:2113?tls=false', CATALOG_DIR: '/var/cache/catalog' }).catalogPath).toBe(
      join('/var/cache/catalog', 'catalog.sqlite'),
    );
  });

  it('is a temporary file on EventStoreDB without CATALOG_DIR (null here)', () => {
    expect(loadCommandServiceConfig({ ...base, EVENTSTORE_CONNECTION_STRING: 'kurrentdb://localhost:2113?tls=false' }).catalogPath).toBeNull();
  });
});
