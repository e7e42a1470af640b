import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../../../../..');
const CRASH_WRITER = resolve(__dirname, 'crash-writer.ts');

export interface KillOptions {
  /** How long to let it append once it is going, before the SIGKILL. */
  readonly killAfterMs: number;
  /** Acknowledgements to wait for before that delay starts (so a loaded machine still gives each round something to check). */
  readonly minAcks?: number;
}

/**
 * Runs the crash writer in its own process, kills it with SIGKILL while it appends, and returns
 * the ids it acknowledged. The writer cuts the torn tail of the previous round when it starts.
 */
export async function appendUntilKilled(directory: string, round: number, { killAfterMs, minAcks = 0 }: KillOptions): Promise<string[]> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', CRASH_WRITER, directory, String(round)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = once(child, 'close');

  const ackCount = (): number => stdout.split('\nack ').length - 1;
  await new Promise<void>((resolveGoing, rejectGoing) => {
    const check = (): void => {
      if (stdout.startsWith('ready\n') && ackCount() >= minAcks) resolveGoing();
    };
    child.stdout.on('data', check);
    void closed.then(() => rejectGoing(new Error(`crash writer exited after ${ackCount()} acknowledgements: ${stderr}`)));
  });
  await new Promise((resolveDelay) => setTimeout(resolveDelay, killAfterMs));
  child.kill('SIGKILL');
  const [code, signal] = (await closed) as [number | null, NodeJS.Signals | null];
  if (signal !== 'SIGKILL') throw new Error(`crash writer ended with ${code ?? signal ?? 'nothing'} before the kill: ${stderr}`);

  const lines = stdout.split('\n');
  // Only lines ending in a newline were written whole.
  lines.pop();
  return lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice('ack '.length));
}
