/**
 * The project-local Python environment holding Flagsmith's reference engine
 * (`.venv/oracle`, `flagsmith-flag-engine` from PyPI). An existing environment with the wanted
 * version is reused as it is; otherwise it is created with `python3 -m venv` and `pip install`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REFERENCE_ENGINE_PACKAGE = 'flagsmith-flag-engine';
export const REFERENCE_ENGINE_VERSION = '11.1.1';

export type ReferenceEnvironment = { readonly python: string; readonly created: boolean } | { readonly unavailable: string };

function venvPython(directory: string): string {
  return process.platform === 'win32' ? join(directory, 'Scripts', 'python.exe') : join(directory, 'bin', 'python');
}

function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

function installedVersion(python: string): string | undefined {
  if (!existsSync(python)) return undefined;
  const probe = spawnSync(python, ['-c', `from importlib.metadata import version; print(version(${JSON.stringify(REFERENCE_ENGINE_PACKAGE)}))`], {
    encoding: 'utf8',
  });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * Makes sure `directory` is a virtual environment with the reference engine installed, or says
 * why it cannot be. `quickFailure` keeps pip from retrying an unreachable index for minutes.
 */
export function ensureReferenceEnvironment(directory: string, options: { quickFailure: boolean; log: (line: string) => void }): ReferenceEnvironment {
  const python = venvPython(directory);
  if (installedVersion(python) === REFERENCE_ENGINE_VERSION) return { python, created: false };
  if (!existsSync(python)) {
    const basePython = process.env['PYTHON'] || 'python3';
    options.log(`oracle: creating ${directory} with ${basePython}`);
    // `--clear` rebuilds a directory left broken (say, by a Python since removed).
    const venv = spawnSync(basePython, ['-m', 'venv', '--clear', directory], { encoding: 'utf8' });
    if (venv.error) return { unavailable: `cannot run ${basePython}: ${venv.error.message}` };
    if (venv.status !== 0) return { unavailable: `${basePython} -m venv failed: ${lastLines(venv.stderr || venv.stdout)}` };
  }
  const requirement = `${REFERENCE_ENGINE_PACKAGE}==${REFERENCE_ENGINE_VERSION}`;
  options.log(`oracle: pip install ${requirement}`);
  const retries = options.quickFailure ? ['--retries', '1', '--timeout', '15'] : [];
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...retries, requirement], { encoding: 'utf8' });
  if (pip.error) return { unavailable: `cannot run pip: ${pip.error.message}` };
  if (pip.status !== 0) return { unavailable: `pip install ${requirement} failed: ${lastLines(pip.stderr || pip.stdout)}` };
  const version = installedVersion(python);
  if (version !== REFERENCE_ENGINE_VERSION) return { unavailable: `pip installed ${REFERENCE_ENGINE_PACKAGE} ${version ?? '(none)'}, not ${REFERENCE_ENGINE_VERSION}` };
  return { python, created: true };
}
