import autocannon from 'autocannon';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { compileEnvironment, evaluate, toEvaluationResult, getEvaluationResult, type EvaluationContext } from '@flagline/evaluation-engine';
import { AdminClient } from './admin-client';
import { benchIdentities, createBenchEnvironment, type BenchEnvironment } from './fixture';
import { loadSdkEngine } from './flagsmith-nodejs-engine';
import { distributedUnavailableReason, startDistributed } from './distributed';

/**
 * `npm run bench`: the evaluation service under load on loopback, beside a bare node:http
 * ceiling and flagsmith-nodejs's engine behind the same bare server, plus in-process engine
 * throughput and change propagation. One run, one table. Options (env): BENCH_DURATION (s),
 * BENCH_CONNECTIONS.
 */
const root = resolve(__dirname, '..', '..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function forkPeer(script: string, args: string[]): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'peers', script), args, { execArgv: ['-r', '@swc-node/register'], cwd: root, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolveChild, reject) => {
    child.once('message', () => resolveChild(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, requests: autocannon.Request[], headers: Record<string, string>): Promise<LoadResult> {
  const options = { url, connections: CONNECTIONS, pipelining: 1, headers, requests };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: DURATION });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

/**
 * Runs two measurements alternately (a, b, a, b, ...) for ROUNDS rounds and takes the median of
 * each figure, so a stall of the shared machine during one run moves neither side.
 */
async function alternate(first: () => Promise<LoadResult>, second: () => Promise<LoadResult>): Promise<[LoadResult, LoadResult]> {
  const runs: [LoadResult[], LoadResult[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    runs[0].push(await first());
    runs[1].push(await second());
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const summary = (results: LoadResult[]): LoadResult => ({
    rps: median(results.map((result) => result.rps)),
    p50: median(results.map((result) => result.p50)),
    p99: median(results.map((result) => result.p99)),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
  });
  return [summary(runs[0]), summary(runs[1])];
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
  return `| ${name} | ${percentile(delays, 50).toFixed(2)} | ${percentile(delays, 99).toFixed(2)} | ${(delays[delays.length - 1] as number).toFixed(2)} |`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
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

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-bench-'));
  try {
    const port = await freePort();
    const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
    const server = spawn(process.execPath, [join(root, 'dist', 'apps', 'standalone', 'src', 'main.js')], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(server);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const admin = new AdminClient(base, adminKey);
    const bench = await createBenchEnvironment(admin);
    const identities = benchIdentities(100);

    const identityBody = (identity: (typeof identities)[number]) =>
      JSON.stringify({ identifier: identity.identifier, traits: Object.entries(identity.traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) });
    // Identities are stored once (first identify); the measured requests then find their traits unchanged.
    for (const identity of identities) {
      const response = await fetch(`${base}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' }, body: identityBody(identity) });
      if (!response.ok) throw new Error(`identify failed: ${response.status}`);
      await response.arrayBuffer();
    }
    const environmentBody = Buffer.from(await (await fetch(`${base}/api/v1/flags/`, { headers: { 'x-environment-key': bench.clientKey } })).arrayBuffer());
    const sampleIdentity = await (
      await fetch(`${base}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' }, body: identityBody(identities[1] as (typeof identities)[number]) })
    ).text();
    const document = await (await fetch(`${base}/api/v1/environment-document/`, { headers: { 'x-environment-key': bench.serverKey } })).text();
    await writeFile(join(dataDir, 'environment-flags.json'), environmentBody);
    await writeFile(join(dataDir, 'identity-flags.json'), sampleIdentity);
    await writeFile(join(dataDir, 'environment-document.json'), document);

    const environmentRequest = [{ method: 'GET' as const, path: '/api/v1/flags/' }];
    const identityRequests = identities.map((identity) => ({ method: 'POST' as const, path: '/api/v1/identities/', body: identityBody(identity) }));
    const identityHeaders = { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' };
    // Transient identities are never stored nor remembered: every request is evaluated afresh.
    const transientRequests = benchIdentities(1000).map((identity) => ({
      method: 'POST' as const,
      path: '/api/v1/identities/',
      body: JSON.stringify({ identifier: `visitor-${identity.identifier}`, transient: true, traits: Object.entries(identity.traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) }),
    }));

    // Ceiling and ours run alternately, twice each, so drift on the machine does not favour either.
    const barePort = await freePort();
    const bareEnvironment = await forkPeer('bare-server.ts', [String(barePort), join(dataDir, 'environment-flags.json')]);
    // The ceiling receives the very request ours does, key header included.
    const [bareA, oursA] = await alternate(
      () => load(`http://127.0.0.1:${barePort}`, environmentRequest, { 'x-environment-key': bench.clientKey }),
      () => load(base, environmentRequest, { 'x-environment-key': bench.clientKey }),
    );
    await stop(bareEnvironment);
    const bareIdentity = await forkPeer('bare-server.ts', [String(barePort), join(dataDir, 'identity-flags.json')]);
    const [bareB, oursB] = await alternate(
      () => load(`http://127.0.0.1:${barePort}`, identityRequests, identityHeaders),
      () => load(base, identityRequests, identityHeaders),
    );
    await stop(bareIdentity);
    const oursTransient = await load(base, transientRequests, identityHeaders);
    const sdkPort = await freePort();
    const sdkServer = await forkPeer('flagsmith-nodejs-server.ts', [String(sdkPort), join(dataDir, 'environment-document.json')]);
    const sdkB = await load(`http://127.0.0.1:${sdkPort}`, identityRequests, identityHeaders);
    sdkServer.kill();

    // In-process engines on the same contexts: flagsmith-nodejs's mapping of our environment document.
    const sdk = loadSdkEngine();
    const environmentModel = sdk.buildEnvironmentModel(JSON.parse(document));
    const engineIdentities = benchIdentities(1000);
    const contexts = engineIdentities.map((identity) => sdk.identityContext(environmentModel, identity.identifier, identity.traits) as EvaluationContext);
    const { identity: _identity, ...environmentContext } = contexts[0] as EvaluationContext;
    const compiled = compileEnvironment(environmentContext);
    const inputs = contexts.map((context) => context.identity as NonNullable<EvaluationContext['identity']>);
    const agree = contexts.every((context, index) => {
      const theirs = sdk.getEvaluationResult(context) as { flags: Record<string, { value: unknown; enabled: boolean }> };
      const ours = toEvaluationResult(evaluate(compiled, inputs[index] as NonNullable<EvaluationContext['identity']>));
      return Object.entries(theirs.flags).every(([name, flag]) => ours.flags[name]?.value === flag.value && ours.flags[name]?.enabled === flag.enabled);
    });
    const oursEngine = engineThroughput((index) => toEvaluationResult(evaluate(compiled, inputs[index] as NonNullable<EvaluationContext['identity']>)), inputs.length);
    const oursEngineUncompiled = engineThroughput((index) => getEvaluationResult(contexts[index] as EvaluationContext), contexts.length, 1500);
    const sdkEngine = engineThroughput((index) => sdk.getEvaluationResult(contexts[index]), contexts.length);

    const delays = await measurePropagation(admin, bench, base);

    // The distributed path: command service → log → relay → Kafka → projector → Redis → evaluation service.
    const unavailable = distributedUnavailableReason();
    type Distributed = { a: LoadResult; b: LoadResult; standaloneA: LoadResult; standaloneB: LoadResult; delays: number[] };
    let distributed: Distributed | string = unavailable ?? '';
    if (!unavailable) {
      const setup = await startDistributed(root, freePort);
      try {
        const distributedDelays = await measurePropagation(setup.admin, setup.bench, setup.evaluationUrl);
        // Compared with the standalone app in the same window (alternating, both still running), so
        // that drift on the machine between the two parts of the benchmark favours neither.
        const identityHeadersDistributed = { 'x-environment-key': setup.bench.serverKey, 'content-type': 'application/json' };
        const [a, standaloneA] = await alternate(
          () => load(setup.evaluationUrl, environmentRequest, { 'x-environment-key': setup.bench.clientKey }),
          () => load(base, environmentRequest, { 'x-environment-key': bench.clientKey }),
        );
        const [b, standaloneB] = await alternate(
          () => load(setup.evaluationUrl, identityRequests, identityHeadersDistributed),
          () => load(base, identityRequests, identityHeaders),
        );
        distributed = { a, b, standaloneA, standaloneB, delays: distributedDelays };
      } finally {
        await setup.stop();
      }
    }
    await stop(server);

    const ratio = (ours: LoadResult, ceiling: LoadResult) => (ours.rps / ceiling.rps).toFixed(2);
    const row = (name: string, result: LoadResult, note = '') =>
      `| ${name} | ${Math.round(result.rps).toLocaleString('en-US')} | ${result.p50} | ${result.p99} | ${result.errors} | ${note} |`;
    const lines = [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; loopback, ${CONNECTIONS} connections, ${DURATION} s per run (after 2 s warm-up); (a) and (b), their ceilings and the distributed runs: median of ${ROUNDS} alternating runs (req/s, p50, p99 each), errors summed.`,
      `Environment: 20 features (3 multivariate), 5 segments (percentage split, semver, regex, IN/numeric, nested NONE) with 10 overrides; identities with 5 traits.`,
      '',
      '| HTTP | req/s | p50 ms | p99 ms | errors | |',
      '|---|---:|---:|---:|---:|---|',
      row('bare node:http, environment-flags body', bareA, 'ceiling (a)'),
      row('(a) GET /api/v1/flags/', oursA, `${ratio(oursA, bareA)} of ceiling (target ≥ 0.85)`),
      row('bare node:http, identity-flags body', bareB, 'ceiling (b)'),
      row('(b) POST /api/v1/identities/ (5 traits)', oursB, `${ratio(oursB, bareB)} of ceiling (target ≥ 0.6)`),
      row('(b) transient identities (5 traits), evaluated on every request', oursTransient, `${ratio(oursTransient, bareB)} of ceiling (b)`),
      row('flagsmith-nodejs engine behind bare node:http (b)', sdkB, `ours ${(oursB.rps / sdkB.rps).toFixed(2)}×, ours evaluating every request ${(oursTransient.rps / sdkB.rps).toFixed(2)}×`),
      '',
      '| Engine, in process, same contexts | evaluations/s | |',
      '|---|---:|---|',
      `| ours (compiled once per environment revision) | ${Math.round(oursEngine).toLocaleString('en-US')} | ${(oursEngine / sdkEngine).toFixed(1)}× flagsmith-nodejs (target ≥ 3×) |`,
      `| ours, compiling on every call (getEvaluationResult) | ${Math.round(oursEngineUncompiled).toLocaleString('en-US')} | ${(oursEngineUncompiled / sdkEngine).toFixed(1)}× |`,
      `| flagsmith-nodejs getEvaluationResult | ${Math.round(sdkEngine).toLocaleString('en-US')} | results agree on ${agree ? 'all' : 'NOT all'} ${contexts.length} identities |`,
      '',
      '| Change propagation, 100 changes: acknowledged admin write → new value in GET /api/v1/flags/ | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|',
      propagationRow('standalone (target p99 < 20 ms)', delays),
      ...(typeof distributed === 'string'
        ? [`| distributed: not measured (${distributed}) | | | |`]
        : [propagationRow('distributed: log → relay → Kafka → projector → Redis → evaluation service (target p99 < 100 ms)', distributed.delays)]),
      ...(typeof distributed === 'string'
        ? []
        : [
            '',
            '| Distributed evaluation service (read models from Redis, in memory), alternating with the standalone app | req/s | p50 ms | p99 ms | errors | |',
            '|---|---:|---:|---:|---:|---|',
            row('(a) GET /api/v1/flags/, distributed', distributed.a, `${ratio(distributed.a, distributed.standaloneA)} of standalone`),
            row('(a) GET /api/v1/flags/, standalone', distributed.standaloneA),
            row('(b) POST /api/v1/identities/ (5 traits), distributed', distributed.b, `${ratio(distributed.b, distributed.standaloneB)} of standalone`),
            row('(b) POST /api/v1/identities/ (5 traits), standalone', distributed.standaloneB),
          ]),
    ];
    console.log(`\n${lines.join('\n')}\n`);
  } finally {
    await Promise.all(children.map((child) => stop(child)));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  for (const child of children) child.kill();
  process.exit(1);
});
