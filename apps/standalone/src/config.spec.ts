import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedSecret } from '@flagline/observability';
import { ConfigError, loadStandaloneConfig } from './config';

describe('standalone configuration', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'flagline-standalone-config-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a published placeholder admin key and a short one, naming ADMIN_API_KEY', async () => {
    await expect(loadStandaloneConfig({ DATA_DIR: dataDir, ADMIN_API_KEY: 'change-me-at-least-16-characters' })).rejects.toThrow(new ConfigError('ADMIN_API_KEY is a published placeholder value; generate one (openssl rand -base64 32)'));
    await expect(loadStandaloneConfig({ DATA_DIR: dataDir, ADMIN_API_KEY: 'too-short' })).rejects.toThrow(new ConfigError('ADMIN_API_KEY must be at least 16 characters'));
  });

  it('takes a chosen key, and generates and keeps one when none is set', async () => {
    const key = generatedSecret();
    expect((await loadStandaloneConfig({ DATA_DIR: dataDir, ADMIN_API_KEY: key })).adminApiKey).toBe(key);
    const generated = await loadStandaloneConfig({ DATA_DIR: dataDir });
    expect(generated.adminKeyGenerated).toBe(true);
    expect((await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim()).toBe(generated.adminApiKey);
    expect((await loadStandaloneConfig({ DATA_DIR: dataDir })).adminApiKey).toBe(generated.adminApiKey);
  });
});
