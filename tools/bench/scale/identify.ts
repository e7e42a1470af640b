import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { AdminClient } from '../admin-client';
import { createBenchEnvironment, type BenchIdentity } from '../fixture';
import { describeChoice } from '../load-generator';
import { freePort, waitFor } from '../support';
import { environmentReadModels, generatorFromArguments, newIdentifyRound, newIdentity, pinServer, startFloor, timedRun, TRAIT_ROTATION, transparencyChecked, type Floor, type TimedRun } from './identities';
import { startOptionsOf } from './builds';
import { NodeProcess, rssMb } from './processes';
import { median } from './report';
import { breakdownByKind, formatBreakdown, profileThreads, recordThreads, threadCpuMs } from './thread-cpu';

const HELP = `Identify of new identities against transient identifies, on one standalone server:
POST /api/v1/identities/ with a server key, a new identifier and 5 traits per request (each one
creates an identity: one event sealed and appended, its key durable, before the answer), and the
same bodies with "transient": true (evaluated, nothing stored), in alternating rounds, as
bench:scale's scenario 4 makes them. Prints each run's rate, p50/p99, the server's CPU per request
(all its threads: the figure a loaded host moves least, and its main thread's, the event loop's), both ratios, and checks that a sample of
the acknowledged identities is served with its traits.

  node -r @swc-node/register tools/bench/scale/identify.ts [options]
  --dist               run dist/apps/standalone/src/main.js (npm run build first); sources otherwise
  --server-root DIR    the checkout whose server runs (a worktree of the code before a change)
  --rounds R           rounds of new and transient runs (default 1; orders alternate)
  --new-only           new identities only (a profile of them alone)
  --floor              also runs of the floor, in turns with the app's new identities: a bare
                       node:http server that stores each new identity durably and no more
                       (tools/bench/peers/durable-identify-server.ts), under the same load
  --floor-processes N  the floor as N processes on its port, appending to one log (default 1)
  --floor-evaluates    the floor evaluates as the app does (the app's registry and SDK service over
                       the environment cut from the app's read models) instead of answering fixed
                       flags, and runs transient identifies too: its own ratio of new to transient
  --profile            the server's CPU profile (--cpu-prof) under the data directory, kept
  --threads            where the first new-identity run's CPU goes: each kind of thread's CPU per
                       request (main, V8 platform, libuv pool, Node workers; from /proc) split by
                       kind of work (GC, compiling, fsync, SQLite, JSON, crypto, network, kernel, other) by
                       the shares of \`perf record\` call stacks of every thread (needs perf)
  --data-dir-from DIR  start from a copy of DIR, loaded by identify-stored.ts --data-dir DIR
                       (the new identities then land in files of that size; default: empty),
                       once the server's start-up check of the log against its tree is done
  --generator G        wrk, oha or autocannon (default wrk when installed)
  --pin / --no-pin     server on CPU 0 and generator on CPU 1, or the server free on every core
                       (default: pinned with wrk)
Env: IDENTIFY_DURATION (s per run, default 10), IDENTIFY_CONNECTIONS (default 50),
SERVER_NODE_ARGS (node options for the server, e.g. --trace-gc; the server's output goes to
$TMPDIR/flagline-identify-<this script's pid>.log, kept).`;

