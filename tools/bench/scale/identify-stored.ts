import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdminClient } from '../admin-client';
import { createBenchEnvironment } from '../fixture';
import { describeChoice, type TimedLoad } from '../load-generator';
import { freePort, identityBody, waitFor } from '../support';
import { bodiesFor, generatorFromArguments, pinServer, scaleIdentity, storedIdentifyBodies, timedRun, transparencyChecked } from './identities';
import { load } from './load';
import { startOptionsOf } from './builds';
import { NodeProcess, rssMb } from './processes';
import { loopStallsBetween, summariseStalls } from './stalls';

/**
 * Identify of STORED identities on one standalone server, the read path alone: loads N identities
 * (5 traits each, as bench:scale does), restarts the server, then identifies stored identities
 * drawn at random with the traits they have, 50 connections. Prints p50/p99, the rate, the
 * server's CPU per request (the honest before/after figure on a shared machine) and its RSS.
 *
 *   node -r @swc-node/register tools/bench/scale/identify-stored.ts [--identities N] [--data-dir DIR] [--dist] [--profile] [--floor] [--transient]
 *     [--generator wrk|oha|autocannon] [--pin|--no-pin] [--runs R] [--wait-check] [--server-root DIR] [--stalls] [--help]
 *
 * `--data-dir DIR` keeps the loaded data: a later run with the same DIR skips the load (the
 * server is started over the data as it is, so another build can be measured on the same
 * identities). The server runs from the TypeScript sources unless `--dist`. `--profile` writes
 * the server's CPU profile under DIR/profile; `--floor` also measures `GET /api/v1/flags/`
 * (a prebuilt answer), the HTTP front's own cost on this machine; `--transient` also measures
 * transient identifies of identities never stored. The load comes from tools/bench/load-generator.ts:
 * wrk with the server pinned to CPU 0 and wrk to CPU 1 by default (`--generator`, `--no-pin`);
 * `--runs R` measures R times in a row (other identities each time). After a start the server
 * checks the log against its Merkle tree (minutes at 1,000,000 events): each line says whether that
 * check was still running, and `--wait-check` waits for it to end before measuring.
 * `--server-root DIR` starts the server of another checkout (say, a worktree of the code before a
 * change) on the same data, measured by this script. `--stalls` preloads
 * tools/bench/scale/event-loop-delay.cjs into the server (1 s windows) and prints, per run, the
 * event loop's worst delay and the collections in it (scavenges, mark-compacts: count, longest)
 * and the bytes scavenges promoted to the old generation, in all and per request.
 * Each line gives the server's CPU per request over all its threads and its main thread's.
 * `--help` prints this and loads nothing. Env: IDENTIFY_DURATION (s,
 * default 10), IDENTIFY_CONNECTIONS (default 50), SERVER_NODE_ARGS (node options for the server,
 * space-separated, e.g. `--trace-gc`; its output goes to DIR/server.log).
 */
const root = resolve(option('--server-root') ?? resolve(__dirname, '..', '..', '..'));
const STALLS = process.argv.includes('--stalls');
/** Where the server's event-loop windows go with `--stalls` (under the data directory). */
const stallsFile = (dataDir: string): string => join(dataDir, 'loop-delay.jsonl');
const DURATION = Number(process.env['IDENTIFY_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['IDENTIFY_CONNECTIONS'] ?? 50);
const PREFIX = 'scale-';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

interface Loaded {
  readonly adminKey: string;
  readonly serverKey: string;
  readonly identities: number;
}

async function startServer(dataDir: string, adminKey: string, profileDir?: string): Promise<{ server: NodeProcess; base: string }> {
  const port = await freePort();
  const useDist = process.argv.includes('--dist');
  const entry = useDist ? [join(root, 'dist', 'apps', 'standalone', 'src', 'main.js')] : ['-r', '@swc-node/register', join(root, 'apps', 'standalone', 'src', 'main.ts')];
  // SERVER_NODE_ARGS are added by NodeProcess itself.
  const args = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    // Plain CommonJS from this checkout's tools, so it loads into the server of every build.
    ...(STALLS ? ['-r', resolve(__dirname, 'event-loop-delay.cjs')] : []),
    ...entry,
  ];
  if (STALLS) rmSync(stallsFile(dataDir), { force: true });
  const server = new NodeProcess(args[0] as string, {
    cwd: root,
    args: args.slice(1),
    nodeOptions: startOptionsOf(root),
    env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey, ...(STALLS ? { LOOP_DELAY_EVERY: '1000', LOOP_DELAY_FILE: stallsFile(dataDir) } : {}) },
    logFile: join(dataDir, 'server.log'),
  });
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([waitFor(`${base}/health`, 600_000), server.failOnExit()]);
  return { server, base };
}

