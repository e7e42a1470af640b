import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../support';
import type { Build } from './builds';
import { NodeProcess, poll } from './processes';
import { finalJsonLine, numberField, type Results } from './report';

interface Ended {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to its end (killed after `timeoutMs`), its output kept and appended to the log file. */
function runToEnd(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; logFile: string; timeoutMs: number }): Promise<Ended> {
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
    child.once('exit', (code) => {
      clearTimeout(timer);
      void appendFile(options.logFile, `\n$ ${command} ${args.join(' ')}\n${output}\n`).finally(() => resolveRun({ code, output }));
    });
  });
}

const failure = (what: string, ended: Ended): Error => new Error(`${what} exited with ${ended.code}: ${ended.output.trim().split('\n').slice(-3).join(' / ')}`);

/**
 * Figure 6: `npm run rebuild -- --data-dir <dir> --verify` of the build, over the loaded data
 * directory (the server stopped): the read models rebuilt from the log beside the live ones and
 * compared byte for byte. The rate comes from its final line `{"events":N,"seconds":S}`, or its
 * `rebuilt … from N events in S s` line; failing both, the run is timed here over the log
 * position the server reported. A build whose rebuild knows no --verify is run without it.
 */
export async function measureRebuild(build: Build, dataDir: string, events: number | undefined, logFile: string, results: Results): Promise<void> {
  if (build.scripts['rebuild'] === undefined) {
    results['rebuild.rate'] = { value: null, note: 'n/a (no rebuild command)' };
    return;
  }
  const rebuild = async (extra: string[]) => {
    const started = performance.now();
    const ended = await runToEnd('npm', ['run', '--silent', 'rebuild', '--', '--data-dir', dataDir, ...extra], { cwd: build.root, logFile, timeoutMs: 1_800_000 });
    return { ...ended, timed: (performance.now() - started) / 1000 };
  };
  let run = await rebuild(['--verify']);
  const verified = !/unknown argument --verify/.test(run.output);
  if (!verified) run = await rebuild([]);
  const differing = run.output.split('\n').filter((line) => /differs from a rebuild/.test(line));
  if (run.code !== 0 && !(verified && run.code === 1 && differing.length > 0)) throw failure('rebuild', run);
  const line = finalJsonLine(run.output);
  const text = /from ([\d,]+) events in ([\d.]+) s/.exec(run.output);
  const seconds = numberField(line, 'seconds') ?? (text ? Number(text[2]) : undefined);
  const count = numberField(line, 'events') ?? (text ? Number((text[1] as string).replace(/,/g, '')) : events);
  results['rebuild.seconds'] = seconds !== undefined ? { value: seconds } : { value: run.timed, note: 'timed here' };
  // The CPU of every thread until the comparison starts (builds that print it), and the whole command's wall time, the comparison of --verify included.
  const cpuSeconds = numberField(line, 'cpuSeconds');
  if (cpuSeconds !== undefined) results['rebuild.cpuSeconds'] = { value: cpuSeconds };
  // And each thread's share (builds that print it): the main thread's and each part worker's, as `rebuild.cpuSeconds.<thread>`.
  const threads = line?.['threadCpuSeconds'];
  if (typeof threads === 'object' && threads !== null) {
    for (const [thread, used] of Object.entries(threads)) if (typeof used === 'number') results[`rebuild.cpuSeconds.${thread}`] = { value: used };
  }
  results['rebuild.commandSeconds'] = { value: run.timed };
  const rate = count === undefined ? undefined : count / (seconds ?? run.timed);
  results['rebuild.rate'] = rate === undefined ? { value: null, note: 'n/a (event count unknown)' } : { value: rate };
  results['rebuild.differs'] = verified
    ? { value: differing.length, ...(differing.length > 0 ? { note: (differing[0] as string).slice(0, 100) } : {}) }
    : { value: null, note: 'n/a (no --verify)' };
}

/**
 * The floor of scenario 6: tools/bench/scale/rebuild-floor.ts over as many identity events as
 * the rebuild read (one round), from this tree whatever build is measured: the least work that
 * derives the documents and catalog rows of a log of sealed identity events, on this machine.
 */
export async function measureRebuildFloor(events: number, logFile: string, results: Results): Promise<void> {
  const root = join(__dirname, '..', '..', '..');
  const run = await runToEnd('node', ['-r', '@swc-node/register', join(__dirname, 'rebuild-floor.ts'), '--events', String(events), '--rounds', '1', '--json'], { cwd: root, logFile, timeoutMs: 900_000 });
  if (run.code !== 0) throw failure('rebuild floor', run);
  const line = finalJsonLine(run.output);
  const rate = numberField(line, 'eventsPerSecond');
  const cpu = (name: string): string => (numberField(line, name) ?? Number.NaN).toFixed(1);
  results['rebuild.floorRate'] = rate === undefined ? { value: null, note: 'n/a (no figure)' } : { value: rate, note: `${events.toLocaleString('en')} events; CPU per event: main ${cpu('mainMicros')}, documents ${cpu('documentsMicros')}, catalog ${cpu('catalogMicros')} µs` };
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
 * or `events` over `seconds`), and the per-event path's rate in the same run as a note.
 */
export async function measureProjector(build: Build, logFile: string, results: Results): Promise<void> {
  if (!existsSync(join(build.root, 'tools/bench/scale/projector.ts'))) {
    results['projector.rate'] = { value: null, note: 'n/a (no projector benchmark)' };
    return;
  }
  const ended = await runToEnd(process.execPath, ['-r', '@swc-node/register', 'tools/bench/scale/projector.ts'], { cwd: build.root, logFile, timeoutMs: 900_000 });
  if (ended.code !== 0) throw failure('projector benchmark', ended);
  const line = finalJsonLine(ended.output);
  const events = numberField(line, 'events');
  const seconds = numberField(line, 'seconds');
  const rate = numberField(line, 'eventsPerSecondPerPartition', 'eventsPerSecond') ?? (events !== undefined && seconds ? events / seconds : undefined);
  const skipped = typeof line?.['skipped'] === 'string' ? line['skipped'] : undefined;
  const perEvent = numberField(line, 'perEventEventsPerSecond');
  results['projector.rate'] =
    rate !== undefined
      ? { value: rate, ...(perEvent !== undefined ? { note: `per-event path ${Math.round(perEvent).toLocaleString('en')}` } : {}) }
      : { value: null, note: skipped !== undefined ? `n/a (${skipped})` : 'n/a (no final JSON line)' };
}
