import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createBenchEnvironment, type BenchEnvironment, type BenchIdentity } from '../fixture';
import { chooseGenerator, GENERATOR_CPU, pinProcess, runTimedLoad, SERVER_CPU, type GeneratorChoice, type TimedLoad } from '../load-generator';
import { forkPeer } from '../peers/fork-peer';
import { freePort, identityBody } from '../support';
import type { Build } from './builds';
import { load } from './load';
import { childProcesses, cpuMs, rssFileMb, rssMb, sleep } from './processes';
import { median, type Results } from './report';
import { StandaloneServer } from './standalone';

/** The floor server of scenario 4 (see `startFloor`). */
export interface Floor {
  readonly url: string;
  /** Its processes: the one server, or the cluster's primary and its workers (`processes` > 1). */
  readonly pids: readonly number[];
  /** Stops it and removes its data directory. */
  stop(): Promise<void>;
}

export interface FloorOptions {
  /** Processes on its port, all appending to one log (default 1). */
  readonly processes?: number;
  /** A read-model file with the environment (`environmentReadModels`): the floor then evaluates as the app does, and answers transient identifies too. */
  readonly readModels?: string;
}

/**
 * Starts tools/bench/peers/durable-identify-server.ts on a free port with its files in `directory`:
 * the least a node:http server does to store a new identity durably, the floor of scenario 4.
 */
export async function startFloor(directory: string, options: FloorOptions = {}): Promise<Floor> {
  const port = await freePort();
  let started: ChildProcess | undefined;
  const args = [String(port), directory, '--processes', String(options.processes ?? 1), ...(options.readModels === undefined ? [] : ['--read-models', options.readModels])];
  try {
    const child = await forkPeer('durable-identify-server.ts', args, (forked) => (started = forked));
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    const pid = child.pid as number;
    return {
      url: `http://127.0.0.1:${port}`,
      pids: [pid, ...childProcesses(pid)],
      async stop() {
        child.kill('SIGTERM');
        await exited;
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    started?.kill('SIGKILL');
    throw error;
  }
}

/**
 * A copy of the app's read-model file (`read-models.sqlite` under `dataDir`, read while the app
 * runs) without its identity documents, written to `path`: the environments, projects and
 * organisations the app serves from, for a floor that evaluates as the app does.
 */
export function environmentReadModels(dataDir: string, path: string): void {
  const cut = new Database(path);
  try {
    // Only read: the app's own connection keeps writing its file meanwhile (WAL readers do not block it).
    cut.exec(`ATTACH DATABASE '${join(dataDir, 'read-models.sqlite').replaceAll("'", "''")}' AS app`);
    const tables = cut.prepare(`SELECT name, sql FROM app.sqlite_schema WHERE type = 'table'`).all() as { name: string; sql: string }[];
    cut.transaction(() => {
      for (const { name, sql } of tables) {
        cut.exec(sql);
        cut.exec(`INSERT INTO main.${name} SELECT * FROM app.${name}${name === 'documents' ? ` WHERE key NOT LIKE 'identity:%'` : ''}`);
      }
    })();
  } finally {
    cut.close();
  }
}

/** Whether the server's start-up check of the log against its Merkle tree is done (true when it has no such check). */
export async function transparencyChecked(base: string): Promise<boolean> {
  const health = (await (await fetch(`${base}/health`)).json()) as { transparency?: { checked?: boolean } };
  return health.transparency?.checked !== false;
}

export interface IdentityOptions {
  readonly identities: number;
  readonly connections: number;
  /** Seconds of each measured load run (identify p99, each new/transient round). */
  readonly duration: number;
  readonly rounds: number;
  /** Identities read back through the admin API to check they were stored. */
  readonly sample: number;
  /** The generator of scenarios 3 and 4 and whether server and generator are pinned (scenario 1 loads a count of identities with autocannon). */
  readonly generator: GeneratorChoice;
  readonly log: (line: string) => void;
}

const PLANS = ['free', 'pro', 'enterprise', 'team'];
const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east', 'af-north'];

/** The `index`-th identity of a load: 5 traits of mixed types, the same every run. */
export function scaleIdentity(prefix: string, index: number): BenchIdentity {
  return {
    identifier: `${prefix}${index}`,
    traits: {
      plan: PLANS[index % PLANS.length] as string,
      region: REGIONS[index % REGIONS.length] as string,
      app_version: `${1 + (index % 4)}.${index % 12}.${index % 9}`,
      seats: 1 + (index % 40),
      email: `member${index}@${index % 7 === 0 ? 'example.com' : 'mail.test'}`,
    },
  };
}

const LOADED = 'scale-';

/** Stable pseudo-random indexes (an LCG), so both builds are probed on the same identities. */
function sampleIndexes(count: number, below: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: Math.min(count, below) }, () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % below;
  });
}

