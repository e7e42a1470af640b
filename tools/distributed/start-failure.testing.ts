// Runs a service's entry point as an operator would, to read what it prints when it cannot start.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

export interface Run {
  readonly code: number | null;
  readonly lines: Record<string, unknown>[];
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a service's entry point from the sources with only `env` (and PATH, HOME) set. */
export function runServiceProcess(app: string, env: Record<string, string>): Promise<Run> {
  return runEntryProcess(`apps/${app}/src/main.ts`, env);
}

/** Runs an entry point (a path from the repository's root) from the sources with only `env` (and PATH, HOME) set. */
export function runEntryProcess(entry: string, env: Record<string, string>): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${entry} still running after 45 s:\n${stdout}\n${stderr}`));
    }, 45_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const lines = stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return { notJson: line };
          }
        });
      done({ code, lines, stdout, stderr });
    });
  });
}

export function expectOneFatalLine(run: Run): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.lines.filter((line) => 'notJson' in line)).toEqual([]);
  const fatal = run.lines.filter((line) => line['level'] === 60);
  expect(fatal).toHaveLength(1);
  const line = fatal[0] ?? {};
  expect(line).toEqual(expect.objectContaining({ time: expect.any(String), msg: expect.any(String) }));
  expect(run.code).toBe(1);
  return line;
}
