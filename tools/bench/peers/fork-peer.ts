import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..', '..');

/**
 * Starts a peer script of this folder (a bare server, the flagsmith-nodejs server) from its sources
 * and resolves once it says it listens. `started` gets the child at once, before it is ready, so a
 * caller can stop it whatever happens next.
 */
export function forkPeer(script: string, args: readonly string[], started: (child: ChildProcess) => void = () => undefined): Promise<ChildProcess> {
  const child = fork(join(__dirname, script), [...args], { execArgv: ['-r', '@swc-node/register'], cwd: root, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  started(child);
  return new Promise((resolveChild, reject) => {
    child.once('message', () => resolveChild(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}