/**
 * Identify bodies of stored identities (`prefix` + index, below `below`), drawn at random by a
 * seeded LCG with the traits they have, one for each request a run can send (`count`, so that a
 * run rarely asks for an identity twice, as a million users would not): the generator rotates them.
 */
export function storedIdentifyBodies(prefix: string, below: number, count: number, seed: number): NonNullable<TimedLoad['bodies']> {
  const indexes = sampleIndexes(count, below, seed);
  return { count: indexes.length, at: (index) => identityBody(scaleIdentity(prefix, indexes[index] as number)) };
}

/** Seconds of stored identifies right after the restart, beside the start-up check, before scenario 3's measured run. */
export const WARM_UP_SECONDS = 5;
/**
 * Seconds of stored identifies on new connections once the start-up check is done, before
 * scenario 3's measured run. The warm-up's load generator ends with its 50 requests in flight,
 * and those first aborted requests take Node's HTTP and stream code down paths it had not run:
 * V8 drops the optimised code of 26 of their functions at once (an assumption it was compiled
 * under stopped holding), and the next load runs them unoptimised while about 240 ms of them is
 * compiled again, on the server's one pinned core. Measured without this run, the next 10 s had nearly
 * all of their slow answers in their first 0.6 s (README, "The first load after the warm-up").
 * Once, in a process's life; a service sees its first clients go away early on.
 */
export const SETTLE_SECONDS = 2;
/** Seconds of identifies of working sets of stored identities after scenario 3's measured run, before RSS is read again. */
export const SUSTAINED_SECONDS = 60;
/** Stored identities asked for in turn in a working set (each about every second and a half at 20,000/s). */
export const WORKING_SET = 30_000;
/** Seconds each working set is asked for before the next one. */
export const WORKING_SET_SECONDS = 10;

/** Bodies enough for `seconds` of identifies at a rate well above what one server answers. */
export const bodiesFor = (seconds: number): number => Math.max(50_000, 30_000 * seconds);

export interface TimedRun {
  readonly ok: number;
  readonly failed: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** The server's CPU (all threads) per answered request, µs. */
  readonly cpuPerRequest: number;
  /** Its main thread's (the event loop's) alone, µs. */
  readonly mainThreadCpuPerRequest: number;
  readonly sentBelow: number;
}

/** A timed load with the chosen generator, and the server's CPU per request over it (all of its processes'). */
export async function timedRun(load: TimedLoad, server: number | readonly number[], choice: GeneratorChoice): Promise<TimedRun> {
  // A server of several processes (a floor's cluster): their CPU together, and their main threads'.
  const pids = typeof server === 'number' ? [server] : server;
  const sum = (mainThreadOnly: boolean): number => pids.reduce((total, pid) => total + cpuMs(pid, mainThreadOnly), 0);
  const before = sum(false);
  const mainBefore = sum(true);
  const outcome = await runTimedLoad(load, choice);
  const cpu = sum(false) - before;
  const mainCpu = sum(true) - mainBefore;
  const requests = outcome.ok + outcome.failed;
  return {
    ok: outcome.ok,
    failed: outcome.failed,
    rate: outcome.ok / outcome.seconds,
    ...outcome.latency,
    cpuPerRequest: (cpu * 1000) / Math.max(1, requests),
    mainThreadCpuPerRequest: (mainCpu * 1000) / Math.max(1, requests),
    sentBelow: outcome.sentBelow,
  };
}

/** The generator and pinning a script's command line asks for (`--generator G`, `--pin`, `--no-pin`), its notes printed. */
export function generatorFromArguments(argv: readonly string[]): GeneratorChoice {
  const at = argv.indexOf('--generator');
  const generator = at === -1 ? undefined : argv[at + 1];
  if (generator !== undefined && generator !== 'wrk' && generator !== 'oha' && generator !== 'autocannon') throw new Error(`--generator must be wrk, oha or autocannon, got "${generator}"`);
  const choice = chooseGenerator({
    ...(generator ? { generator } : {}),
    ...(argv.includes('--pin') ? { pin: true } : argv.includes('--no-pin') ? { pin: false } : {}),
  });
  for (const note of choice.notes) console.log(`load generator: ${note}`);
  return choice;
}

