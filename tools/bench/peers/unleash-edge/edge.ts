import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { unleashBootstrap, type Bootstrap, type EnvironmentDocument } from './bootstrap';

/**
 * Unleash Edge in offline mode, as a peer in `npm run bench`: installed by setup.sh
 * (`cargo install unleash-edge --locked`), found at UNLEASH_EDGE_BIN, on the PATH or in
 * ~/.cargo/bin; answers its frontend API (`POST /api/frontend`, the enabled toggles for one
 * context) from a bootstrap derived from our environment document.
 */
export const EDGE_TOKEN = '*:development.flaglinebench0000000000000000000000';

export function edgeBinary(): string | undefined {
  const candidates = [process.env['UNLEASH_EDGE_BIN'], ...(process.env['PATH'] ?? '').split(':').map((dir) => join(dir, 'unleash-edge')), join(homedir(), '.cargo', 'bin', 'unleash-edge')];
  return candidates.find((candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate));
}

export interface RunningEdge {
  readonly url: string;
  readonly process: ChildProcess;
  readonly bootstrap: Bootstrap;
}

/** Writes the bootstrap for `document` into `dir` and starts Edge on loopback `port`; resolves once it answers. */
export async function startEdge(binary: string, document: EnvironmentDocument, dir: string, port: number): Promise<RunningEdge> {
  const bootstrap = unleashBootstrap(document);
  const file = join(dir, 'unleash-bootstrap.json');
  await writeFile(file, JSON.stringify({ version: bootstrap.version, features: bootstrap.features }));
  const child = spawn(binary, ['--port', String(port), '--interface', '127.0.0.1', 'offline', '--bootstrap-file', file, '--frontend-tokens', EDGE_TOKEN, '--client-tokens', EDGE_TOKEN], {
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`unleash-edge exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/api/frontend`, { method: 'POST', headers: { authorization: EDGE_TOKEN, 'content-type': 'application/json' }, body: '{}' });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error('unleash-edge did not answer within 30 s');
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return { url, process: child, bootstrap };
}
