import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import {
  compileEnvironment,
  evaluate,
  toEvaluationResult,
  getEvaluationResult,
  withLegacyFallbackReasons,
  type EvaluationContext,
} from '@flagline/evaluation-engine';
import { AdminClient } from './admin-client';
import { benchIdentities, createBenchEnvironment, type BenchEnvironment, type BenchIdentity } from './fixture';
import { loadSdkEngine } from './flagsmith-nodejs-engine';
import { distributedUnavailableReason, startDistributed, type DistributedSetup } from './distributed';
import { chooseGenerator, describeChoice, pinProcess, runTimedLoad, SERVER_CPU, type GeneratorChoice, type GeneratorName, type TimedLoad } from './load-generator';
import { disagreements, edgeContext, type EdgeToggle, type EnvironmentDocument } from './peers/unleash-edge/bootstrap';
import { forkPeer } from './peers/fork-peer';
import { EDGE_TOKEN, edgeBinary, startEdge, type RunningEdge } from './peers/unleash-edge/edge';
import { refTree, startOptionsOf } from './scale/builds';
import { cpuMs, rssMb } from './scale/processes';
import { median, percentile } from './scale/report';
import { steadyAgainstFirstMinute } from './steadiness';
import { freePort, identityBody, ofrepBody, transientBodies, waitFor } from './support';

/**
 * `npm run bench`: the evaluation service and the standalone app under load on loopback, beside
 * a bare node:http ceiling answering a body of the same size, flagsmith-nodejs's engine behind the
 * same bare server and Unleash Edge (when installed: tools/bench/peers/unleash-edge/setup.sh).
 * The default scenario is many different users: 1,000 identities with 5 traits rotating, every
 * flag evaluated on every request (transient identify and OFREP bulk); the repeated-body case
 * (answers the service remembers) is a separate section; then a "new user on every request"
 * steadiness run, in-process engine throughput and change propagation. The load comes from wrk
 * with the server pinned to one CPU and wrk to the other (tools/bench/load-generator.ts), and an
 * autocannon row beside it. Options (env): BENCH_DURATION (s per measured run, 4), BENCH_ROUNDS (6),
 * BENCH_CONNECTIONS (50), BENCH_GENERATOR (wrk, oha or autocannon), BENCH_PIN (0 or 1),
 * BENCH_STEADY_SECONDS (300; 0 leaves the steadiness run out), BENCH_STEADY_WINDOW (30 s),
 * BENCH_STEADY_CONNECTIONS (32), BENCH_STEADY_SLICE (s of each slice of a window, each followed by as long on the host-speed control, 5; 0: windows back to back, no control), BENCH_SERVER_NODE_ARGS (node options for the standalone app, e.g.
 * `-r ./tools/bench/scale/event-loop-delay.cjs` or `--cpu-prof`), BENCH_ONLY (sections by name:
 * rotating, repeated, steady, engine, propagation; all by default), BENCH_DISTRIBUTED=0 (leaves the
 * distributed topology out), BENCH_BEFORE (a git ref: its evaluation service, built in a worktree
 * under /tmp, joins every round beside the current one, on the same Redis, so the code from before a
 * change is measured in the same run).
 */
const root = resolve(__dirname, '..', '..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 4);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const WARM_UP = 3;
const STEADY_SECONDS = Number(process.env['BENCH_STEADY_SECONDS'] ?? 300);
const STEADY_WINDOW = Number(process.env['BENCH_STEADY_WINDOW'] ?? 30);
const STEADY_CONNECTIONS = Number(process.env['BENCH_STEADY_CONNECTIONS'] ?? 32);
const STEADY_SLICE = Number(process.env['BENCH_STEADY_SLICE'] ?? 5);
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
const BEFORE = process.env['BENCH_BEFORE'];
const ONLY = process.env['BENCH_ONLY'] ? new Set(process.env['BENCH_ONLY'].split(',').map((name) => name.trim())) : null;
const section = (name: string): boolean => ONLY === null || ONLY.has(name);
/** Identities rotating in the default scenario, and the single flag OFREP is asked for (a segment override, 'staff'). */
const ROTATING_IDENTITIES = 1000;
const SINGLE_FLAG = 'feature_04';
const children: ChildProcess[] = [];

const asked = {
  ...(process.env['BENCH_GENERATOR'] ? { generator: process.env['BENCH_GENERATOR'] as GeneratorName } : {}),
  ...(process.env['BENCH_PIN'] !== undefined ? { pin: process.env['BENCH_PIN'] !== '0' } : {}),
};
const choice: GeneratorChoice = chooseGenerator(asked);
const AUTOCANNON: GeneratorChoice = { generator: 'autocannon', pin: false, notes: [] };

const loadAverage = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');

const startPeer = (script: string, args: string[]): Promise<ChildProcess> => forkPeer(script, args, (child) => children.push(child));

/** Pins a server under test to the server's CPU when the load is pinned. */
const pinServer = (pid: number | undefined): void => {
  if (choice.pin && pid !== undefined) pinProcess(pid, SERVER_CPU);
};

/** A server and the load sent to it. */
interface Target {
  readonly name: string;
  readonly pid: number;
  readonly load: Omit<TimedLoad, 'connections' | 'duration'>;
}

/** One measured run. */
interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly errors: number;
  /** The server's CPU (all threads, user + system) per answered request, µs. */
  readonly cpuUs: number;
  readonly rssMb: number;
}