/** Pins the server to its CPU when the choice says so (the generator is pinned as it runs). */
export function pinServer(pid: number, choice: GeneratorChoice): void {
  if (choice.pin) pinProcess(pid, SERVER_CPU);
}

export { GENERATOR_CPU };

interface StoredIdentity {
  traits?: Record<string, unknown> | { trait_key: string; trait_value: unknown }[];
}

/** Trait sets the new identities of scenario 4 rotate over (their identifiers are all new). */
export const TRAIT_ROTATION = 5_040;

/** The identity `prefix` + `number` carrying the traits of the `traitsOf`-th identity of a load. */
export const newIdentity = (prefix: string, traitsOf: number, number: string): BenchIdentity => ({ ...scaleIdentity(prefix, traitsOf), identifier: `${prefix}${number}` });

/**
 * A run of identifies of identities never seen (scenario 4, and tools/bench/scale/identify.ts):
 * every request a new identifier (`prefix` and "{{n}}", the request's number) with the traits of
 * the n-th identity of a rotation, stored (`new`) or evaluated only (`transient`).
 */
export function newIdentifyRound(url: string, headers: Record<string, string>, connections: number, duration: number, kind: 'new' | 'transient', prefix: string): TimedLoad {
  return {
    url,
    method: 'POST',
    path: '/api/v1/identities/',
    headers,
    connections,
    duration,
    bodies: { count: TRAIT_ROTATION, at: (index) => identityBody(newIdentity(prefix, index, '{{n}}'), kind === 'transient' ? { transient: true } : {}) },
  };
}

/**
 * Seconds from `startedAt` (performance.now()) until /health says the start-up check of the log
 * against the Merkle tree is done, or undefined for a build whose /health does not report one.
 */
async function merkleCheckDone(server: StandaloneServer, startedAt: number, timeoutMs = 900_000): Promise<number | undefined> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    const transparency = (await server.health())?.['transparency'] as { checked?: unknown } | undefined;
    if (transparency?.checked === undefined) return undefined;
    if (transparency.checked === true) return (performance.now() - startedAt) / 1000;
  }
  throw new Error(`the start-up Merkle check was not done after ${timeoutMs / 1000} s`);
}

/** Identities of the sample that the admin API does not return with all their traits. */
async function missingIdentities(server: StandaloneServer, environmentId: number, identities: BenchIdentity[]): Promise<string[]> {
  const missing: string[] = [];
  for (const identity of identities) {
    try {
      const stored = await server.admin.call<StoredIdentity>('GET', `/environments/${environmentId}/identities/${encodeURIComponent(identity.identifier)}`);
      const traits = stored.traits ?? {};
      const values: Record<string, unknown> = Array.isArray(traits) ? Object.fromEntries(traits.map((trait) => [trait.trait_key, trait.trait_value])) : traits;
      if (Object.entries(identity.traits).some(([key, value]) => values[key] !== value)) missing.push(identity.identifier);
    } catch {
      missing.push(identity.identifier);
    }
  }
  return missing;
}

/** Whether identify of a stored identity answers with its stored traits (without sending them). */
async function identifiesStored(server: StandaloneServer, bench: BenchEnvironment, identity: BenchIdentity): Promise<true | undefined> {
  const response = await fetch(`${server.url}/api/v1/identities/?identifier=${encodeURIComponent(identity.identifier)}`, {
    headers: { 'x-environment-key': bench.serverKey },
  });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { traits?: { trait_key: string; trait_value: unknown }[] };
  const traits = new Map((body.traits ?? []).map((trait) => [trait.trait_key, trait.trait_value]));
  return Object.entries(identity.traits).every(([key, value]) => traits.get(key) === value) ? true : undefined;
}

/**
 * Figures 1 to 4 on one data directory: load N identities, restart, identify stored identities,
 * then new against transient identifies. Leaves the server stopped; returns the log position.
 */
