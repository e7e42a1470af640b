import autocannon from 'autocannon';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
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
import { benchIdentities, createBenchEnvironment, type BenchEnvironment } from './fixture';
import { loadSdkEngine } from './flagsmith-nodejs-engine';
import { distributedUnavailableReason, startDistributed, type DistributedSetup } from './distributed';
import { freePort, identityBody, waitFor } from './support';

/**
 * `npm run bench`: the evaluation service under load on loopback, beside a bare node:http
 * ceiling and flagsmith-nodejs's engine behind the same bare server, plus in-process engine
 * throughput and change propagation. One run, one table. Options (env): BENCH_DURATION (s per
 * measured run), BENCH_ROUNDS, BENCH_CONNECTIONS.
 */
const root = resolve(__dirname, '..', '..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 4);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 12);
const WARM_UP = 3;
const children: ChildProcess[] = [];

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

/** A saturating load: each connection sends its next request as soon as the last is answered. */
async function load(url: string, requests: autocannon.Request[], headers: Record<string, string>, warmUp = true): Promise<LoadResult> {
  const options = { url, connections: CONNECTIONS, pipelining: 1, headers, requests };
  if (warmUp) await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: DURATION });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly requests: autocannon.Request[];
  readonly headers: Record<string, string>;
}

interface Compared {
  /** Medians over the rounds, errors summed. */
  readonly results: LoadResult[];
  /** Per round: each target's req/s over the first target's (the ceiling), in the same round. */
  readonly ratios: number[][];
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Loads the targets in turn, ROUNDS rounds of DURATION seconds each, the order reversed every
 * other round; each target is warmed up once first. The machine's drift and stalls hit runs close
 * together alike, so a ratio is taken within each round (target over the first target, measured
 * seconds apart) and its median over the rounds reported: far steadier on a shared machine than
 * the ratio of two long runs minutes apart.
 */
async function rounds(targets: Target[]): Promise<Compared> {
  for (const target of targets) await autocannon({ url: target.url, connections: CONNECTIONS, headers: target.headers, requests: target.requests, duration: WARM_UP });
  const runs: LoadResult[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const target = targets[index] as Target;
      (runs[index] as LoadResult[]).push(await load(target.url, target.requests, target.headers, false));
    }
  }
  const results = runs.map((results) => ({
    rps: median(results.map((result) => result.rps)),
    p50: median(results.map((result) => result.p50)),
    p99: median(results.map((result) => result.p99)),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
  }));
  const ceiling = runs[0] as LoadResult[];
  const ratios = runs.map((results) => results.map((result, round) => result.rps / (ceiling[round] as LoadResult).rps));
  return { results, ratios };
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
      body: identityBody({ ...identity, identifier: `visitor-${identity.identifier}` }, { transient: true }),
    }));

    // The distributed path: command service → log → relay → Kafka → projector → Redis → evaluation
    // service. Its evaluation service is the production evaluation tier; once propagation is
    // measured the write pipeline stops, and it joins the (a) and (b) rounds beside the standalone app.
    const unavailable = distributedUnavailableReason();
    let setup: DistributedSetup | undefined;
    let distributedDelays: number[] | undefined;
    if (!unavailable) {
      setup = await startDistributed(root, freePort);
      distributedDelays = await measurePropagation(setup.admin, setup.bench, setup.evaluationUrl);
      await setup.quiesce();
    }
    const distributedBodyBytes = setup
      ? (await (await fetch(`${setup.evaluationUrl}/api/v1/flags/`, { headers: { 'x-environment-key': setup.bench.clientKey } })).arrayBuffer()).byteLength
      : undefined;

    // The ceilings receive the very requests ours do, key headers included, and answer ours's body.
    const [bareAPort, bareBPort] = [await freePort(), await freePort()];
    const bareEnvironment = await forkPeer('bare-server.ts', [String(bareAPort), join(dataDir, 'environment-flags.json')]);
    const bareIdentity = await forkPeer('bare-server.ts', [String(bareBPort), join(dataDir, 'identity-flags.json')]);
    const environmentTargets: Target[] = [
      { name: 'ceiling', url: `http://127.0.0.1:${bareAPort}`, requests: environmentRequest, headers: { 'x-environment-key': bench.clientKey } },
      ...(setup ? [{ name: 'evaluation service', url: setup.evaluationUrl, requests: environmentRequest, headers: { 'x-environment-key': setup.bench.clientKey } }] : []),
      { name: 'standalone', url: base, requests: environmentRequest, headers: { 'x-environment-key': bench.clientKey } },
    ];
    const identityTargets: Target[] = [
      { name: 'ceiling', url: `http://127.0.0.1:${bareBPort}`, requests: identityRequests, headers: identityHeaders },
      ...(setup ? [{ name: 'evaluation service', url: setup.evaluationUrl, requests: identityRequests, headers: { 'x-environment-key': setup.bench.serverKey, 'content-type': 'application/json' } }] : []),
      { name: 'standalone', url: base, requests: identityRequests, headers: identityHeaders },
    ];
    let environmentFlags: Compared;
    let identityFlags: Compared;
    try {
      environmentFlags = await rounds(environmentTargets);
      identityFlags = await rounds(identityTargets);
    } finally {
      await stop(bareEnvironment);
      await stop(bareIdentity);
      await setup?.stop();
    }

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

    const delays = await measurePropagation(admin, bench, base);

    await stop(server);

    const row = (name: string, result: LoadResult, note = '') =>
      `| ${name} | ${Math.round(result.rps).toLocaleString('en-US')} | ${result.p50} | ${result.p99} | ${result.errors} | ${note} |`;
    const quartile = (values: number[], q: number): number => {
      const sorted = [...values].sort((x, y) => x - y);
      return sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] as number;
    };
    const ratioNote = (ratios: number[], target: string) =>
      `**${median(ratios).toFixed(2)}** of ceiling (middle half of rounds ${quartile(ratios, 0.25).toFixed(2)}–${quartile(ratios, 0.75).toFixed(2)})${target}`;
    // Targets apply to the evaluation service, the production evaluation tier; without Kafka and
    // Redis here, to the standalone app, which serves the same API from the same handler.
    const targetedName = setup ? 'evaluation service' : 'standalone';
    const compareRows = (compared: Compared, targets: Target[], labels: { which: string; ceiling: string; ours: string; target: string }): string[] =>
      targets.map((entry, index) => {
        const result = compared.results[index] as LoadResult;
        if (index === 0) return row(labels.ceiling, result, `ceiling ${labels.which}`);
        const ratios = compared.ratios[index] as number[];
        return row(`${labels.which} ${labels.ours}, ${entry.name}`, result, ratioNote(ratios, entry.name === targetedName ? ` (target ≥ ${labels.target}); p99 < 5 ms at saturation: ${result.p99 < 5 ? 'met' : 'missed'}` : ''));
      });
    const standaloneB = identityFlags.results[identityTargets.findIndex((entry) => entry.name === 'standalone')] as LoadResult;
    const bareB = identityFlags.results[0] as LoadResult;
    const lines = [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; loopback, ${CONNECTIONS} connections.`,
      `(a) and (b): ${ROUNDS} rounds of ${DURATION} s runs, the ceiling and ours in turn (order reversed every other round, ${WARM_UP} s warm-up each first); req/s, p50 and p99 are medians over the rounds, errors summed; the ratio is the median of the ratios within each round.${distributedBodyBytes !== undefined ? ` Environment-flags body: ${environmentBody.length} bytes (standalone, ceiling), ${distributedBodyBytes} (evaluation service).` : ''}`,
      `Environment: 20 features (3 multivariate), 5 segments (percentage split, semver, regex, IN/numeric, nested NONE) with 10 overrides; identities with 5 traits.`,
      unavailable
        ? `Evaluation service (distributed) not measured: ${unavailable}.`
        : 'The evaluation service runs as on its own nodes: beside Redis and the command service, the write pipeline (relay, projector, Kafka) stopped after its propagation was measured.',
      '',
      '| HTTP | req/s | p50 ms | p99 ms | errors | |',
      '|---|---:|---:|---:|---:|---|',
      ...compareRows(environmentFlags, environmentTargets, { which: '(a)', ceiling: 'bare node:http, environment-flags body', ours: 'GET /api/v1/flags/', target: '0.85' }),
      ...compareRows(identityFlags, identityTargets, { which: '(b)', ceiling: 'bare node:http, identity-flags body', ours: 'POST /api/v1/identities/ (5 traits)', target: '0.6' }),
      row('(b) transient identities (5 traits), evaluated on every request, standalone', oursTransient, `${(oursTransient.rps / bareB.rps).toFixed(2)} of ceiling (b)`),
      row('flagsmith-nodejs engine behind bare node:http (b)', sdkB, `standalone ${(standaloneB.rps / sdkB.rps).toFixed(2)}×, evaluating every request ${(oursTransient.rps / sdkB.rps).toFixed(2)}×`),
      '',
      '| Engine, in process, same contexts | evaluations/s | |',
      '|---|---:|---|',
      `| ours (compiled once per environment revision) | ${Math.round(oursEngine).toLocaleString('en-US')} | ${(oursEngine / sdkEngine).toFixed(1)}× flagsmith-nodejs (target ≥ 3×) |`,
      `| ours, compiling on every call (getEvaluationResult) | ${Math.round(oursEngineUncompiled).toLocaleString('en-US')} | ${(oursEngineUncompiled / sdkEngine).toFixed(1)}× |`,
      `| flagsmith-nodejs getEvaluationResult | ${Math.round(sdkEngine).toLocaleString('en-US')} | results (value, enabled, reason with STATIC read as DEFAULT) agree on ${agree ? 'all' : 'NOT all'} ${contexts.length} identities |`,
      '',
      '| Change propagation, 100 changes: acknowledged admin write → new value in GET /api/v1/flags/ | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|',
      propagationRow('standalone (target p99 < 20 ms)', delays),
      distributedDelays
        ? propagationRow('distributed: log → relay → Kafka → projector → Redis → evaluation service (target p99 < 100 ms)', distributedDelays)
        : `| distributed: not measured (${unavailable ?? 'unavailable'}) | | | |`,
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
