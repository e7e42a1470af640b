import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AdminClient } from './admin-client';
import { benchIdentities, createBenchEnvironment } from './fixture';
import { freePort, identityBody, ofrepBody, transientBodies, waitFor } from './support';

/**
 * `npm run bench:instructions`: CPU instructions per request, counted by valgrind's callgrind, for
 * (a) environment flags, (b) identify with 5 traits and (c) one flag over OFREP for the same identities on the standalone app, and, for
 * many different users, (d) transient identify and (e) OFREP bulk (every flag) with 1,000 identities of 5 traits rotating, each beside
 * the bare node:http ceiling answering a body of the same size. An instruction count does not move with what else the machine is doing, so it shows
 * what a change costs or saves per request when req/s on a shared machine is too noisy to tell.
 * Each server runs under callgrind with instrumentation off while it starts and warms up; it is
 * switched on for the measured requests only, and an idle stretch of the same length is measured
 * too and taken off (timers, GC that idle would do anyway). Options (env): INSTR_REQUESTS (measured
 * requests, default 3000), INSTR_WARM_UP (default 10000), INSTR_CONNECTIONS (default 1), INSTR_ONLY (workloads by letter, `a,c`), and
 * INSTR_BUILDS, builds of the project to measure side by side as `name=dir,name=dir` (directories
 * under the project, each laid out as dist/ is; default `this build=dist`) to compare two versions
 * of the code on the same data. INSTR_KEEP=1 keeps the callgrind dumps for callgrind_annotate, and
 * INSTR_NODE_ARGS (space-separated) goes to every measured node process before its script
 * (`--perf-basic-prof` writes the map that names the JIT code in them).
 */
const root = resolve(__dirname, '..', '..');
const REQUESTS = Number(process.env['INSTR_REQUESTS'] ?? 3000);
const WARM_UP = Number(process.env['INSTR_WARM_UP'] ?? 10_000);
const CONNECTIONS = Number(process.env['INSTR_CONNECTIONS'] ?? 1);
const BUILDS = (process.env['INSTR_BUILDS'] ?? 'this build=dist').split(',').map((entry) => {
  const [name, dir] = entry.split('=');
  if (!name || !dir) throw new Error(`INSTR_BUILDS: "${entry}" is not name=dir`);
  return { name, main: resolve(root, dir, 'apps', 'standalone', 'src', 'main.js') };
});
/** INSTR_ONLY: the workloads to measure, by letter (`a,c`); all by default. */
const ONLY = process.env['INSTR_ONLY'] ? new Set(process.env['INSTR_ONLY'].split(',').map((letter) => letter.trim())) : null;
/** The flag the single-flag OFREP workload asks for: overridden by one of the benchmark's segments. */
const SINGLE_FLAG = 'feature_04';
/** Identities rotating in (d) and (e), as in npm run bench's default scenario. */
const ROTATING_IDENTITIES = 1000;
const run = promisify(execFile);
/** INSTR_NODE_ARGS: node options for every measured process. */
const NODE_ARGS = (process.env['INSTR_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

/** vgdb, which callgrind_control talks through, names a process's pipes by these as well as its pid. */
const vgEnv = { ...process.env, USER: process.env['USER'] ?? userInfo().username, HOSTNAME: hostname(), HOST: hostname() };

/** One SDK request as the load sends it. */
interface SdkRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Sends `count` of `requests` (in turn) over `connections` kept-alive connections, each answered before the next. */
async function drive(url: string, requests: readonly SdkRequest[], count: number, connections: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  const one = (sent: SdkRequest): Promise<void> =>
    new Promise((resolveOne, reject) => {
      const headers = sent.body === undefined ? sent.headers : { ...sent.headers, 'content-length': Buffer.byteLength(sent.body) };
      const outgoing = httpRequest(`${url}${sent.path}`, { method: sent.method, agent, headers }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolveOne() : reject(new Error(`${sent.method} ${sent.path} answered ${response.statusCode}`))));
      });
      outgoing.on('error', reject);
      outgoing.end(sent.body);
    });
  const lane = async (): Promise<void> => {
    while (next < count) await one(requests[next++ % requests.length] as SdkRequest);
  };
  await Promise.all(Array.from({ length: connections }, lane));
  agent.destroy();
}