async function loadIdentities(dataDir: string, count: number): Promise<Loaded> {
  const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
  const { server, base } = await startServer(dataDir, adminKey);
  try {
    const bench = await createBenchEnvironment(new AdminClient(base, adminKey));
    const started = performance.now();
    const loaded = await load({
      url: base,
      method: 'POST',
      path: '/api/v1/identities/',
      headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' },
      connections: CONNECTIONS,
      amount: count,
      body: (index) => identityBody(scaleIdentity(PREFIX, index)),
      progress: (answered) => console.log(`  loaded ${answered.toLocaleString('en')} / ${count.toLocaleString('en')}`),
    });
    console.log(`loaded ${loaded.ok.toLocaleString('en')} identities in ${((performance.now() - started) / 1000).toFixed(0)} s, ${loaded.failed} failed`);
    return { adminKey, serverKey: bench.serverKey, identities: count };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    // The usage is this file's own comment: nothing is loaded or started.
    const usage = /\/\*\*\n( \* Identify of STORED[\s\S]*?)\n \*\//.exec(readFileSync(__filename, 'utf8'))?.[1] ?? '';
    console.log(usage.replace(/^ \* ?/gm, ''));
    return;
  }
  const kept = option('--data-dir');
  const dataDir = kept ? resolve(kept) : await mkdtemp(join(tmpdir(), 'flagline-identify-stored-'));
  await mkdir(dataDir, { recursive: true });
  const profile = process.argv.includes('--profile');
  try {
    const manifest = join(dataDir, 'identify-stored.json');
    let loaded: Loaded;
    if (existsSync(manifest)) {
      loaded = JSON.parse(readFileSync(manifest, 'utf8')) as Loaded;
      console.log(`reusing ${loaded.identities.toLocaleString('en')} identities in ${dataDir}`);
    } else {
      loaded = await loadIdentities(dataDir, Number(option('--identities') ?? 200_000));
      writeFileSync(manifest, JSON.stringify(loaded));
    }
    const choice = generatorFromArguments(process.argv);
    const { server, base } = await startServer(dataDir, loaded.adminKey, profile ? join(dataDir, 'profile') : undefined);
    try {
      if (process.argv.includes('--wait-check')) {
        const waitedFrom = performance.now();
        while (!(await transparencyChecked(base))) await new Promise((resolveWait) => setTimeout(resolveWait, 500));
        console.log(`the start-up check of the log against the Merkle tree took ${((performance.now() - waitedFrom) / 1000).toFixed(0)} s after /health answered`);
      }
      pinServer(server.pid, choice);
      // Below the last requests of the load, which may not all have been sent.
      const below = Math.max(1, loaded.identities - 2 * CONNECTIONS);
      const headers = { 'x-environment-key': loaded.serverKey, 'content-type': 'application/json' };
      // Random stored identities with the traits they have, a stable sequence per seed.
      const stored = (seed: number, seconds: number): TimedLoad => ({
        url: base,
        method: 'POST',
        path: '/api/v1/identities/',
        headers,
        connections: CONNECTIONS,
        duration: seconds,
        bodies: storedIdentifyBodies(PREFIX, below, bodiesFor(seconds), seed),
      });
      const runs = Number(option('--runs') ?? 1);
      console.log(
        `\nidentify stored (${loaded.identities.toLocaleString('en')} identities, ${CONNECTIONS} connections, ${DURATION} s, server from ${process.argv.includes('--dist') ? 'dist' : 'sources'}${profile ? ', profiling' : ''}; ${describeChoice(choice)}; load average ${loadavg()[0]?.toFixed(2)})`,
      );
      const measure = async (name: string, make: (seed: number, seconds: number) => TimedLoad, seed: number): Promise<void> => {
        await timedRun(make(seed + 1, 2), server.pid, choice);
        const checking = !(await transparencyChecked(base));
        const startedAt = Date.now();
        const run = await timedRun(make(seed, DURATION), server.pid, choice);
        const endedAt = Date.now();
        const checkState = checking ? ((await transparencyChecked(base)) ? '  (the Merkle check ended during the run)' : '  (the Merkle check ran throughout)') : '';
        const rss = await rssMb(server.pid);
        console.log(
          `  ${name.padEnd(16)} ${run.rate.toFixed(0).padStart(6)}/s  p50 ${run.p50.toFixed(2)} ms  p99 ${run.p99.toFixed(2)} ms  p99.9 ${run.p999.toFixed(2)} ms  ` +
            `server CPU ${run.cpuPerRequest.toFixed(0)} µs/request (main thread ${run.mainThreadCpuPerRequest.toFixed(0)})  requests ${run.ok}  failed ${run.failed}  RSS ${rss?.toFixed(0)} MB  load average ${loadavg()[0]?.toFixed(2)}${checkState}`,
        );
        // The windows that lie within the run (the last one ends a second after it at most).
        if (STALLS) console.log(`  ${''.padEnd(16)} ${summariseStalls(await loopStallsBetween(stallsFile(dataDir), startedAt + 1_000, endedAt + 1_000), run.ok)}`);
      };
      for (let round = 0; round < runs; round++) await measure('stored', stored, 12_345 + 1_000 * round);
      // The floor of the HTTP front on this machine: environment flags, answered from a prebuilt buffer.
      if (process.argv.includes('--floor')) await measure('flags (floor)', (seed, seconds) => ({ ...stored(seed, seconds), method: 'GET', path: '/api/v1/flags/', bodies: undefined }), 7);
      // Transient identifies of identities never stored (evaluated, nothing read or written): the
      // same parse, checks and answer as a stored identify, without the identity's lookup.
      if (process.argv.includes('--transient')) {
        await measure(
          'transient',
          (seed, seconds) => ({
            ...stored(seed, seconds),
            bodies: { count: 5_040, at: (index) => identityBody({ ...scaleIdentity(PREFIX, index), identifier: `visitor-${seed}-{{n}}` }, { transient: true }) },
          }),
          9,
        );
      }
    } finally {
      await server.stop();
    }
    if (profile) console.log(`CPU profile in ${join(dataDir, 'profile')}`);
  } finally {
    if (!kept) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
