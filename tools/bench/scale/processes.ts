import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** A memory field of `/proc/<pid>/status` (given in kB) in MB, or undefined once the process is gone. */
async function statusMb(pid: number, field: 'VmRSS' | 'RssFile'): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in MB (from /proc/<pid>/status), or undefined once it is gone. */
export const rssMb = (pid: number): Promise<number | undefined> => statusMb(pid, 'VmRSS');

/** The file-backed part of a process's RSS in MB (`RssFile`: pages of files it maps, such as a memory-mapped database), or undefined once it is gone. */
export const rssFileMb = (pid: number): Promise<number | undefined> => statusMb(pid, 'RssFile');

/**
 * CPU time a process has used (user + system, all its threads), in ms, from /proc (Linux); with
 * `mainThreadOnly`, its main thread's alone (the event loop's, which bounds a Node server's rate).
 */
export function cpuMs(pid: number, mainThreadOnly = false): number {
  return statCpuMs(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`);
}

/** The processes `pid` started (its children, from each of its threads' /proc `children`), and theirs. */
export function childProcesses(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((field) => field !== '')
      .map(Number),
  );
  return children.flatMap((child) => [child, ...childProcesses(child)]);
}

/** User + system CPU time in ms from a /proc `stat` file (a process's, or a thread's under `task/`). */
export function statCpuMs(path: string): number {
  const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Samples a process's RSS every `intervalMs`, keeping the peak since the last `resetPeak`. */
export class RssSampler {
  private peakMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<number | undefined> {
    const mb = await rssMb(this.pid);
    if (mb !== undefined && mb > this.peakMb) this.peakMb = mb;
    return mb;
  }

  get peak(): number {
    return this.peakMb;
  }

  resetPeak(): void {
    this.peakMb = 0;
  }

  /**
   * RSS once the process has been left idle: sampled each second for up to `maxMs`, returned
   * when two samples in a row are within 2% of each other (write-behind flushes, GC settled).
   */
  async settled(maxMs = 8_000): Promise<number> {
    const deadline = Date.now() + maxMs;
    let previous = (await this.sample()) ?? 0;
    for (;;) {
      await sleep(1_000);
      const current = (await this.sample()) ?? 0;
      if (Math.abs(current - previous) <= previous * 0.02 || Date.now() >= deadline) return current;
      previous = current;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A node process of the build under test, its output appended to a log file. */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly rss: RssSampler;
  readonly startedAt = performance.now();
  private readonly exited: Promise<number | null>;

  /** `nodeOptions`: the build's own (its `npm start`'s, `startOptionsOf`), before SERVER_NODE_ARGS. */
  constructor(script: string, options: { cwd: string; env: Record<string, string>; logFile: string; args?: string[]; nodeOptions?: readonly string[] }) {
    const log = openSync(options.logFile, 'a');
    // SERVER_NODE_ARGS: node options for every process of the build under test (e.g. --cpu-prof), which NODE_OPTIONS may not carry.
    const nodeArgs = (process.env['SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    this.child = spawn(process.execPath, [...(options.nodeOptions ?? []), ...nodeArgs, script, ...(options.args ?? [])], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', log, log] });
    closeSync(log);
    if (this.child.pid === undefined) throw new Error(`could not start ${script}`);
    this.rss = new RssSampler(this.child.pid);
    this.exited = new Promise((resolveExit) => this.child.once('exit', (code) => resolveExit(code)));
    RUNNING.add(this);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 60_000): Promise<void> {
    this.rss.stop();
    RUNNING.delete(this);
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  /** Rejects as soon as the process exits, for racing against a readiness wait. */
  async failOnExit(): Promise<never> {
    const code = await this.exited;
    throw new Error(`process exited with ${code}`);
  }
}

const RUNNING = new Set<NodeProcess>();

/** Kills every process still running (on an error or Ctrl-C of the benchmark). */
export function killAll(): void {
  for (const running of RUNNING) running.child.kill('SIGKILL');
  RUNNING.clear();
}

/** Resolves with `check`'s value once it returns one, polling every `everyMs`; throws after `timeoutMs`. */
export async function poll<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}
