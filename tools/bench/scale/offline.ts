import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../support';
import type { Build } from './builds';
import { NodeProcess, poll } from './processes';
import { finalJsonLine, numberField, type Results } from './report';

/** Runs a command to its end, its output kept (and appended to the log file); rejects on a non-zero exit or after `timeoutMs`. */
function runToEnd(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; logFile: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 1_000_000) output = output.slice(-500_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      void appendFile(options.logFile, `\n$ ${command} ${args.join(' ')}\n${output}\n`).finally(() =>
        code === 0 ? resolveRun(output) : reject(new Error(`${args.join(' ')} exited with ${code ?? signal}: ${output.trim().split('\n').slice(-3).join(' / ')}`)),
      );
    });
  });
}

/**
 * Figure 6: `npm run rebuild -- --data-dir <dir>` of the build, over the loaded data directory
 * (the server stopped). Its final line `{"events":N,"seconds":S}` gives the rate; without one,
 * the run is timed here and N is the log position the server reported.
 */
export async function measureRebuild(build: Build, dataDir: string, events: number | undefined, logFile: string, results: Results): Promise<void> {
  if (build.scripts['rebuild'] === undefined) {
    results['rebuild.rate'] = { value: null, note: 'n/a (no rebuild command)' };
    return;
  }
  const started = performance.now();
  const output = await runToEnd('npm', ['run', '--silent', 'rebuild', '--', '--data-dir', dataDir], { cwd: build.root, logFile, timeoutMs: 1_800_000 });
  const timed = (performance.now() - started) / 1000;
  const line = finalJsonLine(output);
  const seconds = numberField(line, 'seconds') ?? timed;
  const count = numberField(line, 'events') ?? events;
  results['rebuild.seconds'] = { value: seconds, ...(numberField(line, 'seconds') === undefined ? { note: 'timed here' } : {}) };
  results['rebuild.rate'] = count === undefined ? { value: null, note: 'n/a (event count unknown)' } : { value: count / seconds };
}

/**
 * Figure 7a: the command service of the build on the embedded log of the loaded data directory:
 * seconds from spawn until /health reports the log's head position, and its RSS then.
 */
export async function measureCommandService(build: Build, dataDir: string, adminKey: string, head: number | undefined, logFile: string, results: Results): Promise<void> {
  const script = join(build.root, 'dist/apps/command-service/src/main.js');
  if (!existsSync(script)) {
    results['command.seconds'] = { value: null, note: 'n/a (no command service)' };
    return;
  }
  const port = await freePort();
  const service = new NodeProcess(script, {
    cwd: build.root,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      EVENT_STORE: 'embedded',
      DATA_DIR: dataDir,
      ADMIN_API_KEY: adminKey,
      INTERNAL_API_TOKEN: randomBytes(18).toString('base64url'),
      LOG_LEVEL: 'warn',
    },
    logFile,
  });
  try {
    const ready = async (): Promise<true | undefined> => {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (!response.ok) return undefined;
      const position = ((await response.json()) as { position?: unknown }).position;
      return head === undefined || (typeof position === 'number' && position >= head) ? true : undefined;
    };
    await Promise.race([poll(ready, 'command service caught up', 300_000), service.failOnExit()]);
    results['command.seconds'] = { value: (performance.now() - service.startedAt) / 1000 };
    const settled = await service.rss.settled();
    results['command.rss'] = { value: settled, note: `peak ${Math.round(service.rss.peak)}` };
  } finally {
    await service.stop();
  }
}

/**
 * Figure 7b: tools/bench/scale/projector.ts of the build, run as a child; its final JSON line
 * gives the catch-up rate per partition (`eventsPerSecondPerPartition`, or `eventsPerSecond`,
 * or `events` over `seconds`).
 */
export async function measureProjector(build: Build, logFile: string, results: Results): Promise<void> {
  if (!existsSync(join(build.root, 'tools/bench/scale/projector.ts'))) {
    results['projector.rate'] = { value: null, note: 'n/a (no projector benchmark)' };
    return;
  }
  const output = await runToEnd(process.execPath, ['-r', '@swc-node/register', 'tools/bench/scale/projector.ts'], { cwd: build.root, logFile, timeoutMs: 900_000 });
  const line = finalJsonLine(output);
  const events = numberField(line, 'events');
  const seconds = numberField(line, 'seconds');
  const rate = numberField(line, 'eventsPerSecondPerPartition', 'eventsPerSecond') ?? (events !== undefined && seconds ? events / seconds : undefined);
  const skipped = typeof line?.['skipped'] === 'string' ? line['skipped'] : undefined;
  results['projector.rate'] = rate !== undefined ? { value: rate } : { value: null, note: skipped !== undefined ? `n/a (${skipped})` : 'n/a (no final JSON line)' };
}
