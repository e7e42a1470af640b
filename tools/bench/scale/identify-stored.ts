import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdminClient } from '../admin-client';
import { createBenchEnvironment } from '../fixture';
import { freePort, identityBody, waitFor } from '../support';
import { scaleIdentity } from './identities';
import { load, type LoadOptions } from './load';
import { NodeProcess, rssMb } from './processes';
import { percentile } from './report';

/**
 * Identify of STORED identities on one standalone server, the read path alone: loads N identities
 * (5 traits each, as bench:scale does), restarts the server, then identifies stored identities
 * drawn at random with the traits they have, 50 connections. Prints p50/p99, the rate, the
 * server's CPU per request (the honest before/after figure on a shared machine) and its RSS.
 *
 *   node -r @swc-node/register tools/bench/scale/identify-stored.ts [--identities N] [--data-dir DIR] [--dist] [--profile] [--floor] [--transient]
 *
 * `--data-dir DIR` keeps the loaded data: a later run with the same DIR skips the load (the
 * server is started over the data as it is, so another build can be measured on the same
 * identities). The server runs from the TypeScript sources unless `--dist`. `--profile` writes
 * the server's CPU profile under DIR/profile; `--floor` also measures `GET /api/v1/flags/`
 * (a prebuilt answer), the HTTP front's own cost on this machine; `--transient` also measures
 * transient identifies of identities never stored. Env: IDENTIFY_DURATION (s,
 * default 10), IDENTIFY_CONNECTIONS (default 50), SERVER_NODE_ARGS (node options for the server,
 * space-separated, e.g. `--trace-gc`; its output goes to DIR/server.log).
 */
const root = resolve(__dirname, '..', '..', '..');
const DURATION = Number(process.env['IDENTIFY_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['IDENTIFY_CONNECTIONS'] ?? 50);
const PREFIX = 'scale-';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** CPU time the process has used (user + system), in ms, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) * 10;
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
  const extra = (process.env['SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const args = [...extra, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...entry];
  const server = new NodeProcess(args[0] as string, {
    cwd: root,
    args: args.slice(1),
    env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
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
    const { server, base } = await startServer(dataDir, loaded.adminKey, profile ? join(dataDir, 'profile') : undefined);
    try {
      // Random stored identities, with the traits they have: a stable sequence, as in bench:scale.
      let seed = 12_345;
      const stored = {
        url: base,
        method: 'POST' as const,
        path: '/api/v1/identities/',
        headers: { 'x-environment-key': loaded.serverKey, 'content-type': 'application/json' },
        connections: CONNECTIONS,
        body: () => {
          seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
          // Below the last requests of the load, which may not all have been sent.
          return identityBody(scaleIdentity(PREFIX, seed % Math.max(1, loaded.identities - 2 * CONNECTIONS)));
        },
      };
      console.log(
        `\nidentify stored (${loaded.identities.toLocaleString('en')} identities, ${CONNECTIONS} connections, ${DURATION} s, server from ${process.argv.includes('--dist') ? 'dist' : 'sources'}${profile ? ', profiling' : ''})`,
      );
      const measure = async (name: string, options: LoadOptions): Promise<void> => {
        await load({ ...options, duration: 2 });
        const cpuBefore = cpuMs(server.pid);
        const run = await load({ ...options, duration: DURATION, keepLatencies: true });
        const cpu = cpuMs(server.pid) - cpuBefore;
        const rss = await rssMb(server.pid);
        console.log(
          `  ${name.padEnd(16)} ${(run.ok / run.seconds).toFixed(0).padStart(6)}/s  p50 ${percentile(run.latencies, 0.5).toFixed(2)} ms  p99 ${percentile(run.latencies, 0.99).toFixed(2)} ms  ` +
            `server CPU ${((cpu * 1000) / Math.max(1, run.ok + run.failed)).toFixed(0)} µs/request  requests ${run.ok}  failed ${run.failed}  RSS ${rss?.toFixed(0)} MB`,
        );
      };
      await measure('stored', stored);
      // The floor of the HTTP front on this machine: environment flags, answered from a prebuilt buffer.
      if (process.argv.includes('--floor')) await measure('flags (floor)', { ...stored, method: 'GET', path: '/api/v1/flags/', body: undefined });
      // Transient identifies of identities never stored (evaluated, nothing read or written): the
      // same parse, checks and answer as a stored identify, without the identity's lookup.
      if (process.argv.includes('--transient')) {
        let visitor = 0;
        await measure('transient', {
          ...stored,
          body: () => identityBody({ ...scaleIdentity(PREFIX, visitor), identifier: `visitor-${visitor++}` }, { transient: true }),
        });
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