/** Sends a callgrind_control command to a server, in the environment it runs in (vgdb names its pipes by USER and HOST). */
async function control(server: Server, ...args: string[]): Promise<void> {
  const { stdout, stderr } = await run('callgrind_control', [...args, String(server.pid)], { env: server.env });
  if (stderr.includes('error')) throw new Error(`callgrind_control ${args.join(' ')} ${server.pid}: ${stderr.trim()}`);
  if (!/\bOK\b/.test(stdout)) throw new Error(`callgrind_control ${args.join(' ')} ${server.pid}: ${stdout.trim()}`);
}

interface Instructions {
  /** On the main thread, where the event loop runs JavaScript. */
  readonly main: number;
  /** On every thread: the main one, V8's compiler and GC helpers, libuv's pool. */
  readonly all: number;
}

/** The instructions the dumps made since `before` hold (their `totals:` lines), per thread (`--separate-threads=yes`). */
async function dumpedInstructions(directory: string, before: ReadonlySet<string>): Promise<Instructions> {
  const fresh = (await readdir(directory)).filter((name) => name.startsWith('callgrind.out') && !before.has(name));
  let main = 0;
  let all = 0;
  for (const name of fresh) {
    const line = /^totals: (\d+)/m.exec(await readFile(join(directory, name), 'utf8'));
    if (!line) continue;
    all += Number(line[1]);
    if (name.endsWith('-01')) main += Number(line[1]);
  }
  return { main, all };
}

interface Server {
  readonly pid: number;
  readonly env: NodeJS.ProcessEnv;
}

async function counted(server: Server, directory: string, stretch: () => Promise<void>): Promise<{ instructions: Instructions; ms: number }> {
  const before = new Set(await readdir(directory));
  await control(server, '--zero');
  await control(server, '--instr=on');
  const started = performance.now();
  await stretch();
  const ms = performance.now() - started;
  await control(server, '--instr=off');
  await control(server, '--dump');
  return { instructions: await dumpedInstructions(directory, before), ms };
}

interface Measured {
  readonly name: string;
  /** Instructions per request: on the main thread, and on all threads. */
  readonly perRequest: Instructions;
  /** Idle instructions per second on all threads. */
  readonly idlePerSecond: number;
}