async function measure(target: Target, seconds: number, generator: GeneratorChoice = choice, connections = CONNECTIONS): Promise<Run> {
  const cpuBefore = cpuMs(target.pid);
  const outcome = await runTimedLoad({ ...target.load, connections, duration: seconds }, generator, tmpdir(), () => undefined);
  const cpu = cpuMs(target.pid) - cpuBefore;
  return {
    rps: outcome.ok / outcome.seconds,
    p50: outcome.latency.p50,
    p99: outcome.latency.p99,
    p999: outcome.latency.p999,
    errors: outcome.failed,
    cpuUs: outcome.ok > 0 ? (cpu * 1000) / outcome.ok : Number.NaN,
    rssMb: (await rssMb(target.pid)) ?? Number.NaN,
  };
}

/**
 * Loads the targets in turn, ROUNDS rounds of DURATION seconds each, the order reversed every
 * other round; each target is warmed up once first. The machine's drift and stalls hit runs close
 * together alike, so a ratio is taken within each round (two targets measured seconds apart) and
 * its median over the rounds reported with the middle half of the rounds beside it.
 */
async function rounds(targets: Target[], generator: GeneratorChoice = choice, count = ROUNDS): Promise<Run[][]> {
  for (const target of targets) await measure(target, WARM_UP, generator);
  const runs: Run[][] = targets.map(() => []);
  for (let round = 0; round < count; round++) {
    const order = targets.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) (runs[index] as Run[]).push(await measure(targets[index] as Target, DURATION, generator));
  }
  return runs;
}

/** Medians over the rounds; errors summed; RSS the largest seen. */
function summary(runs: readonly Run[]): Run {
  const of = (pick: (run: Run) => number) => median(runs.map(pick));
  return {
    rps: of((run) => run.rps),
    p50: of((run) => run.p50),
    p99: of((run) => run.p99),
    p999: of((run) => run.p999),
    cpuUs: of((run) => run.cpuUs),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    rssMb: Math.max(...runs.map((run) => run.rssMb)),
  };
}

/** Per round, `runs` req/s over `reference`'s in the same round. */
const ratios = (runs: readonly Run[], reference: readonly Run[]): number[] => runs.map((run, round) => run.rps / (reference[round] as Run).rps);

/** "0.52 (middle half of rounds 0.49–0.55)". */
function spread(values: readonly number[]): string {
  return `${median(values).toFixed(2)} (middle half of rounds ${percentile(values, 0.25).toFixed(2)}–${percentile(values, 0.75).toFixed(2)})`;
}

const ms = (value: number): string => (value >= 10 ? value.toFixed(1) : value.toFixed(2));
const HEAD = ['| HTTP | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | RSS MB | errors | |', '|---|---:|---:|---:|---:|---:|---:|---:|---|'];
const row = (name: string, run: Run, note = ''): string =>
  `| ${name} | ${Math.round(run.rps).toLocaleString('en-US')} | ${ms(run.p50)} | ${ms(run.p99)} | ${ms(run.p999)} | ${run.cpuUs.toFixed(1)} | ${run.rssMb.toFixed(0)} | ${run.errors} | ${note} |`;

