import autocannon from 'autocannon';
import { execFile, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The load generators of the benchmarks. A saturating closed loop (each connection sends its next
 * request when the last is answered) by one of:
 * - `wrk` (Debian's /usr/bin/wrk, C, a few µs of CPU per request), with tools/bench/wrk-bodies.lua
 *   rotating the request bodies from a file and printing its latency percentiles as JSON;
 * - `oha` (optional, `cargo install oha`), for loads whose requests all carry the same body;
 * - autocannon, in this Node process: about a core of CPU at 14,000 requests/s, so on a 2-core
 *   host it takes from the server what the server would need.
 * With `pin`, the server is pinned to CPU 0 and the generator (and this process) to CPU 1 with
 * `taskset`, so the figure is the server's, not the generator's.
 */
export type GeneratorName = 'wrk' | 'oha' | 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  /** The body of the i-th request (0-based, in the order they are sent). */
  readonly body?: (index: number) => string;
  /** The path of the i-th request, when it changes per request. */
  readonly pathOf?: (index: number) => string;
  readonly connections: number;
  /** Stop after this many requests, or after `duration` seconds. */
  readonly amount?: number;
  readonly duration?: number;
  /** Keep every response time (ms, sub-millisecond precision) for percentiles. */
  readonly keepLatencies?: boolean;
  /** Called every few seconds with the count answered so far. */
  readonly progress?: (answered: number) => void;
}

export interface LoadOutcome {
  /** Requests built (each gets the next index): at least as many as were answered. */
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly latencies: number[];
}

/**
 * A saturating load with autocannon: each connection sends its next request when the last is
 * answered; a request generator gives each its own body. Response times come from autocannon's
 * per-response event, not its millisecond histogram, so a p99 of 2.4 ms reads as 2.4.
 */
export async function autocannonLoad(options: LoadOptions): Promise<LoadOutcome> {
  let sent = 0;
  const latencies: number[] = [];
  const request: autocannon.Request = {
    method: options.method ?? 'GET',
    path: options.path,
    setupRequest: (request) => {
      const index = sent++;
      return {
        ...request,
        ...(options.pathOf ? { path: options.pathOf(index) } : {}),
        ...(options.body ? { body: options.body(index) } : {}),
      };
    },
  };
  const started = performance.now();
  let answered = 0;
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<autocannon.Result>((resolveLoad, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        headers: options.headers,
        requests: [request],
        timeout: 30,
        ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 10 }),
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error('autocannon failed')) : resolveLoad(result)),
    );
  });
  instance?.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    answered++;
    if (options.keepLatencies) latencies.push(responseTime);
  });
  const ticker = options.progress ? setInterval(() => options.progress?.(answered), 5_000) : undefined;
  try {
    const result = await finished;
    const seconds = (performance.now() - started) / 1000;
    return { sent, ok: result['2xx'], failed: result.errors + result.timeouts + result.non2xx, seconds, latencies };
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/** A timed load whose bodies rotate: request n sends `bodies.at(n % count)` with each "{{n}}" replaced by n. */
export interface TimedLoad {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly duration: number;
  readonly bodies?: { readonly count: number; readonly at: (index: number) => string };
}

/** Response times in ms. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface TimedOutcome {
  readonly generator: GeneratorName;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly latency: LatencySummary;
  /**
   * Request numbers below this were all sent (each "{{n}}" with n below it went out): for
   * sampling acknowledged writes, of which the last `connections` may still have been in flight.
   */
  readonly sentBelow: number;
}

/** The body of request `n` of a rotating load. */
export const bodyOf = (bodies: NonNullable<TimedLoad['bodies']>, n: number): string => bodies.at(n % bodies.count).replaceAll('{{n}}', String(n));

