import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService, type RunningCommandService } from './command-service';

const ADMIN_KEY = 'command-service-explain-admin-key';

async function call(service: RunningCommandService, method: string, path: string, body?: unknown): Promise<{ status: number; position: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/admin/v1${path}`, {
    method,
    headers: { Authorization: `Api-Key ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, position: response.headers.get('x-flagline-position'), body: (await response.json()) as Record<string, unknown> };
}

const flags = (body: Record<string, unknown>) => (body['flags'] as { feature: string; enabled: boolean; value: unknown; reason: string }[]).map(({ feature, enabled, value, reason }) => ({ feature, enabled, value, reason }));

/** The command service (distributed mode's admin API) explains evaluations from its own log, now and as of a position. */
describe('Command service: explained evaluation', () => {
  let dataDir: string;
  let service: RunningCommandService;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-explain-'));
    const config = loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' });
    service = await startCommandService(config, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('explains an identity now and as of a position before a toggle, with X-Flagline-Position', async () => {
    const organisation = await call(service, 'POST', '/organisations', { name: 'Acme' });
    const project = await call(service, 'POST', '/projects', { organisation: organisation.body['id'], name: 'Storefront' });
    const environment = (await call(service, 'POST', `/projects/${String(project.body['id'])}/environments`, { name: 'Production' })).body['id'] as number;
    const feature = (await call(service, 'POST', `/projects/${String(project.body['id'])}/features`, { name: 'banner', defaultEnabled: true, initialValue: 'on' })).body['id'] as number;
    const segment = await call(service, 'POST', `/projects/${String(project.body['id'])}/segments`, {
      name: 'pro',
      rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }],
    });
    expect((await call(service, 'POST', `/environments/${environment}/segment-overrides`, { feature, segment: segment.body['id'], enabled: true, value: 'pro-banner' })).status).toBe(201);
    expect((await call(service, 'POST', `/environments/${environment}/identities`, { identifier: 'ada', traits: { plan: 'pro' } })).status).toBe(201);

    const before = await call(service, 'POST', `/environments/${environment}/evaluate`, { identifier: 'ada' });
    expect(before.status).toBe(200);
    expect(flags(before.body)).toEqual([{ feature: 'banner', enabled: true, value: 'pro-banner', reason: 'TARGETING_MATCH; segment=pro' }]);
    expect(before.position).toBe(String(before.body['position']));

    expect((await call(service, 'PATCH', `/environments/${environment}/segment-overrides/${feature}/${String(segment.body['id'])}`, { enabled: false })).status).toBe(200);
    const after = await call(service, 'POST', `/environments/${environment}/evaluate`, { identifier: 'ada' });
    expect(flags(after.body)).toEqual([{ feature: 'banner', enabled: false, value: 'pro-banner', reason: 'TARGETING_MATCH; segment=pro' }]);
    expect(Number(after.position)).toBeGreaterThan(Number(before.position));

    const then = await call(service, 'POST', `/environments/${environment}/evaluate`, { identifier: 'ada', asOf: before.position });
    expect(flags(then.body)).toEqual(flags(before.body));
    expect(then.position).toBe(before.position);
  });
});