/** What our server answers to one request, to be the ceiling's body (same size, same headers asked). */
async function answerOf(load: Target['load'], index: number): Promise<Buffer> {
  const body = load.bodies?.at(index);
  const response = await fetch(`${load.url}${load.path}`, { method: load.method, headers: load.headers, ...(body !== undefined ? { body } : {}) });
  if (!response.ok) throw new Error(`${load.method} ${load.path} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once('exit', () => resolveStop());
    child.kill();
  });
}

async function measurePropagation(admin: AdminClient, bench: BenchEnvironment, evaluationUrl: string): Promise<number[]> {
  const delays: number[] = [];
  for (let change = 0; change < 100; change++) {
    const value = `value-${change}-${randomBytes(3).toString('hex')}`;
    await admin.call('PATCH', `/environments/${bench.environmentId}/feature-states/${bench.probeFeature.id}`, { value });
    const acknowledged = process.hrtime.bigint();
    for (;;) {
      const response = await fetch(`${evaluationUrl}/api/v1/flags/?feature=${bench.probeFeature.name}`, { headers: { 'x-environment-key': bench.clientKey } });
      const flag = (await response.json()) as { feature_state_value: unknown };
      if (flag.feature_state_value === value) break;
    }
    delays.push(Number(process.hrtime.bigint() - acknowledged) / 1e6);
  }
  return delays.sort((a, b) => a - b);
}

function propagationRow(name: string, delays: number[]): string {
  return `| ${name} | ${percentile(delays, 0.5).toFixed(2)} | ${percentile(delays, 0.99).toFixed(2)} | ${(delays[delays.length - 1] as number).toFixed(2)} |`;
}

function engineThroughput(run: (index: number) => unknown, count: number, minMs = 3000): number {
  for (let index = 0; index < count * 2; index++) run(index % count);
  let done = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let index = 0; index < count; index++) run(index);
    done += count;
    elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  }
  return (done / elapsed) * 1000;
}

const bodiesOf = (list: readonly string[]): NonNullable<TimedLoad['bodies']> => ({ count: list.length, at: (index) => list[index] as string });
const json = { 'content-type': 'application/json' };

interface Server {
  readonly process: ChildProcess;
  readonly base: string;
}

async function startStandalone(dataDir: string, port: number, adminKey: string): Promise<Server> {
  // As its npm start starts it (its Node options), then BENCH_SERVER_NODE_ARGS.
  const child = spawn(process.execPath, [...startOptionsOf(root), ...SERVER_NODE_ARGS, join(root, 'dist', 'apps', 'standalone', 'src', 'main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  pinServer(child.pid);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health`);
  return { process: child, base };
}

/** A ceiling (bare node:http answering `body`) pinned like the servers. */
async function startCeiling(dataDir: string, file: string, body: Buffer, mode: 'each' | 'turn' = 'each'): Promise<{ process: ChildProcess; url: string }> {
  await writeFile(join(dataDir, file), body);
  const port = await freePort();
  const child = await startPeer('bare-server.ts', [String(port), join(dataDir, file), mode]);
  pinServer(child.pid);
  return { process: child, url: `http://127.0.0.1:${port}` };
}

/** Unleash Edge from our environment document, checked against our answers; or why its row is skipped. */
async function startCheckedEdge(dataDir: string, document: string, ours: Target, identities: readonly BenchIdentity[]): Promise<RunningEdge | string> {
  const binary = edgeBinary();
  if (!binary) return 'unleash-edge is not installed (tools/bench/peers/unleash-edge/setup.sh)';
  let edge: RunningEdge;
  try {
    edge = await startEdge(binary, JSON.parse(document) as EnvironmentDocument, dataDir, await freePort());
  } catch (error) {
    return `unleash-edge did not start: ${error instanceof Error ? error.message : String(error)}`;
  }
  children.push(edge.process);
  for (const [index, identity] of identities.entries()) {
    const flags = (JSON.parse((await answerOf(ours.load, index)).toString()) as { flags: { feature: { name: string }; enabled: boolean; feature_state_value: unknown }[] }).flags;
    const edgeResponse = await fetch(`${edge.url}/api/frontend`, { method: 'POST', headers: { authorization: EDGE_TOKEN, ...json }, body: edgeContext(identity.identifier, identity.traits) });
    const toggles = ((await edgeResponse.json()) as { toggles: EdgeToggle[] }).toggles;
    const differ = disagreements(
      edge.bootstrap.deterministicFeatures,
      flags.map((flag) => ({ name: flag.feature.name, enabled: flag.enabled, value: flag.feature_state_value })),
      toggles,
    );
    if (differ.length > 0) {
      await stop(edge.process);
      return `Edge's answers differ from ours for ${identity.identifier}: ${differ.slice(0, 3).join('; ')}`;
    }
  }
  pinServer(edge.process.pid);
  return edge;
}

/** A ceiling and the servers compared with it, in one scenario. */
interface Group {
  readonly title: string;
  readonly ceiling: Target;
  /** The same bare server writing its answers at the end of the event loop's turn, as the evaluation tier does. */
  readonly turnCeiling?: Target;
  readonly members: readonly Target[];
  /** Ratio target for the targeted server, e.g. 0.5. */
  readonly target?: number;
}

/** Runs each group's ceiling and members in the same rounds; returns the runs by target name. */
async function groupRounds(groups: readonly Group[], generator: GeneratorChoice = choice, count = ROUNDS): Promise<Map<string, Run[]>> {
  const targets = groups.flatMap((group) => [group.ceiling, ...(group.turnCeiling ? [group.turnCeiling] : []), ...group.members]);
  const runs = await rounds(targets, generator, count);
  return new Map(targets.map((target, index) => [target.name, runs[index] as Run[]]));
}

