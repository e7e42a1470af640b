/**
 * Schema-driven fuzzing of the admin API: starts the standalone app (its own process, a free
 * port, a temporary DATA_DIR and a known ADMIN_API_KEY), creates one organisation's worth of
 * entities so path parameters hit real ones, and runs Schemathesis over `/openapi.json` with
 * every operation, a fixed seed and a bounded number of examples. Any 5xx, any status the
 * document does not declare, any body that breaks its declared schema or content type fails;
 * so does an operation that never answers 2xx (unless `NO_2XX_EXPECTED` explains why), or whose
 * valid requests all answer 404 or 400 (its handler's deeper paths would never run).
 *
 * Schemathesis comes from PyPI, pinned, in a project-local virtualenv (`.venv/fuzz`). When it
 * cannot be installed the run fails under CI=true and is skipped with the reason elsewhere.
 *
 * Usage: `npm run fuzz` (`FUZZ_MAX_EXAMPLES`, `FUZZ_SEED`, `FUZZ_WORKERS` and `FUZZ_PHASES`, such as
 * `examples,coverage,fuzzing,stateful`, override the defaults; without `examples`, a DELETE's first
 * request may be an invalid one that still deletes, and its valid ones then all answer 404).
 * The last line is always `N passed, M failed` over the API operations.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandaloneProcess, REPOSITORY_ROOT, type StandaloneProcess } from '../../apps/standalone/src/testing/process';
import { ApiClient } from '../../apps/standalone/src/testing/http-harness';
import { keyIdFor, NO_2XX_EXPECTED, operationsWithMethod, pathParameters, schemathesisConfig, type OperationPins } from './config';
import { emptyOrganisation, fixtureParameters, invitee, type FixtureParameters } from './fixtures';
import { ensureSchemathesis, SCHEMATHESIS_VERSION } from './install';
import { coverageGaps, readSchemathesisReport, type FuzzSummary } from './report';

const CHECKS = ['not_a_server_error', 'status_code_conformance', 'response_schema_conformance', 'content_type_conformance'];

function intFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return parsed;
}

/** Runs Schemathesis with its output passed through; resolves with its exit code. */
function runSchemathesis(executable: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Schemathesis keeps a cache of what it learnt about the API in `.schemathesis/` under its
    // working directory: a temporary one keeps every run starting from the same state.
    const child = spawn(executable, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_COLOR: '1', PYTHONUNBUFFERED: '1' } });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

function printSummary(summary: FuzzSummary, gaps: readonly string[]): void {
  console.log(`fuzzer: ${summary.requests} requests, ${summary.operations.length} operations, ${summary.operationsWith2xx.length} with a 2xx answer, ${summary.failures} failures`);
  const failed = new Set([...summary.failedOperations, ...gaps]).size;
  console.log(`${summary.operations.length - failed} passed, ${failed} failed`);
}

/**
 * What each operation needs besides the live fixture: every DELETE (and the erasure) a fixture of its own, whole
 * until its first valid request deletes the entity (a shared one would be gone, or its parent
 * deleted, before most DELETEs ran); accepting and declining an invitation its addressee's key.
 */
async function operationPins(admin: ApiClient, live: FixtureParameters): Promise<OperationPins[]> {
  const document = (await admin.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const pins: OperationPins[] = [];
  for (const [index, name] of operationsWithMethod(document, 'delete').entries()) {
    const path = name.slice('DELETE '.length);
    if (path === '/admin/v1/organisations/{organisationId}') {
      // An organisation that still has a project cannot be deleted (409).
      pins.push({ name, parameters: { 'path.organisationId': await emptyOrganisation(admin, `Doomed${index}`) } });
      continue;
    }
    const doomed = await fixtureParameters(admin, `Doomed${index}`);
    pins.push({ name, parameters: pathParameters(doomed, keyIdFor(path, doomed)) });
  }
  // A point in time the log holds (the live fixture is made by now): reads as of it answer the
  // fixture, where a generated time is mostly in the future or before the log began (a 400).
  const past = new Date().toISOString();
  for (const [path, operations] of Object.entries(document.paths)) {
    const parameters = (operations['get'] as { parameters?: { name: string; in: string }[] } | undefined)?.parameters ?? [];
    const query = new Set(parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name));
    if (query.has('asOf')) pins.push({ name: `GET ${path}`, parameters: { 'query.asOf': past } });
    else if (path.endsWith('/diff')) pins.push({ name: `GET ${path}`, parameters: { 'query.from': '1', 'query.to': past } });
  }
  // The first event's leaf in the tree of its first leaf: there as soon as the tree follows the log.
  pins.push({ name: 'GET /admin/v1/transparency/proofs/inclusion', parameters: { 'query.position': 1, 'query.treeSize': 1 } });
  // An erasure destroys its identity as a DELETE does: a fixture of its own keeps the live identity for the other operations.
  pins.push({ name: 'POST /admin/v1/environments/{environment}/identities/{identifier}/erase', parameters: pathParameters(await fixtureParameters(admin, 'Erased')) });
  // A new override needs a feature and a segment of the environment's project that no override joins yet.
  pins.push({ name: 'POST /admin/v1/environments/{environment}/segment-overrides', parameters: { 'body.feature': live.featureId, 'body.segment': live.spareSegmentId } });
  // A new order lists every overridden segment of the feature once: a fixture of its own keeps that list
  // at the one segment whatever the other operations create.
  const reordered = await fixtureParameters(admin, 'Reordered');
  pins.push({ name: 'PUT /admin/v1/environments/{environment}/features/{featureId}/segment-override-order', parameters: { ...pathParameters(reordered), 'body.segmentIds': [reordered.segmentId] } });
  // Explained evaluation names features the environment has, as of a point the log holds (a time just past).
  pins.push({ name: 'POST /admin/v1/environments/{environment}/evaluate', parameters: { 'body.features': [live.flagKey], 'body.asOf': new Date().toISOString() } });
  for (const answer of ['accept', 'decline']) {
    const invitation = await invitee(admin, live.organisationId, `Invitee who will ${answer}`);
    pins.push({ name: `POST /admin/v1/invitations/{invitationId}/${answer}`, parameters: { 'path.invitationId': invitation.invitationId }, apiKey: invitation.userKey });
  }
  return pins;
}

