import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureReferenceEnvironment } from './reference-venv';

describe('ensureReferenceEnvironment', () => {
  const savedPython = process.env['PYTHON'];
  afterEach(() => {
    if (savedPython === undefined) delete process.env['PYTHON'];
    else process.env['PYTHON'] = savedPython;
  });

  it('says why when there is no Python to make the environment with', () => {
    const directory = mkdtempSync(join(tmpdir(), 'oracle-venv-'));
    try {
      process.env['PYTHON'] = join(directory, 'no-such-python');
      const lines: string[] = [];
      const environment = ensureReferenceEnvironment(join(directory, 'venv'), { quickFailure: true, log: (line) => lines.push(line) });
      expect(environment).toEqual({ unavailable: expect.stringContaining(`cannot run ${join(directory, 'no-such-python')}`) });
      expect(lines).toEqual([`oracle: creating ${join(directory, 'venv')} with ${join(directory, 'no-such-python')}`]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  const existing = resolve(__dirname, '..', '..', '..', '.venv', 'oracle');
  const withVenv = existsSync(join(existing, 'bin', 'python')) ? it : it.skip;
  if (!existsSync(join(existing, 'bin', 'python'))) console.log(`reuse spec skipped: no ${existing} (run npm run conformance:oracle once to create it)`);

  withVenv('reuses an environment that has the wanted version, without pip', () => {
    const lines: string[] = [];
    expect(ensureReferenceEnvironment(existing, { quickFailure: true, log: (line) => lines.push(line) })).toEqual({ python: join(existing, 'bin', 'python'), created: false });
    expect(lines).toEqual([]);
  });
});
