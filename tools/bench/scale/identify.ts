import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdminClient } from '../admin-client';
import { benchIdentities, createBenchEnvironment } from '../fixture';
import { freePort, identityBody, waitFor } from '../support';

/**
 * Identify of new identities against transient identifies, on one standalone server:
 * `POST /api/v1/identities/` with a server key, a new identifier and 5 traits per request
 * (each one creates an identity: one event appended, catalogued and projected before the
 * answer), then the same bodies with `"transient": true` (evaluated, nothing stored). Prints
 * both rates, their ratio, p50/p99 and the server's RSS.
 *
 *   node -r @swc-node/register tools/bench/scale/identify.ts [--dist] [--profile]
 *
 * The server runs from the TypeScript sources (through @swc-node/register) unless `--dist` is
 * given, which runs `dist/apps/standalone/src/main.js` (`npm run build` first). `--profile`
 * starts the server with `--cpu-prof` and writes its CPU profile under the data directory,
 * which is then kept; `--new-only` skips the transient run (a profile of new identities alone). Env: IDENTIFY_DURATION (s per run, default 10), IDENTIFY_CONNECTIONS
 * (default 50), SERVER_NODE_ARGS (node options for the server, space-separated, e.g. `--trace-gc`).
 */
const root = resolve(__dirname, '..', '..', '..');
const DURATION = Number(process.env['IDENTIFY_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['IDENTIFY_CONNECTIONS'] ?? 50);
const useDist = process.argv.includes('--dist');
const profile = process.argv.includes('--profile');
const newOnly = process.argv.includes('--new-only');

interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly total: number;
}

/** The resident set of a process, in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** CPU time the process has used (user + system), in ms, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A saturating load where every request carries a body made for it (a fresh identifier each time). */
async function load(url: string, headers: Record<string, string>, body: (n: number) => string, duration: number, acknowledged?: number[]): Promise<Run> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/api/v1/identities/`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    method: 'POST',
    headers,
    requests: [
      {
        // One request in flight per connection: the context holds the number its answer is for.
        setupRequest: (request, context) => {
          (context as { n?: number }).n = next;
          return { ...request, body: body(next++) };
        },
        onResponse: (status, _body, context) => {
          if (status === 200) acknowledged?.push((context as { n: number }).n);
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    total: result.requests.total,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-identify-'));
  let server: ChildProcess | undefined;
  try {
    const port = await freePort();
    const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
    const entry = useDist
      ? [join(root, 'dist', 'apps', 'standalone', 'src', 'main.js')]
      : ['-r', '@swc-node/register', join(root, 'apps', 'standalone', 'src', 'main.ts')];
    const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(dataDir, 'profile')}`] : [];
    const extra = (process.env['SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    server = spawn(process.execPath, [...extra, ...profiling, ...entry], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const pid = server.pid as number;
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`, 60_000);
    const bench = await createBenchEnvironment(new AdminClient(base, adminKey));
    const headers = { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' };
    const rssBefore = rssMb(pid);

    // 1,000 trait sets spread over the segments; every request gets a new identifier.
    const people = benchIdentities(1000);
    const run = `${Date.now().toString(36)}`;
    const newBody = (n: number) => identityBody({ identifier: `new-${run}-${n}`, traits: (people[n % people.length] as (typeof people)[number]).traits });
    const transientBody = (n: number) =>
      identityBody({ identifier: `visitor-${run}-${n}`, traits: (people[n % people.length] as (typeof people)[number]).traits }, { transient: true });

    // Warm-up: both paths compiled and the JIT settled before measuring.
    const warmUp = await load(base, headers, (n) => newBody(n + 10_000_000), 2);
    if (!newOnly) await load(base, headers, transientBody, 2);

    const acknowledged: number[] = [];
    // Server CPU per request: robust to other load on the machine, which moves the rates.
    let cpuBefore = cpuMs(pid);
    const created = await load(base, headers, newBody, DURATION, acknowledged);
    const createdCpu = cpuMs(pid) - cpuBefore;
    const rssAfter = rssMb(pid);
    cpuBefore = cpuMs(pid);
    const transient = newOnly ? undefined : await load(base, headers, (n) => transientBody(n + 10_000_000), DURATION);
    const transientCpu = cpuMs(pid) - cpuBefore;

    const row = (name: string, r: Run, cpu: number) =>
      `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(8)}/s  p50 ${String(r.p50).padStart(4)} ms  p99 ${String(r.p99).padStart(4)} ms  server CPU ${((cpu * 1000) / r.total).toFixed(0).padStart(4)} µs/request  requests ${r.total}  errors ${r.errors}`;
    console.log(`\nIdentify, ${CONNECTIONS} connections, ${DURATION} s each, server from ${useDist ? 'dist' : 'sources'}${profile ? ' (profiling)' : ''}`);
    console.log(row('new identities', created, createdCpu));
    if (transient) {
      console.log(row('transient identifies', transient, transientCpu));
      console.log(`ratio new/transient     ${(created.rps / transient.rps).toFixed(2)} (rates), ${(transientCpu / transient.total / (createdCpu / created.total)).toFixed(2)} (server CPU per request)`);
    }
    console.log(`new identities in all   ${warmUp.total + created.total} (with the warm-up)`);
    console.log(`server RSS              ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after ${created.total} new identities`);

    // Acknowledged identities are served with their traits by the next request: the last 20 and 20 drawn at random.
    const sample = [...acknowledged.slice(-20), ...Array.from({ length: 20 }, () => acknowledged[Math.floor(Math.random() * acknowledged.length)] as number)];
    let missing = 0;
    for (const n of sample) {
      const response = await fetch(`${base}/api/v1/identities/?identifier=new-${run}-${n}`, { headers });
      const answer = (await response.json()) as { traits: { trait_key: string; trait_value: unknown }[] };
      const stored = new Map(answer.traits.map((trait) => [trait.trait_key, trait.trait_value]));
      const expected = (people[n % people.length] as (typeof people)[number]).traits;
      if (!Object.entries(expected).every(([key, value]) => stored.get(key) === value)) missing++;
    }
    console.log(`acknowledged, checked   ${sample.length - missing} of ${sample.length} served with their traits${missing > 0 ? ' (SOME LOST)' : ''}`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolveExit) => server?.once('exit', resolveExit));
      server.kill('SIGINT');
      await exited;
    }
    if (profile) console.log(`CPU profile in ${join(dataDir, 'profile')}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