async function measure(name: string, argv: string[], env: NodeJS.ProcessEnv, url: string, requests: readonly SdkRequest[], directory: string): Promise<Measured> {
  const serverEnv = { ...vgEnv, ...env };
  const child: ChildProcess = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${join(directory, 'callgrind.out.%p')}`, process.execPath, ...NODE_ARGS, ...argv],
    { cwd: root, env: serverEnv, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  try {
    await waitFor(`${url}/health`, 600_000);
    await drive(url, requests, WARM_UP, CONNECTIONS);
    const server = { pid: child.pid as number, env: serverEnv };
    const load = await counted(server, directory, () => drive(url, requests, REQUESTS, CONNECTIONS));
    const idle = await counted(server, directory, () => new Promise((r) => setTimeout(r, load.ms)));
    const perRequest = (pick: (counts: Instructions) => number): number => (pick(load.instructions) - pick(idle.instructions) * (load.ms / idle.ms)) / REQUESTS;
    return { name, perRequest: { main: perRequest((counts) => counts.main), all: perRequest((counts) => counts.all) }, idlePerSecond: (idle.instructions.all / idle.ms) * 1000 };
  } finally {
    child.kill('SIGKILL');
  }
}

interface Workload {
  readonly name: string;
  readonly requests: readonly SdkRequest[];
  /** A file holding ours's answer, which the ceiling sends for every request. */
  readonly ceilingBody: string;
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const row = (workload: string, entry: Measured, note: string): string =>
  `| ${workload} | ${entry.name} | ${count(entry.perRequest.main)} | ${count(entry.perRequest.all)} | ${count(entry.idlePerSecond)} | ${note} |`;

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('bench:instructions skipped: valgrind is not installed (Debian: apt-get install valgrind).');
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-instr-'));
  const outDir = await mkdtemp(join(tmpdir(), 'flagline-callgrind-'));
  try {
    // The environment is set up at full speed, then the standalone app restarts under callgrind
    // from the same data directory (its event log) and the ceiling answers the identity body.
    const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
    const standaloneArgv = [(BUILDS[0] as (typeof BUILDS)[number]).main];
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey };
    const setup = spawn(process.execPath, standaloneArgv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    let workloads: Workload[];
    try {
      await waitFor(`${base}/health`);
      const bench = await createBenchEnvironment(new AdminClient(base, adminKey));
      const identify = benchIdentities(100).map((identity): SdkRequest => ({
        method: 'POST',
        path: '/api/v1/identities/',
        headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' },
        body: identityBody(identity),
      }));
      // Identities are stored once; the measured requests then find their traits unchanged.
      await drive(base, identify, identify.length, 1);
      const answer = async (sent: SdkRequest, file: string): Promise<string> => {
        const response = await fetch(`${base}${sent.path}`, { method: sent.method, headers: sent.headers, ...(sent.body !== undefined ? { body: sent.body } : {}) });
        await writeFile(join(dataDir, file), Buffer.from(await response.arrayBuffer()));
        return join(dataDir, file);
      };
      const flags: SdkRequest = { method: 'GET', path: '/api/v1/flags/', headers: { 'x-environment-key': bench.clientKey } };
      // One flag with a segment override ('staff'), for the same identities and traits in OFREP's terms.
      const ofrepFlag = benchIdentities(100).map(
        (identity): SdkRequest => ({
          method: 'POST',
          path: `/ofrep/v1/evaluate/flags/${SINGLE_FLAG}`,
          headers: { 'x-api-key': bench.serverKey, 'content-type': 'application/json' },
          body: JSON.stringify({ context: { targetingKey: identity.identifier, ...identity.traits } }),
        }),
      );
      // Many different users, as npm run bench's default scenario: the same 1,000 identities with 5
      // traits rotating, every flag evaluated on every request (no answer is remembered for them).
      const rotating = benchIdentities(ROTATING_IDENTITIES);
      const transient = transientBodies(rotating, 'visitor-').map(
        (body): SdkRequest => ({ method: 'POST', path: '/api/v1/identities/', headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' }, body }),
      );
      const bulk = rotating.map(
        (identity): SdkRequest => ({ method: 'POST', path: '/ofrep/v1/evaluate/flags', headers: { 'x-api-key': bench.serverKey, 'content-type': 'application/json' }, body: ofrepBody(identity) }),
      );
      workloads = [
        { name: '(a) GET /api/v1/flags/', requests: [flags], ceilingBody: await answer(flags, 'environment-flags.json') },
        { name: '(b) POST /api/v1/identities/ (5 traits)', requests: identify, ceilingBody: await answer(identify[1] as SdkRequest, 'identity-flags.json') },
        { name: `(c) POST /ofrep/v1/evaluate/flags/${SINGLE_FLAG} (5 traits)`, requests: ofrepFlag, ceilingBody: await answer(ofrepFlag[1] as SdkRequest, 'ofrep-flag.json') },
        { name: `(d) POST /api/v1/identities/ transient, ${count(ROTATING_IDENTITIES)} identities rotating`, requests: transient, ceilingBody: await answer(transient[1] as SdkRequest, 'transient-flags.json') },
        { name: `(e) POST /ofrep/v1/evaluate/flags, ${count(ROTATING_IDENTITIES)} identities rotating`, requests: bulk, ceilingBody: await answer(bulk[1] as SdkRequest, 'ofrep-flags.json') },
      ].filter((workload) => ONLY === null || ONLY.has(workload.name.slice(1, 2)));
    } finally {
      setup.kill();
      await new Promise((r) => setup.once('exit', r));
    }

    const lines: string[] = [];
    for (const workload of workloads) {
      const barePort = await freePort();
      const bareArgv = ['-r', '@swc-node/register', join(__dirname, 'peers', 'bare-server.ts'), String(barePort), workload.ceilingBody];
      const ceiling = await measure('bare node:http, the same body', bareArgv, {}, `http://127.0.0.1:${barePort}`, workload.requests, outDir);
      lines.push(row(workload.name, ceiling, 'ceiling'));
      for (const build of BUILDS) {
        const ours = await measure(`standalone (${build.name})`, [build.main], env, base, workload.requests, outDir);
        lines.push(row(workload.name, ours, `main thread ${(ours.perRequest.main / ceiling.perRequest.main).toFixed(2)}× the ceiling's, all threads ${(ours.perRequest.all / ceiling.perRequest.all).toFixed(2)}×`));
      }
    }
    console.log(
      [
        '',
        `Instructions per request under callgrind (user space, server process only, idle rate taken off): ${REQUESTS} measured requests after ${WARM_UP} warm-up, ${CONNECTIONS} connection(s), Node ${process.version}.`,
        '',
        '| Request | server | main thread | all threads | idle, all threads, per s | |',
        '|---|---|---:|---:|---:|---|',
        ...lines,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    if (process.env['INSTR_KEEP'] === undefined) await rm(outDir, { recursive: true, force: true });
    else console.log(`callgrind dumps kept in ${outDir}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
