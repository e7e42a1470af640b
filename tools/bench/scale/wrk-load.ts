import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The same saturating load as `load` (each connection sends its next request when the last is
 * answered), made by wrk (C, one thread) pinned to one CPU while the server is pinned to the
 * other: the generator's own work and pauses (autocannon's event loop and collections run on the
 * machine the server shares) stay out of the server's latency. wrk reads the bodies from a file
 * and sends them in turn; its `done` hook prints the figures as one JSON line.
 */
export interface WrkLoadOptions {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Request bodies, sent in turn (POST, with the content type among `headers`); none for GET. */
  readonly bodies?: readonly string[];
  readonly connections: number;
  readonly duration: number;
  /** The server's pid: pinned (all its threads) to `serverCpu` while wrk runs on `loadCpu`, then let free again. */
  readonly serverPid?: number;
  readonly serverCpu?: number;
  readonly loadCpu?: number;
}

export interface WrkOutcome {
  readonly requests: number;
  readonly seconds: number;
  /** Latencies in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Connection, read, write errors, timeouts and answers other than 2xx/3xx. */
  readonly failed: number;
}

const SCRIPT = `
local bodies = {}
local next_body = 0
init = function(args)
  if args[1] ~= nil then
    for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  end
end
request = function()
  if #bodies == 0 then return wrk.format() end
  next_body = next_body % #bodies + 1
  return wrk.format('POST', nil, nil, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"seconds":%.6f,"p50":%.4f,"p99":%.4f,"p999":%.4f,"failed":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, e.connect + e.read + e.write + e.timeout + e.status))
end
`;

/** Whether wrk is on PATH (Debian: `apt-get install wrk`). */
export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Pins every thread of a process to one CPU (`taskset -a`), or lets it run on all of them again. */
function pin(pid: number, cpus: string): void {
  spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export async function wrkLoad(options: WrkLoadOptions): Promise<WrkOutcome> {
  const directory = await mkdtemp(join(tmpdir(), 'flagline-wrk-'));
  const script = join(directory, 'load.lua');
  await writeFile(script, SCRIPT);
  const args = ['-t1', `-c${options.connections}`, `-d${options.duration}s`, '--timeout', '30s', '-s', script];
  for (const [name, value] of Object.entries(options.headers)) args.push('-H', `${name}: ${value}`);
  args.push(`${options.url}${options.path}`);
  if (options.bodies) {
    const bodiesFile = join(directory, 'bodies.txt');
    // One body per line: JSON text holds no raw line break.
    await writeFile(bodiesFile, `${options.bodies.join('\n')}\n`);
    args.push('--', bodiesFile);
  }
  const loadCpu = String(options.loadCpu ?? 0);
  if (options.serverPid !== undefined) pin(options.serverPid, String(options.serverCpu ?? 1));
  try {
    const output = await new Promise<string>((resolveRun, reject) => {
      const child = spawn('taskset', ['-c', loadCpu, 'wrk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolveRun(text) : reject(new Error(`wrk exited with ${code}: ${text.slice(-500)}`))));
    });
    const line = output.split('\n').find((candidate) => candidate.startsWith('WRK '));
    if (!line) throw new Error(`wrk printed no figures: ${output.slice(-500)}`);
    return JSON.parse(line.slice(4)) as WrkOutcome;
  } finally {
    if (options.serverPid !== undefined) pin(options.serverPid, `0-${cpus().length - 1}`);
    await rm(directory, { recursive: true, force: true });
  }
}
