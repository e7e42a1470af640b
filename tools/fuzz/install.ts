import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Schemathesis release the fuzzer runs; bump it deliberately (its checks and output change between releases). */
export const SCHEMATHESIS_VERSION = '4.32.5';

export type Installed = { readonly ok: true; readonly executable: string } | { readonly ok: false; readonly reason: string };

const message = (error: unknown): string => {
  const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr).trim() : '';
  const text = stderr !== '' ? stderr : error instanceof Error ? error.message : String(error);
  return text.split('\n').slice(-3).join(' ').slice(0, 500);
};

async function version(executable: string): Promise<string | null> {
  if (!existsSync(executable)) return null;
  try {
    const { stdout } = await run(executable, ['--version'], { timeout: 60_000 });
    return /version\s+(\S+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Schemathesis at the pinned version in `<root>/.venv/fuzz` (gitignored), created with
 * `python3 -m venv` and installed from PyPI with pip when missing or at another version.
 */
export async function ensureSchemathesis(root: string): Promise<Installed> {
  const venv = join(root, '.venv', 'fuzz');
  const executable = join(venv, 'bin', 'schemathesis');
  if ((await version(executable)) === SCHEMATHESIS_VERSION) return { ok: true, executable };
  const python = process.env['PYTHON'] ?? 'python3';
  try {
    if (!existsSync(join(venv, 'bin', 'pip'))) await run(python, ['-m', 'venv', venv], { timeout: 120_000 });
  } catch (error) {
    return { ok: false, reason: `${python} -m venv failed: ${message(error)}` };
  }
  console.log(`fuzzer: installing schemathesis==${SCHEMATHESIS_VERSION} into .venv/fuzz`);
  try {
    await run(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', '--timeout', '20', '--retries', '2', `schemathesis==${SCHEMATHESIS_VERSION}`], {
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    return { ok: false, reason: `pip could not install it (is PyPI reachable?): ${message(error)}` };
  }
  const installed = await version(executable);
  return installed === SCHEMATHESIS_VERSION ? { ok: true, executable } : { ok: false, reason: `pip installed version ${installed ?? 'none'}` };
}