/** "79.00us", "3.21ms", "1.02s", "2.00m" as milliseconds (wrk's units). */
export function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk duration: "${text}"`);
  const value = Number(match[1]);
  // Microseconds divided, not multiplied by 0.001, so 142.00us reads as exactly 0.142.
  return match[2] === 'us' ? value / 1000 : value * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

export interface WrkReport {
  readonly requests: number;
  readonly seconds: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly status: number; readonly timeout: number };
  /** From `--latency`'s "Latency Distribution" (50, 75, 90, 99), in ms. */
  readonly distribution: Readonly<Record<string, number>>;
  /** From the script's done() line, in ms (wrk records microseconds). */
  readonly latency: LatencySummary & { readonly p90: number; readonly mean: number };
  /** Requests each thread sent (the last of each may have been unanswered when the run ended). */
  readonly sentByThread: readonly number[];
}

interface WrkJson {
  requests: number;
  duration_us: number;
  errors: WrkReport['errors'];
  latency_us: { mean: number; max: number; p50: number; p90: number; p99: number; 'p99.9': number };
  sent: number[];
}

/** Parses the output of `wrk --latency -s wrk-bodies.lua`: its distribution table and the script's WRK_JSON line. */
export function parseWrkOutput(output: string): WrkReport {
  const line = output.split('\n').find((text) => text.startsWith('WRK_JSON '));
  if (!line) throw new Error('wrk printed no WRK_JSON line (was it run with tools/bench/wrk-bodies.lua?)');
  const json = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const distribution: Record<string, number> = {};
  const table = /Latency Distribution\n((?:\s+[\d.]+%\s+\S+\n)+)/.exec(output);
  for (const row of table?.[1]?.trim().split('\n') ?? []) {
    const [percent, value] = row.trim().split(/\s+/);
    if (percent && value) distribution[percent.replace('%', '')] = wrkDurationMs(value);
  }
  const ms = (us: number): number => us / 1000;
  return {
    requests: json.requests,
    seconds: json.duration_us / 1e6,
    errors: json.errors,
    distribution,
    latency: {
      p50: ms(json.latency_us.p50),
      p90: ms(json.latency_us.p90),
      p99: ms(json.latency_us.p99),
      p999: ms(json.latency_us['p99.9']),
      max: ms(json.latency_us.max),
      mean: ms(json.latency_us.mean),
    },
    sentByThread: json.sent,
  };
}

/** Request numbers below which every request was sent: thread t of T sends t, t + T, t + 2T, … */
export function sentBelow(sentByThread: readonly number[]): number {
  const threads = sentByThread.length;
  return threads === 0 ? 0 : Math.max(0, Math.min(...sentByThread)) * threads;
}

interface OhaJson {
  summary: { total: number; successRate: number };
  latencyPercentiles: { p50: number | null; p99: number | null; 'p99.9': number | null };
  slowest?: number;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
}

/** Parses `oha --no-tui --output-format json`: seconds everywhere, ms here. */
export function parseOhaOutput(output: string): Omit<TimedOutcome, 'generator' | 'sentBelow'> {
  const json = JSON.parse(output) as OhaJson;
  const statuses = Object.entries(json.statusCodeDistribution);
  const ok = statuses.filter(([status]) => status.startsWith('2')).reduce((sum, [, count]) => sum + count, 0);
  const failed = statuses.filter(([status]) => !status.startsWith('2')).reduce((sum, [, count]) => sum + count, 0) + Object.values(json.errorDistribution).reduce((sum, count) => sum + count, 0);
  const ms = (seconds: number | null): number => (seconds ?? Number.NaN) * 1000;
  return {
    ok,
    failed,
    seconds: json.summary.total,
    latency: { p50: ms(json.latencyPercentiles.p50), p99: ms(json.latencyPercentiles.p99), p999: ms(json.latencyPercentiles['p99.9']), max: ms(json.slowest ?? null) },
  };
}

export interface GeneratorChoice {
  readonly generator: GeneratorName;
  readonly pin: boolean;
  /** Why the choice differs from what was asked, if it does: printed by the bench. */
  readonly notes: readonly string[];
}

/** What the machine has, so the choice can be tested without it. */
export interface Machine {
  readonly has: (command: string) => boolean;
  readonly cpus: number;
  /** The 1-minute load average as the bench starts: the other work on the host. */
  readonly loadAverage: number;
}

const onPath = (command: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export const thisMachine: Machine = { has: onPath, cpus: cpus().length, loadAverage: loadavg()[0] ?? 0 };

/** A load average above this, before the bench runs anything, is other work sharing the CPUs. */
const BUSY_HOST = 1.5;

/**
 * The generator and pinning to use: by default wrk, pinned, when wrk is installed, autocannon
 * unpinned otherwise. A generator asked for but absent falls back (wrk, then autocannon), and
 * pinning needs taskset and at least 2 CPUs; each fallback is given a reason.
 */
export function chooseGenerator(asked: { generator?: GeneratorName; pin?: boolean }, machine: Machine = thisMachine): GeneratorChoice {
  const notes: string[] = [];
  let generator: GeneratorName = asked.generator ?? (machine.has('wrk') ? 'wrk' : 'autocannon');
  if (asked.generator === undefined && generator === 'autocannon') notes.push('wrk is not installed (apt-get install wrk): autocannon, in the bench process, generates the load');
  if (generator === 'oha' && !machine.has('oha')) {
    generator = machine.has('wrk') ? 'wrk' : 'autocannon';
    notes.push(`oha is not installed (cargo install oha): ${generator} instead`);
  }
  if (generator === 'wrk' && !machine.has('wrk')) {
    generator = 'autocannon';
    notes.push('wrk is not installed (apt-get install wrk): autocannon instead');
  }
  let pin = asked.pin ?? generator !== 'autocannon';
  if (pin && !machine.has('taskset')) {
    pin = false;
    notes.push('taskset is not installed (util-linux): server and generator not pinned');
  } else if (pin && machine.cpus < 2) {
    pin = false;
    notes.push(`${machine.cpus} CPU: server and generator not pinned`);
  }
  // Measured at 1,000,000 identities with a load average of 12: pinned, 2,500 to 2,900 stored identifies/s; unpinned, 5,500 to 9,500.
  if (pin && machine.loadAverage > BUSY_HOST) {
    notes.push(`load average ${machine.loadAverage.toFixed(1)}: other processes share the server's CPU, and pinned it cannot move away from them; its figures suffer more than unpinned (--no-pin)`);
  }
  return { generator, pin, notes };
}