export async function measureIdentities(
  build: Build,
  dataDir: string,
  adminKey: string,
  logFile: string,
  options: IdentityOptions,
  results: Results,
): Promise<{ position: number | undefined; environment: BenchEnvironment | undefined }> {
  const { log } = options;
  const n = options.identities;
  results['identities'] = { value: n };
  let server = await StandaloneServer.start(build, dataDir, adminKey, logFile);
  let bench: BenchEnvironment | undefined;
  const floors: Floor[] = [];
  try {
    await server.waitHealthy(60_000);
    bench = await createBenchEnvironment(server.admin);
    const headers = { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' };

    // 1. Load N identities, each a new identifier, 50 connections.
    log(`loading ${n.toLocaleString('en')} identities …`);
    server.process.rss.resetPeak();
    const loaded = await load({
      url: server.url,
      method: 'POST',
      path: '/api/v1/identities/',
      headers,
      connections: options.connections,
      amount: n,
      body: (index) => identityBody(scaleIdentity(LOADED, index)),
      progress: (answered) => log(`  ${answered.toLocaleString('en')} / ${n.toLocaleString('en')}, RSS ${Math.round(server.process.rss.peak)} MB peak`),
    });
    results['load.rate'] = { value: loaded.ok / loaded.seconds };
    results['load.errors'] = { value: loaded.failed };
    results['load.rssPeak'] = { value: server.process.rss.peak };
    results['load.rss'] = { value: await server.process.rss.settled() };
    const loadedPosition = await server.position();
    results['events'] = { value: loadedPosition ?? null, ...(loadedPosition === undefined ? { note: 'n/a (no position in /health)' } : {}) };
    log(`  ${Math.round(loaded.ok / loaded.seconds)}/s, ${loaded.failed} failed, RSS ${Math.round(results['load.rss'].value ?? 0)} MB; log position ${loadedPosition}`);

    // 2. Restart: SIGTERM, start again, ready = /health answers and a stored identity identifies with its traits.
    await server.stop();
    // The last requests autocannon built may not have been sent when it reached N: sample below them.
    const surelySent = Math.max(1, n - 2 * options.connections);
    const probe = scaleIdentity(LOADED, sampleIndexes(1, surelySent, 7)[0] as number);
    const started = performance.now();
    server = await StandaloneServer.start(build, dataDir, adminKey, logFile);
    const restarted = server;
    await restarted.waitHealthy(600_000);
    await Promise.race([
      (async () => {
        while (!(await identifiesStored(restarted, bench, probe).catch(() => undefined))) await sleep(10);
      })(),
      restarted.process.failOnExit(),
    ]);
    results['restart.seconds'] = { value: (performance.now() - started) / 1000 };
    results['restart.rssPeak'] = { value: server.process.rss.peak };
    results['restart.rss'] = { value: await server.process.rss.settled() };
    const intact = await missingIdentities(server, bench.environmentId, sampleIndexes(options.sample, surelySent, 11).map((index) => scaleIdentity(LOADED, index)));
    results['restart.stored'] = { value: intact.length, note: `of ${Math.min(options.sample, surelySent)}${intact.length > 0 ? `, e.g. ${intact[0]}` : ''}` };
    log(`  restart ${results['restart.seconds'].value?.toFixed(2)} s, RSS ${Math.round(results['restart.rss'].value ?? 0)} MB, ${intact.length} of the sample missing`);
    // 3. Identify of stored identities, random among those loaded, with the traits they have.
    const choice = options.generator;
    log(`identify of stored identities (${choice.generator}${choice.pin ? ', pinned' : ''}) …`);
    pinServer(server.process.pid, choice);
    const stored = (seed: number, seconds: number, bodies = bodiesFor(seconds)): TimedLoad => ({
      url: server.url,
      method: 'POST',
      path: '/api/v1/identities/',
      headers,
      connections: options.connections,
      duration: seconds,
      bodies: storedIdentifyBodies(LOADED, surelySent, bodies, seed),
    });
    // The first seconds after a start run the stored path's code unoptimised while V8 compiles it
    // (a pinned server's compiler threads share its CPU): about a seventh of the steady rate for the
    // first second, settling over the next two. They also run beside the start-up check of the log
    // against the Merkle tree (about 20 s at 1,000,000 identities), which shares the pinned core.
    // That is a figure of its own, with the event loop's CPU per request; the p99 is the steady one.
    const warming = await timedRun(stored(54_321, WARM_UP_SECONDS), server.process.pid, choice);
    const warmingNote = `first ${WARM_UP_SECONDS} s, ${Math.round(warming.rate)}/s, event loop ${Math.round(warming.mainThreadCpuPerRequest)} µs a request`;
    results['stored.warmP99'] = { value: warming.p99, note: warmingNote };
    // The steady run is measured once the check is done; how long it took, with those 5 s of serving in it, is a figure of its own.
    const checked = await merkleCheckDone(server, started);
    results['restart.check'] = checked === undefined ? { value: null, note: 'n/a (no start-up check in /health)' } : { value: checked, note: `serving the ${WARM_UP_SECONDS} s of warm-up for part of it` };
    if (checked !== undefined) log(`  start-up Merkle check done ${checked.toFixed(1)} s after the start`);
    // The first load on new connections after the warm-up's ended (see SETTLE_SECONDS): a figure of its own too.
    const settling = await timedRun(stored(24_680, SETTLE_SECONDS), server.process.pid, choice);
    results['stored.settleP99'] = {
      value: settling.p99,
      note: `${SETTLE_SECONDS} s, ${Math.round(settling.rate)}/s, p99.9 ${settling.p999.toFixed(1)} ms, event loop ${Math.round(settling.mainThreadCpuPerRequest)} µs a request`,
    };
    const identified = await timedRun(stored(12_345, options.duration), server.process.pid, choice);
    results['stored.p99'] = { value: identified.p99, ...(identified.failed > 0 ? { note: `${identified.failed} failed` } : {}) };
    results['stored.p999'] = { value: identified.p999 };
    results['stored.p50'] = { value: identified.p50 };
    results['stored.rate'] = { value: identified.rate };
    results['stored.cpu'] = { value: identified.cpuPerRequest };
    // What serving random stored identities leaves in memory (a map of the read models' file counts here, as file-backed pages).
    // RSS and its file-backed part (the map's pages), read together.
    const rssNow = async (): Promise<{ rss: number | undefined; file: number | undefined }> => ({ rss: await rssMb(server.process.pid), file: await rssFileMb(server.process.pid) });
    const served = await rssNow();
    results['stored.rss'] = { value: served.rss ?? null, ...(served.file !== undefined ? { note: `${Math.round(served.file)} MB of it file-backed` } : {}) };
    // Then working sets: 30,000 identities asked for in turn (an app's active users, whom the
    // caches see again and again), another 30,000 every 10 s (users come and go), for a minute.
    // What the app keeps per identity served (answers, documents) must stay bounded here too.
    for (let set = 0; set < SUSTAINED_SECONDS / WORKING_SET_SECONDS; set++) await timedRun(stored(67_890 + set, WORKING_SET_SECONDS, WORKING_SET), server.process.pid, choice);
    const sustained = await rssNow();
    results['stored.rssSustained'] = {
      value: sustained.rss ?? null,
      note: `${SUSTAINED_SECONDS / WORKING_SET_SECONDS} sets of ${WORKING_SET.toLocaleString('en')} in turn, ${WORKING_SET_SECONDS} s each${sustained.file !== undefined ? `, ${Math.round(sustained.file)} MB file-backed` : ''}`,
    };

    // 4. New identities against transient identifies, alternating rounds in the same run: first
    // with the server free on every core (as a deployment runs it: its worker threads, the Merkle
    // tree's follower, on the other core), the generator still pinned to its CPU when pinning;
    // then, when pinning, with the server pinned to CPU 0 as scenario 3 measures it.
    const modes: { mode: 'unpinned' | 'pinned'; prefix: string }[] = [{ mode: 'unpinned', prefix: '' }, ...(choice.pin ? [{ mode: 'pinned' as const, prefix: 'pinned.' }] : [])];
    const acknowledged: BenchIdentity[] = [];
    let newRate = 0;
    let transientRate = 0;
    // The floors, in the unpinned rounds: a bare server that evaluates each identify as the app
    // does (the app's registry and SDK service over the environment cut from its read models)
    // and stores each new identity durably, and no more (tools/bench/peers/durable-identify-server.ts),
    // under the same load, for what this machine allows a new identity whatever else the app does:
    // one process, as the app serves, and two on one port appending to one log (both cores). Each
    // runs new and transient identifies, for its own ratio of the two. Free on every core, as the
    // app is in the rounds it runs in, and warmed up as the app's paths were.
    const readModels = `${dataDir}-floor-read-models.sqlite`;
    environmentReadModels(dataDir, readModels);
    const floorSizes = [1, 2] as const;
    for (const processes of floorSizes) {
      const floor = await startFloor(`${dataDir}-floor-${processes}`, { processes, readModels });
      floors.push(floor);
      for (const kind of ['new', 'transient'] as const) await timedRun(newIdentifyRound(floor.url, headers, options.connections, 2, kind, `floor-warm-${processes}-`), floor.pids, choice);
    }
    await rm(readModels, { force: true });
    for (const { mode, prefix: key } of modes) {
      log(`identify of new identities against transient identifies (server ${mode}) …`);
      if (choice.pin) pinProcess(server.process.pid, mode === 'pinned' ? SERVER_CPU : 'all');
      const rates: { new: number[]; transient: number[] } = { new: [], transient: [] };
      const cpu: { new: number[]; transient: number[] } = { new: [], transient: [] };
      const mainCpu: number[] = [];
      let failedNew = 0;
      const floorRuns = floorSizes.map(() => ({ new: [] as TimedRun[], transient: [] as TimedRun[] }));
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? (['transient', 'new'] as const) : (['new', 'transient'] as const);
        const runFloor = async (): Promise<void> => {
          if (mode !== 'unpinned') return;
          for (const [at, floor] of floors.entries()) {
            const runs = floorRuns[at] as (typeof floorRuns)[number];
            for (const kind of order) runs[kind].push(await timedRun(newIdentifyRound(floor.url, headers, options.connections, options.duration, kind, `floor-${floorSizes[at] ?? 0}-${round}-`), floor.pids, choice));
          }
        };
        // First in one round, last in the next, as the app's two kinds alternate.
        if (round % 2 === 0) await runFloor();
        for (const kind of order) {
          const prefix = `${kind}-${mode}-${round}-`;
          const outcome = await timedRun(newIdentifyRound(server.url, headers, options.connections, options.duration, kind, prefix), server.process.pid, choice);
          rates[kind].push(outcome.rate);
          cpu[kind].push(outcome.cpuPerRequest);
          if (kind === 'new') {
            mainCpu.push(outcome.mainThreadCpuPerRequest);
            failedNew += outcome.failed;
            // The last requests sent may still be in flight when the run ends: not acknowledged.
            const answered = Math.max(0, outcome.sentBelow - 2 * options.connections);
            for (const index of sampleIndexes(Math.ceil(options.sample / options.rounds / modes.length), answered, 31 + round)) acknowledged.push(newIdentity(prefix, index % TRAIT_ROTATION, String(index)));
          }
        }
        if (round % 2 === 1) await runFloor();
      }
      const modeNew = median(rates.new);
      const modeTransient = median(rates.transient);
      results[`new.${key}rate`] = { value: modeNew, ...(failedNew > 0 ? { note: `${failedNew} failed` } : {}) };
      results[`transient.${key}rate`] = { value: modeTransient };
      results[`new.${key}ratio`] = { value: modeNew / modeTransient };
      results[`new.${key}cpu`] = { value: median(cpu.new) };
      results[`new.${key}mainCpu`] = { value: median(mainCpu) };
      results[`transient.${key}cpu`] = { value: median(cpu.transient) };
      if (mode === 'unpinned') {
        [newRate, transientRate] = [modeNew, modeTransient];
        for (const [at, processes] of floorSizes.entries()) {
          const runs = floorRuns[at] as (typeof floorRuns)[number];
          const floorNew = median(runs.new.map((run) => run.rate));
          const floorTransient = median(runs.transient.map((run) => run.rate));
          const failed = [...runs.new, ...runs.transient].reduce((sum, run) => sum + run.failed, 0);
          const name = processes === 1 ? 'floor' : `floor${processes}`;
          results[`new.${name}Rate`] = { value: floorNew, note: `${(modeNew / floorNew).toFixed(2)} of it by the app${failed > 0 ? `; ${failed} failed` : ''}` };
          results[`new.${name}Ratio`] = { value: floorNew / floorTransient, note: `its transient ${Math.round(floorTransient).toLocaleString('en')}/s` };
          results[`new.${name}Cpu`] = { value: median(runs.new.map((run) => run.cpuPerRequest)), note: `transient ${median(runs.transient.map((run) => run.cpuPerRequest)).toFixed(0)} µs` };
        }
      }
    }
    await sleep(500);
    const lost = await missingIdentities(server, bench.environmentId, acknowledged);
    results['new.missing'] = { value: lost.length, note: `of ${acknowledged.length}${lost.length > 0 ? `, e.g. ${lost[0]}` : ''}` };
    log(`  new ${Math.round(newRate)}/s, transient ${Math.round(transientRate)}/s, ${lost.length} of ${acknowledged.length} sampled missing`);
    return { position: (await server.position()) ?? loadedPosition, environment: bench };
  } finally {
    for (const floor of floors) await floor.stop();
    await server.stop();
  }
}
