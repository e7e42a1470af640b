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

  it('maps 256 MiB of the read models by default, takes READ_MODELS_MAPPED_MB in MiB (0: none), and refuses anything but a whole number in range, naming it', async () => {
    expect((await loadStandaloneConfig({ DATA_DIR: dataDir })).readModelsMappedMiB).toBe(256);
    expect((await loadStandaloneConfig({ DATA_DIR: dataDir, READ_MODELS_MAPPED_MB: '0' })).readModelsMappedMiB).toBe(0);
    expect((await loadStandaloneConfig({ DATA_DIR: dataDir, READ_MODELS_MAPPED_MB: '1024' })).readModelsMappedMiB).toBe(1024);
    for (const bad of ['-1', '1.5', 'lots', '65537']) {
      await expect(loadStandaloneConfig({ DATA_DIR: dataDir, READ_MODELS_MAPPED_MB: bad })).rejects.toThrow(new ConfigError(`READ_MODELS_MAPPED_MB must be an integer from 0 to 65536 (MiB), got "${bad}"`));
    }
  });
});
