import { parseExposition } from '@flagline/observability';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService, type RunningCommandService } from './command-service';

const ADMIN_KEY = 'command-service-ops-spec-admin-key';

describe('Command service operations routes', () => {
  let dataDir: string;
  let service: RunningCommandService;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-ops-'));
    const config = loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-ops-spec', PORT: '0', HOST: '127.0.0.1' });
    service = await startCommandService(config, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers live, ready (with its checks) and the /health alias', async () => {
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', ready: true, service: 'command-service', eventStore: 'embedded', checks: { eventstore: { ok: true }, catalog: { ok: true } } });
    const alias = await fetch(`${service.url}/health`);
    expect(alias.status).toBe(200);
    expect(await alias.json()).toMatchObject({ service: 'command-service', checks: { catalog: { ok: true } } });
  });

  it('serves /metrics with admin requests counted by route template and status class', async () => {
    const headers = { Authorization: `Api-Key ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const created = await fetch(`${service.url}/admin/v1/organisations`, { method: 'POST', headers, body: JSON.stringify({ name: 'Acme' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    for (const organisation of [id, id, 987_654]) await fetch(`${service.url}/admin/v1/organisations/${organisation}`, { headers });
    await fetch(`${service.url}/admin/v1/organisations`, { headers: { Authorization: 'Api-Key wrong' } });
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseExposition(await response.text());
    const requests = (labels: Record<string, string>): number => samples.sum('flagline_admin_requests_total', labels);
    expect(requests({ method: 'POST', route: '/admin/v1/organisations', status_class: '2xx' })).toBe(1);
    expect(requests({ method: 'GET', route: '/admin/v1/organisations/:organisationId', status_class: '2xx' })).toBe(2);
    expect(requests({ method: 'GET', route: '/admin/v1/organisations/:organisationId', status_class: '4xx' })).toBe(1);
    expect(requests({ method: 'GET', route: '/admin/v1/organisations', status_class: '4xx' })).toBe(1);
    // No raw ids in labels.
    expect(samples.matching('flagline_admin_requests_total').every((sample) => !/\d{3,}/.test(sample.labels['route'] ?? ''))).toBe(true);
    expect(samples.value('flagline_dependency_up', { dependency: 'eventstore' })).toBe(1);
    expect(samples.value('flagline_ready')).toBe(1);
    expect(samples.value('flagline_catalog_position')).toBeGreaterThan(0);
  });
});