const root = resolve(option('--server-root') ?? resolve(__dirname, '..', '..', '..'));
const DURATION = Number(process.env['IDENTIFY_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['IDENTIFY_CONNECTIONS'] ?? 50);
const useDist = process.argv.includes('--dist');
const profile = process.argv.includes('--profile');
const newOnly = process.argv.includes('--new-only');
const threads = process.argv.includes('--threads');
const floorEvaluates = process.argv.includes('--floor-evaluates');
const floorProcesses = Number(option('--floor-processes') ?? 1);
const floor = process.argv.includes('--floor') || floorEvaluates || option('--floor-processes') !== undefined;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const row = (name: string, run: TimedRun): string =>
  `${name.padEnd(10)} ${run.rate.toFixed(0).padStart(7)}/s  p50 ${run.p50.toFixed(2).padStart(6)} ms  p99 ${run.p99.toFixed(2).padStart(7)} ms  server CPU ${run.cpuPerRequest.toFixed(0).padStart(4)} µs/request (main thread ${run.mainThreadCpuPerRequest.toFixed(0).padStart(4)})  ok ${run.ok}  failed ${run.failed}  load average ${loadavg()[0]?.toFixed(2)}`;

/**
 * Each thread's CPU over a run (from its start to \`report\`), and perf's call stacks of every thread
 * over its middle (from 1 s in, for the run's length less 3 s), to name and split it.
 */
function traceThreads(pid: number, file: string): { report: (requests: number) => Promise<string> } {
  const before = threadCpuMs(pid);
  const recorded = new Promise<void>((resolveWait) => setTimeout(resolveWait, 1000)).then(() => recordThreads(pid, Math.max(1, DURATION - 3), file));
  return {
    async report(requests) {
      const after = threadCpuMs(pid);
      const used = new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const));
      const perf = await recorded;
      if ('unavailable' in perf) return `threads: ${perf.unavailable}; CPU per request by thread id: ${[...used].map(([tid, ms]) => `${tid} ${((ms * 1000) / Math.max(1, requests)).toFixed(1)}`).join(', ')} µs`;
      return `where the CPU went, µs per request (perf samples split each kind's /proc CPU):\n${formatBreakdown(breakdownByKind(used, profileThreads(perf.script, pid), requests))}`;
    },
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const choice = generatorFromArguments(process.argv);
  const rounds = Number(option('--rounds') ?? 1);
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-identify-'));
  const from = option('--data-dir-from');
  let server: NodeProcess | undefined;
  let floorServer: Floor | undefined;
  try {
    const port = await freePort();
    // A loaded directory is copied whole (the copy is removed at the end), its keys read from identify-stored.ts's manifest.
    const loaded = from === undefined ? undefined : (JSON.parse(await readFile(join(from, 'identify-stored.json'), 'utf8')) as { adminKey: string; serverKey: string; identities: number });
    const left = (source: string): boolean => ['server.log', 'profile'].includes(relative(from ?? '', source).split(sep)[0] ?? '');
    if (from !== undefined) await cp(from, dataDir, { recursive: true, filter: (source) => !left(source) });
    const adminKey = loaded?.adminKey ?? `flk_${randomBytes(24).toString('base64url')}`;
    const entry = useDist ? [join(root, 'dist', 'apps', 'standalone', 'src', 'main.js')] : ['-r', '@swc-node/register', join(root, 'apps', 'standalone', 'src', 'main.ts')];
    const args = [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(dataDir, 'profile')}`] : []), ...entry];
    server = new NodeProcess(args[0] as string, {
      cwd: root,
      args: args.slice(1),
      nodeOptions: startOptionsOf(root),
      env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
      logFile: join(tmpdir(), `flagline-identify-${process.pid}.log`),
    });
    const base = `http://127.0.0.1:${port}`;
    await Promise.race([waitFor(`${base}/health`, 600_000), server.failOnExit()]);
    // A loaded log's start-up check against its Merkle tree runs behind the serving: measured after it.
    while (loaded && !(await transparencyChecked(base))) await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    const serverKey = loaded?.serverKey ?? (await createBenchEnvironment(new AdminClient(base, adminKey))).serverKey;
    const headers = { 'x-environment-key': serverKey, 'content-type': 'application/json' };
    pinServer(server.pid, choice);
    const rssBefore = await rssMb(server.pid);
    console.log(`\nIdentify, ${CONNECTIONS} connections, ${DURATION} s each, server from ${useDist ? 'dist' : 'sources'} of ${root}${profile ? ' (profiling)' : ''}${loaded ? `, on a copy of ${from ?? ''} (${loaded.identities.toLocaleString('en')} identities)` : ''}; ${describeChoice(choice)}`);

    const make = (kind: 'new' | 'transient', prefix: string, seconds: number) => newIdentifyRound(base, headers, CONNECTIONS, seconds, kind, prefix);
    // Warm-up: both paths compiled and the JIT settled before measuring.
    await timedRun(make('new', 'warm-', 2), server.pid, choice);
    if (!newOnly) await timedRun(make('transient', 'warm-', 2), server.pid, choice);

    // The floor: its own server and data directory, pinned as the app's is, warmed up the same way.
    let floorRun: ((kind: 'new' | 'transient', prefix: string, seconds: number) => Promise<TimedRun>) | undefined;
    if (floor) {
      let readModels: string | undefined;
      if (floorEvaluates) {
        readModels = join(dataDir, 'floor-read-models.sqlite');
        environmentReadModels(dataDir, readModels);
      }
      const started = await startFloor(join(dataDir, 'floor'), { processes: floorProcesses, ...(readModels === undefined ? {} : { readModels }) });
      floorServer = started;
      for (const pid of started.pids) pinServer(pid, choice);
      floorRun = (kind, prefix, seconds) => timedRun(newIdentifyRound(started.url, headers, CONNECTIONS, seconds, kind, prefix), started.pids, choice);
      await floorRun('new', 'warm-', 2);
      if (floorEvaluates) await floorRun('transient', 'warm-', 2);
    }

    const runs: { new: TimedRun[]; transient: TimedRun[]; floor: TimedRun[]; floorTransient: TimedRun[] } = { new: [], transient: [], floor: [], floorTransient: [] };
    const acknowledged: BenchIdentity[] = [];
    for (let round = 0; round < rounds; round++) {
      const appOrder = newOnly ? (['new'] as const) : round % 2 === 0 ? (['transient', 'new'] as const) : (['new', 'transient'] as const);
      const floorOrder = floorEvaluates ? (round % 2 === 0 ? (['floor', 'floorTransient'] as const) : (['floorTransient', 'floor'] as const)) : (['floor'] as const);
      const order: readonly ('new' | 'transient' | 'floor' | 'floorTransient')[] = floorRun ? (round % 2 === 0 ? [...appOrder, ...floorOrder] : [...floorOrder, ...appOrder]) : appOrder;
      for (const kind of order) {
        const prefix = `${kind}-${round}-`;
        if (kind === 'floor' || kind === 'floorTransient') {
          const run = await (floorRun as NonNullable<typeof floorRun>)(kind === 'floor' ? 'new' : 'transient', prefix, DURATION);
          runs[kind].push(run);
          console.log(row(kind === 'floor' ? 'floor' : 'floor tr.', run));
          continue;
        }
        const traced = threads && kind === 'new' && runs.new.length === 0 ? traceThreads(server.pid, join(dataDir, 'perf.data')) : null;
        const run = await timedRun(make(kind, prefix, DURATION), server.pid, choice);
        runs[kind].push(run);
        console.log(row(kind, run));
        if (traced) console.log(await traced.report(run.ok + run.failed));
        if (kind === 'new') {
          // The last requests sent may still be in flight when the run ends: not acknowledged.
          const answered = Math.max(0, run.sentBelow - 2 * CONNECTIONS);
          for (let index = 0; index < 20 && answered > 0; index++) {
            const n = index < 10 ? answered - 1 - index : Math.floor(Math.random() * answered);
            acknowledged.push(newIdentity(prefix, n % TRAIT_ROTATION, String(n)));
          }
        }
      }
    }
    if (!newOnly) {
      const newRate = median(runs.new.map((run) => run.rate));
      const transientRate = median(runs.transient.map((run) => run.rate));
      const newCpu = median(runs.new.map((run) => run.cpuPerRequest));
      const transientCpu = median(runs.transient.map((run) => run.cpuPerRequest));
      console.log(`ratio new/transient: ${(newRate / transientRate).toFixed(2)} (medians of the rates), ${(transientCpu / newCpu).toFixed(2)} (of server CPU per request: ${newCpu.toFixed(0)} against ${transientCpu.toFixed(0)} µs)`);
    }
    if (runs.floor.length > 0) {
      const newRate = median(runs.new.map((run) => run.rate));
      const floorRate = median(runs.floor.map((run) => run.rate));
      const newCpu = median(runs.new.map((run) => run.cpuPerRequest));
      const floorCpu = median(runs.floor.map((run) => run.cpuPerRequest));
      console.log(`new identities against the floor: ${(newRate / floorRate).toFixed(2)} of its rate (medians: ${newRate.toFixed(0)} against ${floorRate.toFixed(0)}/s), ${(newCpu / floorCpu).toFixed(2)} times its server CPU per request (${newCpu.toFixed(0)} against ${floorCpu.toFixed(0)} µs)`);
      if (runs.floorTransient.length > 0) {
        const floorTransientRate = median(runs.floorTransient.map((run) => run.rate));
        console.log(`the floor's own ratio, new/transient: ${(floorRate / floorTransientRate).toFixed(2)} (medians: ${floorRate.toFixed(0)} against ${floorTransientRate.toFixed(0)}/s; CPU per request ${floorCpu.toFixed(0)} against ${median(runs.floorTransient.map((run) => run.cpuPerRequest)).toFixed(0)} µs)`);
      }
    }
    console.log(`server RSS ${rssBefore?.toFixed(0)} MB before, ${(await rssMb(server.pid))?.toFixed(0)} MB after`);

    // Acknowledged identities are served with their traits by the next request.
    let missing = 0;
    for (const identity of acknowledged) {
      const response = await fetch(`${base}/api/v1/identities/?identifier=${encodeURIComponent(identity.identifier)}`, { headers });
      const answer = (await response.json()) as { traits?: { trait_key: string; trait_value: unknown }[] };
      const stored = new Map((answer.traits ?? []).map((trait) => [trait.trait_key, trait.trait_value]));
      if (!Object.entries(identity.traits).every(([key, value]) => stored.get(key) === value)) missing++;
    }
    console.log(`acknowledged, checked: ${acknowledged.length - missing} of ${acknowledged.length} served with their traits${missing > 0 ? ' (SOME LOST)' : ''}`);
  } finally {
    await floorServer?.stop();
    await server?.stop();
    if (profile) console.log(`CPU profile in ${join(dataDir, 'profile')}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
