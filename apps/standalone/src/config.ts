import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { secretProblem } from '@flagline/observability';

export interface StandaloneConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly adminApiKey: string;
  readonly adminEmail: string;
  /** True when the admin key was generated on this start (it is then printed once). */
  readonly adminKeyGenerated: boolean;
  /** `TRANSPARENCY_SIGNING_KEY`: the Ed25519 key tree heads are signed with (PEM, or a file's path); generated in the data directory when unset. */
  readonly transparencySigningKey?: string;
  /** `READ_MODELS_MAPPED_MB`: how much of the read models' file identity reads see through a memory map, in MiB (0: none). */
  readonly readModelsMappedMiB?: number;
}

export class ConfigError extends Error {}

function port(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${value}"`);
  return parsed;
}

/**
 * The default of `READ_MODELS_MAPPED_MB`: the first 256 MiB of the read models' file (all of it up
 * to about 750,000 identities of five traits). The kernel caches the file's pages read by `pread`
 * just the same; mapped, they are counted in the process's RSS (as file-backed pages) instead of
 * being copied again into SQLite's page cache.
 */
export const DEFAULT_READ_MODELS_MAPPED_MIB = 256;

function mebibytes(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65536) throw new ConfigError(`${name} must be an integer from 0 to 65536 (MiB), got "${value}"`);
  return parsed;
}

/**
 * Reads the configuration from the environment. Without ADMIN_API_KEY, a key is generated at
 * first start and kept in the data directory, so restarts keep working with the same key.
 */
export async function loadStandaloneConfig(env: NodeJS.ProcessEnv = process.env): Promise<StandaloneConfig> {
  const dataDir = resolve(env['DATA_DIR'] ?? './data');
  await mkdir(dataDir, { recursive: true });
  const keyFile = join(dataDir, 'admin-api-key');
  let adminApiKey = env['ADMIN_API_KEY']?.trim() ?? '';
  let adminKeyGenerated = false;
  const keyProblem = adminApiKey === '' ? undefined : secretProblem('ADMIN_API_KEY', adminApiKey);
  if (keyProblem !== undefined) throw new ConfigError(keyProblem);
  if (adminApiKey === '') {
    try {
      adminApiKey = (await readFile(keyFile, 'utf8')).trim();
    } catch {
      adminApiKey = `flk_${randomBytes(24).toString('base64url')}`;
      await writeFile(keyFile, `${adminApiKey}\n`, { mode: 0o600 });
      await chmod(keyFile, 0o600);
      adminKeyGenerated = true;
    }
  }
  return {
    port: port(env['PORT'], 8000),
    host: env['HOST'] ?? '0.0.0.0',
    dataDir,
    adminApiKey,
    adminEmail: env['ADMIN_EMAIL'] ?? 'admin@flagline.local',
    adminKeyGenerated,
    readModelsMappedMiB: mebibytes('READ_MODELS_MAPPED_MB', env['READ_MODELS_MAPPED_MB'], DEFAULT_READ_MODELS_MAPPED_MIB),
    ...(env['TRANSPARENCY_SIGNING_KEY'] ? { transparencySigningKey: env['TRANSPARENCY_SIGNING_KEY'] } : {}),
  };
}