async function main(): Promise<number> {
  const installed = await ensureSchemathesis(REPOSITORY_ROOT);
  if (!installed.ok) {
    if (process.env['CI'] === 'true') {
      console.error(`fuzzer: Schemathesis ${SCHEMATHESIS_VERSION} could not be installed: ${installed.reason}`);
      console.log('0 passed, 1 failed');
      return 1;
    }
    console.log(`fuzzer: skipped, Schemathesis ${SCHEMATHESIS_VERSION} could not be installed (${installed.reason})`);
    return 0;
  }

  const seed = intFromEnv('FUZZ_SEED', 20261205);
  const maxExamples = intFromEnv('FUZZ_MAX_EXAMPLES', 25);
  // One worker: Schemathesis's generation in parallel threads has failed on this Python (3.11) inside Hypothesis's lambda introspection.
  const workers = intFromEnv('FUZZ_WORKERS', 1);
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-fuzz-'));
  const adminKey = `fuzz_${randomBytes(18).toString('base64url')}`;
  let app: StandaloneProcess | null = null;
  try {
    app = await startStandaloneProcess({ DATA_DIR: join(dataDir, 'data'), ADMIN_API_KEY: adminKey }, 60_000);
    const admin = new ApiClient(app.url, adminKey);
    const live = await fixtureParameters(admin, 'Fuzz');
    const configFile = join(dataDir, 'schemathesis.toml');
    await writeFile(configFile, schemathesisConfig(adminKey, live, await operationPins(admin, live)));
    // Kept after the run (tmp/ is ignored by git) for a closer look at what was sent and answered.
    const reportDir = join(REPOSITORY_ROOT, 'tmp', 'fuzz');
    await mkdir(reportDir, { recursive: true });
    const reportFile = join(reportDir, 'events.ndjson');
    // Schemathesis writes over an existing file without truncating it first.
    await rm(reportFile, { force: true });
    const started = Date.now();
    const code = await runSchemathesis(installed.executable, [
      '--config-file',
      configFile,
      'run',
      `${app.url}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--seed',
      String(seed),
      '--max-examples',
      String(maxExamples),
      '--phases',
      process.env['FUZZ_PHASES'] || 'examples,coverage,fuzzing',
      '--workers',
      String(workers),
      // Every example of an operation runs even after one failed, so an undeclared status cannot hide a 5xx behind it.
      '--continue-on-failure',
      '--generation-database',
      'none',
      '--request-timeout',
      '10',
      '--no-color',
      '--report',
      'ndjson',
      '--report-ndjson-path',
      reportFile,
    ], dataDir);
    const summary = await readSchemathesisReport(reportFile);
    console.log(`fuzzer: seed ${seed}, at most ${maxExamples} examples per operation and phase, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const failure of summary.failureList) console.log(`fuzzer: FAIL ${failure.operation}: ${failure.title} (${failure.message.replace(/\n/g, '; ')})`);
    for (const operation of summary.operationErrors) console.log(`fuzzer: ERROR ${operation}: Schemathesis could not finish it (see above)`);
    // What the app logged besides its start line (errors behind a 5xx, for one).
    const logged = app
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('listening on'));
    if (summary.failures > 0 && logged.length > 0) console.log(`fuzzer: the app logged:\n${logged.slice(-60).join('\n')}`);
    const gaps = coverageGaps(summary, NO_2XX_EXPECTED);
    for (const operation of gaps.unexplained) console.log(`fuzzer: FAIL ${operation}: no request got a 2xx answer, so its handler's deeper paths never ran`);
    for (const operation of gaps.stale) console.log(`fuzzer: FAIL ${operation}: answered 2xx, yet NO_2XX_EXPECTED says it cannot; drop it from that list`);
    if (code !== 0 && summary.failures === 0) console.log('fuzzer: Schemathesis failed the run on a warning (missing test data or rejected valid data, see above)');
    printSummary(summary, [...gaps.unexplained, ...gaps.stale]);
    // Schemathesis exits non-zero on any failure or on a warning set to fail the run; a zero exit with failures in the report is impossible, so any of these fails the run.
    return summary.failures > 0 || summary.operationsFailed > 0 || gaps.unexplained.length > 0 || gaps.stale.length > 0 || code !== 0 ? 1 : 0;
  } finally {
    await app?.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('fuzzer:', error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
