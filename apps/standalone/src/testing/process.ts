import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root (this file is apps/standalone/src/testing/process.ts). */
export const REPOSITORY_ROOT = resolve(__dirname, '../../../..');

export interface StandaloneProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown hook runs. */
  kill(): Promise<void>;
}

/**
 * Runs `apps/standalone/src/main.ts` as its own process (compiled on the fly by
 * @swc-node/register) on a data directory, and resolves once it listens.
 */
export function startStandaloneProcess(env: { DATA_DIR: string; ADMIN_API_KEY: string; READ_MODELS_MAPPED_MB?: string }, timeoutMs = 30_000): Promise<StandaloneProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/standalone/src/main.ts'], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return new Promise<StandaloneProcess>((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      void kill();
      rejectStart(new Error(`standalone process did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveStart({ url: match[1] as string, child, output: () => output, kill });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rejectStart(new Error(`standalone process exited (${code ?? signal ?? 'unknown'}) before listening:\n${output}`));
    });
  });
}