/** The CPU the server gets when pinned; the generator and the bench process get the other. */
export const SERVER_CPU = 0;
export const GENERATOR_CPU = 1;

/** Pins a running process and all its threads to one CPU, or lets it run on all of them again (threads it starts later inherit it). */
export function pinProcess(pid: number, cpu: number | 'all'): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpu === 'all' ? `0-${cpus().length - 1}` : String(cpu), String(pid)], { stdio: 'ignore' });
}

const run = (command: string, args: string[]): Promise<string> =>
  new Promise((resolveRun, reject) =>
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${error.message}\n${stderr}`)) : resolveRun(stdout),
    ),
  );

const headerArgs = (headers: Record<string, string>): string[] => Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);

/** One wrk thread drives 50 connections at far more than the server answers, on the one CPU it is given. */
const WRK_THREADS = 1;

async function wrkLoad(load: TimedLoad, pin: boolean, workDir: string): Promise<TimedOutcome> {
  const file = join(workDir, `wrk-bodies-${process.pid}-${Date.now()}.txt`);
  const args = ['-t', String(WRK_THREADS), '-c', String(load.connections), '-d', `${load.duration}s`, '--timeout', '30s', '--latency', '-s', join(__dirname, 'wrk-bodies.lua'), ...headerArgs(load.headers), `${load.url}${load.path}`, '--'];
  if (load.bodies) {
    const lines: string[] = [];
    for (let index = 0; index < load.bodies.count; index++) {
      const body = load.bodies.at(index);
      if (body.includes('\n')) throw new Error('a wrk body must be one line');
      lines.push(body);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    args.push(file, load.method, String(WRK_THREADS));
  } else args.push('', load.method, String(WRK_THREADS));
  let output: string;
  try {
    output = pin ? await run('taskset', ['-c', String(GENERATOR_CPU), 'wrk', ...args]) : await run('wrk', args);
  } finally {
    rmSync(file, { force: true });
  }
  const report = parseWrkOutput(output);
  const failed = report.errors.status + report.errors.connect + report.errors.read + report.errors.write + report.errors.timeout;
  return { generator: 'wrk', ok: report.requests - report.errors.status, failed, seconds: report.seconds, latency: report.latency, sentBelow: sentBelow(report.sentByThread) };
}

async function ohaLoad(load: TimedLoad, pin: boolean): Promise<TimedOutcome> {
  const args = ['--no-tui', '--output-format', 'json', '-z', `${load.duration}s`, '-c', String(load.connections), '-m', load.method, ...headerArgs(load.headers)];
  if (load.bodies) args.push('-d', bodyOf(load.bodies, 0));
  args.push(`${load.url}${load.path}`);
  const output = pin ? await run('taskset', ['-c', String(GENERATOR_CPU), 'oha', ...args]) : await run('oha', args);
  return { generator: 'oha', ...parseOhaOutput(output), sentBelow: 0 };
}

/** The nearest-rank percentile of `values` (q in 0..1). */
function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * Runs a timed load with the chosen generator (the server, if pinned, is pinned by the caller with
 * `pinProcess(pid, SERVER_CPU)`). oha sends one body, so a load whose bodies change per request
 * runs on wrk (or autocannon) instead, with a note. `workDir` holds wrk's bodies file for the run.
 */
export async function runTimedLoad(load: TimedLoad, choice: GeneratorChoice, workDir = tmpdir(), note: (line: string) => void = console.log): Promise<TimedOutcome> {
  let generator = choice.generator;
  if (generator === 'oha' && load.bodies && (load.bodies.count > 1 || load.bodies.at(0).includes('{{n}}'))) {
    generator = onPath('wrk') ? 'wrk' : 'autocannon';
    note(`  oha sends one body and this load's bodies change per request: ${generator} instead`);
  }
  if (generator === 'wrk') return wrkLoad(load, choice.pin, workDir);
  if (generator === 'oha') return ohaLoad(load, choice.pin);
  const { bodies } = load;
  // autocannon runs in this process: pinned, this process takes the generator's CPU for the run
  // (and gives it back after, so the processes it starts later are not confined to it).
  if (choice.pin) pinProcess(process.pid, GENERATOR_CPU);
  const outcome = await autocannonLoad({
    url: load.url,
    method: load.method,
    path: load.path,
    headers: load.headers,
    connections: load.connections,
    duration: load.duration,
    keepLatencies: true,
    ...(bodies ? { body: (n: number) => bodyOf(bodies, n) } : {}),
  }).finally(() => {
    if (choice.pin) pinProcess(process.pid, 'all');
  });
  const sorted = [...outcome.latencies].sort((a, b) => a - b);
  return {
    generator: 'autocannon',
    ok: outcome.ok,
    failed: outcome.failed,
    seconds: outcome.seconds,
    latency: { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99), p999: nearestRank(sorted, 0.999), max: sorted[sorted.length - 1] ?? Number.NaN },
    sentBelow: outcome.sent,
  };
}

/** How the load was generated, for a table's header: "wrk, server on CPU 0 and wrk on CPU 1". */
export function describeChoice(choice: GeneratorChoice): string {
  return choice.pin ? `${choice.generator}, server pinned to CPU ${SERVER_CPU} and ${choice.generator === 'autocannon' ? 'the bench process' : choice.generator} to CPU ${GENERATOR_CPU}` : `${choice.generator}, unpinned`;
}