function groupRows(groups: readonly Group[], runs: Map<string, Run[]>, targeted: string, extra: (target: Target, own: Run[]) => string = () => ''): string[] {
  return groups.flatMap((group) => {
    const ceiling = runs.get(group.ceiling.name) as Run[];
    const turn = group.turnCeiling ? (runs.get(group.turnCeiling.name) as Run[]) : undefined;
    const againstTurn = (own: Run[]): string => (turn ? `; ${spread(ratios(own, turn))} of the bare server written at the turn's end` : '');
    return [
      row(group.ceiling.name, summary(ceiling), `ceiling of ${group.title}`),
      ...(group.turnCeiling && turn ? [row(group.turnCeiling.name, summary(turn), `${spread(ratios(turn, ceiling))} of ceiling: the write strategy alone`)] : []),
      ...group.members.map((member) => {
        const own = runs.get(member.name) as Run[];
        const result = summary(own);
        const goal =
          group.target !== undefined && member.name.endsWith(targeted)
            ? ` (target ≥ ${group.target}: ${median(ratios(own, ceiling)) >= group.target ? 'met' : 'missed'}; p99 ≤ 10 ms: ${result.p99 <= 10 ? 'met' : 'missed'})`
            : '';
        return row(member.name, result, `**${spread(ratios(own, ceiling))}** of ceiling${goal}${againstTurn(own)}${extra(member, own)}`);
      }),
    ];
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-bench-'));
  const out: string[] = [];
  // Each section is printed as soon as it is measured, so a failure later loses nothing.
  const flush = (): void => console.log(out.splice(0).join('\n'));
  // Stopped in `finally` too, so a failure part-way leaves no service of the topology running.
  let setup: DistributedSetup | undefined;
  try {
    const loadAtStart = loadAverage();
    const port = await freePort();
    const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
    let server = await startStandalone(dataDir, port, adminKey);
    const admin = new AdminClient(server.base, adminKey);
    const bench = await createBenchEnvironment(admin);
    const stored = benchIdentities(100);
    // Identities are stored once (first identify); the repeated-body requests then find their traits unchanged.
    for (const identity of stored) {
      const response = await fetch(`${server.base}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': bench.serverKey, ...json }, body: identityBody(identity) });
      if (!response.ok) throw new Error(`identify failed: ${response.status}`);
      await response.arrayBuffer();
    }
    const document = await (await fetch(`${server.base}/api/v1/environment-document/`, { headers: { 'x-environment-key': bench.serverKey } })).text();
    await writeFile(join(dataDir, 'environment-document.json'), document);

    // The distributed path: command service → log → relay → Kafka → projector → Redis → evaluation
    // service, the production evaluation tier. Once propagation is measured the write pipeline
    // stops and the evaluation service joins the rounds beside the standalone app.
    const loadRounds = section('rotating') || section('repeated');
    const unavailable =
      process.env['BENCH_DISTRIBUTED'] === '0' ? 'left out (BENCH_DISTRIBUTED=0)' : loadRounds || section('propagation') ? distributedUnavailableReason() : 'not asked for (BENCH_ONLY)';
    let distributedDelays: number[] | undefined;
    if (!unavailable) {
      setup = await startDistributed(root, freePort);
      distributedDelays = await measurePropagation(setup.admin, setup.bench, setup.evaluationUrl);
      await setup.quiesce();
      pinServer(setup.evaluationPid);
    }
    // The code from before a change: its evaluation service beside the current one, in the same rounds.
    const beforeBuild = BEFORE !== undefined && setup ? refTree(root, BEFORE) : undefined;
    const beforeService = beforeBuild && setup ? await setup.startEvaluation(beforeBuild.root) : undefined;
    if (beforeService) pinServer(beforeService.pid);
    const beforeSuffix = beforeBuild ? `evaluation service (before, ${beforeBuild.describe})` : undefined;
    const targeted = setup ? 'evaluation service' : 'standalone';

    const rotating = benchIdentities(ROTATING_IDENTITIES);
    const loadsOf = (url: string, keys: Pick<BenchEnvironment, 'clientKey' | 'serverKey'>) => ({
      transient: { url, method: 'POST', path: '/api/v1/identities/', headers: { 'x-environment-key': keys.serverKey, ...json }, bodies: bodiesOf(transientBodies(rotating, 'visitor-')) },
      bulk: { url, method: 'POST', path: '/ofrep/v1/evaluate/flags', headers: { 'x-api-key': keys.serverKey, ...json }, bodies: bodiesOf(rotating.map(ofrepBody)) },
      single: { url, method: 'POST', path: `/ofrep/v1/evaluate/flags/${SINGLE_FLAG}`, headers: { 'x-api-key': keys.serverKey, ...json }, bodies: bodiesOf(rotating.map(ofrepBody)) },
      environment: { url, method: 'GET', path: '/api/v1/flags/', headers: { 'x-environment-key': keys.clientKey } },
      stored: { url, method: 'POST', path: '/api/v1/identities/', headers: { 'x-environment-key': keys.serverKey, ...json }, bodies: bodiesOf(stored.map((identity) => identityBody(identity))) },
    }) satisfies Record<string, Target['load']>;
    const ours = loadsOf(server.base, bench);
    const theirs = setup ? loadsOf(setup.evaluationUrl, setup.bench) : undefined;
    const pid = server.process.pid ?? 0;
    const ceilingFor = async (name: string, load: Target['load'], file: string, mode: 'each' | 'turn' = 'each'): Promise<Target> => {
      const ceiling = await startCeiling(dataDir, file, await answerOf(load, 1), mode);
      return { name, pid: ceiling.process.pid ?? 0, load: { ...load, url: ceiling.url } };
    };
    const members = (label: string, kind: keyof ReturnType<typeof loadsOf>): Target[] => [
      ...(setup && theirs ? [{ name: `${label}, evaluation service`, pid: setup.evaluationPid, load: theirs[kind] }] : []),
      ...(beforeService && beforeSuffix && theirs ? [{ name: `${label}, ${beforeSuffix}`, pid: beforeService.pid, load: { ...theirs[kind], url: beforeService.url } }] : []),
      { name: `${label}, standalone`, pid, load: ours[kind] },
    ];

    out.push(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; loopback, ${CONNECTIONS} connections; load average at start ${loadAtStart}.`,
      `Load: ${describeChoice(choice)}.${choice.notes.length > 0 ? ` ${choice.notes.join('; ')}.` : ''}`,
      `Rounds: ${ROUNDS} rounds of ${DURATION} s runs, every server of a section in turn (order reversed every other round, ${WARM_UP} s warm-up each first); req/s, latency percentiles and CPU per request are medians over the rounds, RSS the largest seen, errors summed; a ratio is taken within each round and its median given with the middle half of the rounds.`,
      `Environment: 20 features (3 multivariate), 5 segments (percentage split, semver, regex, IN/numeric, nested NONE) with 10 overrides; identities with 5 traits.`,
      unavailable
        ? `Evaluation service (distributed) not measured: ${unavailable}.`
        : 'The evaluation service runs as on its own nodes: beside Redis and the command service, the write pipeline (relay, projector, Kafka) stopped after its propagation was measured.',
      ...(beforeBuild ? [`Before: the evaluation service of ${beforeBuild.describe} (BENCH_BEFORE=${BEFORE ?? ''}), built in ${beforeBuild.root}, on the same Redis, pinned to the same CPU, in every round beside the current one.`] : []),
      ...(BEFORE !== undefined && !setup ? [`BENCH_BEFORE=${BEFORE} not measured: it compares evaluation services, and the distributed topology is not running.`] : []),
    );

    flush();
    if (section('rotating')) {
      const transientCeiling = await ceilingFor('bare node:http, transient identify body', ours.transient, 'transient.json');
      const bulkCeiling = await ceilingFor('bare node:http, OFREP bulk body', ours.bulk, 'ofrep-bulk.json');
      const singleCeiling = await ceilingFor('bare node:http, OFREP single-flag body', ours.single, 'ofrep-single.json');
      // The same bare server writing at the end of the turn, as the evaluation tier does: what of a ratio is the write strategy.
      const turnCeilingFor = (ceiling: Target, load: Target['load'], file: string): Promise<Target> => ceilingFor(`${ceiling.name}, written at the turn's end`, load, file, 'turn');
      const transientTurn = await turnCeilingFor(transientCeiling, ours.transient, 'transient-turn.json');
      const bulkTurn = await turnCeilingFor(bulkCeiling, ours.bulk, 'ofrep-bulk-turn.json');
      const singleTurn = await turnCeilingFor(singleCeiling, ours.single, 'ofrep-single-turn.json');
      const sdkPort = await freePort();
      const sdkServer = await startPeer('flagsmith-nodejs-server.ts', [String(sdkPort), join(dataDir, 'environment-document.json')]);
      pinServer(sdkServer.pid);
      const sdkTarget: Target = { name: 'flagsmith-nodejs engine behind bare node:http, identify', pid: sdkServer.pid ?? 0, load: { ...ours.transient, url: `http://127.0.0.1:${sdkPort}` } };
      const edge = await startCheckedEdge(dataDir, document, { name: 'ours', pid, load: ours.transient }, rotating);
      const edgeTarget: Target | undefined =
        typeof edge === 'string'
          ? undefined
          : { name: 'Unleash Edge, frontend API (POST /api/frontend)', pid: edge.process.pid ?? 0, load: { url: edge.url, method: 'POST', path: '/api/frontend', headers: { authorization: EDGE_TOKEN, ...json }, bodies: bodiesOf(rotating.map((identity) => edgeContext(identity.identifier, identity.traits))) } };
      const groups: Group[] = [
        { title: 'transient identify', ceiling: transientCeiling, turnCeiling: transientTurn, members: [...members('POST /api/v1/identities/ transient', 'transient'), sdkTarget], target: 0.5 },
        { title: 'OFREP bulk', ceiling: bulkCeiling, turnCeiling: bulkTurn, members: [...members('POST /ofrep/v1/evaluate/flags', 'bulk'), ...(edgeTarget ? [edgeTarget] : [])], target: 0.5 },
        { title: 'OFREP single flag', ceiling: singleCeiling, turnCeiling: singleTurn, members: members(`POST /ofrep/v1/evaluate/flags/${SINGLE_FLAG}`, 'single'), target: 0.6 },
      ];
      const runs = await groupRounds(groups);
      // Each peer against the targeted server's transient identify and OFREP bulk, per round.
      const mine = [groups[0], groups[1]].flatMap((group) =>
        group ? group.members.filter((member) => member.name.endsWith(targeted) || (beforeSuffix !== undefined && member.name.endsWith(beforeSuffix))) : [],
      );
      const peerNote = (target: Target, own: Run[]): string => {
        if (target !== sdkTarget && target !== edgeTarget) return '';
        const parts = mine.map((server) => `${server.name.split(',')[0] ?? ''}${beforeSuffix !== undefined && server.name.endsWith(beforeSuffix) ? ' (before)' : ''} ÷ it ${spread(ratios(runs.get(server.name) as Run[], own))}`);
        return `; ${parts.join('; ')}${target === edgeTarget ? ' (target ≥ 2)' : ''}`;
      };
      const autocannonGroups: Group[] = [{ title: 'transient identify, autocannon', ceiling: { ...transientCeiling, name: 'bare node:http, transient identify body (autocannon, unpinned)' }, members: [{ name: 'POST /api/v1/identities/ transient, standalone (autocannon, unpinned)', pid, load: ours.transient }] }];
      const autocannonRuns = await groupRounds(autocannonGroups, AUTOCANNON, Math.min(ROUNDS, 4));
      await Promise.all([stop(sdkServer), ...(typeof edge === 'string' ? [] : [stop(edge.process)])]);
      const bodyBytes = async (load: Target['load']) => (await answerOf(load, 1)).length;
      out.push(
        '',
        `**Many different users** (the default scenario): ${ROTATING_IDENTITIES.toLocaleString('en-US')} identities with 5 traits rotating, every flag evaluated on every request; answers of ${await bodyBytes(ours.transient)} bytes (transient identify), ${await bodyBytes(ours.bulk)} (OFREP bulk), ${await bodyBytes(ours.single)} (single flag), each ceiling answering its body. Load average ${loadAverage()}.`,
        typeof edge === 'string' ? `Unleash Edge row skipped: ${edge}.` : `Unleash Edge ${edge.bootstrap.features.length} toggles from our environment document; its answers agree with ours on the ${edge.bootstrap.deterministicFeatures.length} deterministic features for all ${rotating.length} identities (percentage splits and multivariate weights hash differently, so they are not compared).`,
        '',
        ...HEAD,
        ...groupRows(groups, runs, targeted, peerNote),
        ...groupRows(autocannonGroups, autocannonRuns, targeted),
      );
      await Promise.all([transientCeiling, bulkCeiling, singleCeiling, transientTurn, bulkTurn, singleTurn].map((ceiling) => stopPid(ceiling.pid)));
    }

    flush();
    if (section('repeated')) {
      const groups: Group[] = [
        { title: '(a) environment flags', ceiling: await ceilingFor('bare node:http, environment-flags body', ours.environment, 'environment-flags.json'), members: members('(a) GET /api/v1/flags/', 'environment'), target: 0.85 },
        { title: '(b) the same 100 identify bodies', ceiling: await ceilingFor('bare node:http, identity-flags body', ours.stored, 'identity-flags.json'), members: members('(b) POST /api/v1/identities/, 100 stored identities', 'stored'), target: 0.6 },
      ];
      const runs = await groupRounds(groups);
      out.push('', `**Repeated bodies**: (a) one GET, (b) 100 stored identities' bodies rotating, whose answers the service remembers. Load average ${loadAverage()}.`, '', ...HEAD, ...groupRows(groups, runs, targeted));
      await Promise.all(groups.map((group) => stopPid(group.ceiling.pid)));
    }
    await setup?.stop();
    setup = undefined;

    flush();
    if (section('engine')) out.push('', ...engineRows(document));

    flush();
    if (section('propagation')) {
      const delays = await measurePropagation(admin, bench, server.base);
      out.push(
        '',
        '| Change propagation, 100 changes: acknowledged admin write → new value in GET /api/v1/flags/ | p50 ms | p99 ms | max ms |',
        '|---|---:|---:|---:|',
        propagationRow('standalone (target p99 < 20 ms)', delays),
        distributedDelays
          ? propagationRow('distributed: log → relay → Kafka → projector → Redis → evaluation service (target p99 < 100 ms)', distributedDelays)
          : `| distributed: not measured (${unavailable ?? 'unavailable'}) | | | |`,
      );
    }

    flush();
    if (section('steady') && STEADY_SECONDS > 0) {
      // A fresh app on the same data: what fills up with new users starts empty.
      await stop(server.process);
      server = await startStandalone(dataDir, port, adminKey);
      out.push('', ...(await steadiness(server, bench, dataDir)));
    }
    await stop(server.process);
    out.push('', `Load average at the end: ${loadAverage()}.`);
    out.push('');
    flush();
  } finally {
    await setup?.stop();
    await Promise.all(children.map((child) => stop(child)));
    await rm(dataDir, { recursive: true, force: true });
  }
}

const stopPid = (pid: number): Promise<void> => {
  const child = children.find((candidate) => candidate.pid === pid);
  return child ? stop(child) : Promise.resolve();
};

/**
 * A new user on every request (transient identify, each request its own identifier) for
 * STEADY_SECONDS, in windows of STEADY_WINDOW seconds: req/s and the server's CPU per request in
 * each, and each window after the first minute against it (target: every one within 10 %).
 * The host's own speed moves too (a fixed CPU-bound loop on this VM ran 10 to 20 % slower for tens
 * of seconds at a time), so unless STEADY_SLICE is 0 each window's load comes in slices of that many
 * seconds (default 5), each followed by a slice of the same load on a control: the bare node:http
 * ceiling, pinned like the app, answering the app's answer. The app's state carries over the
 * control's slices (it is not restarted), and both sample the same stretches of the host, so the
 * app's rate over the control's in a window is its steadiness with the host's drift taken out.
 */
async function steadiness(server: Server, bench: BenchEnvironment, dataDir: string): Promise<string[]> {
  const windows = Math.max(1, Math.ceil(STEADY_SECONDS / STEADY_WINDOW));
  const slices = STEADY_SLICE > 0 ? Math.max(1, Math.round(STEADY_WINDOW / STEADY_SLICE)) : 1;
  const sliceSeconds = STEADY_WINDOW / slices;
  const identities = benchIdentities(ROTATING_IDENTITIES);
  const loadOf = (prefix: string, url: string): Target['load'] => ({
    url,
    method: 'POST',
    path: '/api/v1/identities/',
    headers: { 'x-environment-key': bench.serverKey, ...json },
    bodies: bodiesOf(transientBodies(identities, `new-${prefix}-{{n}}-`)),
  });
  const controlLoad = loadOf('control', server.base);
  const ceiling = STEADY_SLICE > 0 ? await startCeiling(dataDir, 'steady-control.json', await answerOf(controlLoad, 0)) : undefined;
  const mean = (runs: readonly Run[], pick: (run: Run) => number): number => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const results: Run[] = [];
  const controls: number[] = [];
  // The app's own CPU while the control runs (it is idle then, its connections closed): work it
  // leaves for later (collections, flushes, its threads) lands on the control's CPU and slows it.
  const idleCpu: number[] = [];
  const appPid = server.process.pid ?? 0;
  try {
    for (let window = 0; window < windows; window++) {
      const own: Run[] = [];
      const theirs: Run[] = [];
      let appIdleMs = 0;
      for (let slice = 0; slice < slices; slice++) {
        own.push(await measure({ name: 'steady', pid: appPid, load: loadOf(`${window}-${slice}`, server.base) }, sliceSeconds, choice, STEADY_CONNECTIONS));
        if (ceiling) {
          const appBefore = cpuMs(appPid);
          theirs.push(await measure({ name: 'steady control', pid: ceiling.process.pid ?? 0, load: { ...controlLoad, url: ceiling.url } }, sliceSeconds, choice, STEADY_CONNECTIONS));
          appIdleMs += cpuMs(appPid) - appBefore;
        }
      }
      if (ceiling) idleCpu.push((100 * appIdleMs) / (slices * sliceSeconds * 1000));
      // Slices of equal length: the window's rate and CPU per request are their means; the rest as over rounds.
      results.push({ ...summary(own), rps: mean(own, (run) => run.rps), cpuUs: mean(own, (run) => run.cpuUs) });
      if (ceiling) controls.push(mean(theirs, (run) => run.rps));
    }
  } finally {
    if (ceiling) await stop(ceiling.process);
  }
  const steady = steadyAgainstFirstMinute(results.map((run) => run.rps), STEADY_WINDOW);
  const percent = (change: number): string => `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)} %`;
  const rate = (value: number): string => Math.round(value).toLocaleString('en-US');
  // With the control, every window has its rate (the loop above pushes one per window).
  const ratios = ceiling ? results.map((run, index) => run.rps / (controls[index] as number)) : undefined;
  const adjusted = ratios ? steadyAgainstFirstMinute(ratios, STEADY_WINDOW) : undefined;
  const host = ceiling ? steadyAgainstFirstMinute(controls, STEADY_WINDOW) : undefined;
  const how = ceiling ? `, each window in ${slices} slices of ${sliceSeconds} s, each followed by ${sliceSeconds} s of the same load on the bare node:http ceiling answering the same answer (a control of the host's speed)` : ' back to back';
  return [
    `**A new user on every request**: transient identify, every request its own identifier (5 traits), ${STEADY_CONNECTIONS} connections, a fresh standalone app, ${windows} windows of ${STEADY_WINDOW} s${how}. Against the first minute (${rate(steady.firstMinute)} req/s): the last window ${percent(steady.last)}, the farthest ${percent(steady.farthest)} (target: every window within 10 %: ${steady.within ? 'met' : 'missed'}). Load average ${loadAverage()}.`,
    ...(adjusted && host
      ? [
          '',
          `The control moved by up to ${percent(host.farthest)} from its first minute (the host's drift). The app's rate over the control's in the same window, against the first minute: the last window ${percent(adjusted.last)}, the farthest ${percent(adjusted.farthest)} (${adjusted.within ? 'every window within 10 %' : 'not every window within 10 %'}).`,
        ]
      : []),
    '',
    `| window | ${results.map((_, index) => `${index * STEADY_WINDOW}–${(index + 1) * STEADY_WINDOW} s`).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
    `| req/s | ${results.map((run) => rate(run.rps)).join(' | ')} |`,
    `| CPU µs/req | ${results.map((run) => run.cpuUs.toFixed(1)).join(' | ')} |`,
    `| p99 ms | ${results.map((run) => ms(run.p99)).join(' | ')} |`,
    `| RSS MB | ${results.map((run) => run.rssMb.toFixed(0)).join(' | ')} |`,
    ...(ratios
      ? [
          `| control req/s | ${controls.map(rate).join(' | ')} |`,
          `| app ÷ control | ${ratios.map((ratio) => ratio.toFixed(3)).join(' | ')} |`,
          `| app's CPU % while the control runs | ${idleCpu.map((share) => share.toFixed(1)).join(' | ')} |`,
        ]
      : []),
  ];
}

/** In-process engines on the same contexts: ours and flagsmith-nodejs's mapping of our environment document. */
function engineRows(document: string): string[] {
  const sdk = loadSdkEngine();
  const environmentModel = sdk.buildEnvironmentModel(JSON.parse(document));
  const engineIdentities = benchIdentities(1000);
  const contexts = engineIdentities.map((identity) => sdk.identityContext(environmentModel, identity.identifier, identity.traits) as EvaluationContext);
  const { identity: _identity, ...environmentContext } = contexts[0] as EvaluationContext;
  const compiled = compileEnvironment(environmentContext);
  const inputs = contexts.map((context) => context.identity as NonNullable<EvaluationContext['identity']>);
  // Value, enabled state and reason must agree. flagsmith-nodejs's engine predates Flagsmith's engine 11 and
  // reports every environment default as DEFAULT; ours, like 11.1.1, reports STATIC for a feature no segment
  // overrides, so that reason alone is read the older way before comparing.
  const agree = contexts.every((context, index) => {
    const theirs = sdk.getEvaluationResult(context) as { flags: Record<string, { value: unknown; enabled: boolean; reason: string }> };
    const ours = withLegacyFallbackReasons(context, toEvaluationResult(evaluate(compiled, inputs[index] as NonNullable<EvaluationContext['identity']>))).result;
    return Object.entries(theirs.flags).every(
      ([name, flag]) => ours.flags[name]?.value === flag.value && ours.flags[name]?.enabled === flag.enabled && ours.flags[name]?.reason === flag.reason,
    );
  });
  const oursEngine = engineThroughput((index) => toEvaluationResult(evaluate(compiled, inputs[index] as NonNullable<EvaluationContext['identity']>)), inputs.length);
  const oursEngineUncompiled = engineThroughput((index) => getEvaluationResult(contexts[index] as EvaluationContext), contexts.length, 1500);
  const sdkEngine = engineThroughput((index) => sdk.getEvaluationResult(contexts[index]), contexts.length);
  return [
    '| Engine, in process, same contexts | evaluations/s | |',
    '|---|---:|---|',
    `| ours (compiled once per environment revision) | ${Math.round(oursEngine).toLocaleString('en-US')} | ${(oursEngine / sdkEngine).toFixed(1)}× flagsmith-nodejs (target ≥ 3×) |`,
    `| ours, compiling on every call (getEvaluationResult) | ${Math.round(oursEngineUncompiled).toLocaleString('en-US')} | ${(oursEngineUncompiled / sdkEngine).toFixed(1)}× |`,
    `| flagsmith-nodejs getEvaluationResult | ${Math.round(sdkEngine).toLocaleString('en-US')} | results (value, enabled, reason with STATIC read as DEFAULT) agree on ${agree ? 'all' : 'NOT all'} ${contexts.length} identities |`,
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  for (const child of children) child.kill();
  process.exit(1);
});
