// The auditor page in distributed mode: the command service serves it (the same admin HTTP app as
// the standalone one), and in a headless browser it signs in against the command service's admin
// API and lists what the key reaches. The full walk through the page is the standalone spec's.
import { collectPageErrors, describeWithChromium, launchChromium } from '@flagline/admin-web/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCommandServiceConfig, startCommandService, type RunningCommandService } from './command-service';

const ADMIN_KEY = 'command-service-audit-page-admin-key';

describeWithChromium('auditor page on the command service (headless chromium)', () => {
  let dataDir: string;
  let service: RunningCommandService;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'command-service-audit-'));
    service = await startCommandService(
      loadCommandServiceConfig({ EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, INTERNAL_API_TOKEN: 'internal-token-for-the-spec', PORT: '0', HOST: '127.0.0.1' }),
      pino({ level: 'silent' }),
    );
    const response = await fetch(`${service.url}/admin/v1/organisations`, {
      method: 'POST',
      headers: { authorization: `Api-Key ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Distributed & <b>bold</b>' }),
    });
    expect(response.status).toBe(201);
  });

  afterAll(async () => {
    await service?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the page with its policy, and its data only with a key', async () => {
    const page = await fetch(`${service.url}/audit/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${service.url}/audit/api.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${service.url}/admin/v1/organisations`)).status).toBe(401);
  });

  it('signs in against the command service and lists its organisations, names as text', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${service.url}/audit/`);
      await page.getByLabel('Admin API key').fill(ADMIN_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Organisations', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Distributed & <b>bold</b>', exact: true }).waitFor();
      await expect(page.locator('main b').count()).resolves.toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
