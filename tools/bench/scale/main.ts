import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chooseGenerator, describeChoice, type GeneratorChoice, type GeneratorName } from '../load-generator';
import { currentTree, refTree, type Build } from './builds';
import { measureFeatures } from './feature-costs';
import { measureIdentities } from './identities';
import { measureCommandService, measureProjector, measureRebuild, measureRebuildFloor } from './offline';
import { killAll } from './processes';
import { renderTable, type Results } from './report';

/**
 * `npm run bench:scale`: issue 15's figures for the current tree and for a build from before
 * (a git ref, built in a worktree), measured in the same run over HTTP and processes only, so it
 * runs on any build; one table on stdout and tmp/bench-scale.json. `--help` lists the options.
 */
const HELP = `npm run bench:scale -- [options]
  --identities N         identities to load (default 1000000)
  --before-identities N  identities for the before build (default: --identities)
  --before REF           git ref of the before build (default 71022cc; "none" to skip it)
  --features F           project size of the second feature point (default 3000)
  --window W             operations timed around each feature point (default 20)
  --connections C        connections of every load (default 50)
  --duration S           seconds of each measured load run (default 10)
  --rounds R             rounds of new against transient identifies (default 2)
  --sample K             identities read back to check they were stored (default 200)
  --generator G          load generator of scenarios 3 and 4: wrk, oha or autocannon (default wrk when installed)
  --pin / --no-pin       pin the server to CPU 0 and the generator to CPU 1 (default: pinned, unless autocannon);
                         scenario 4 runs with the server on every core first (the generator still on CPU 1),
                         then, when pinning, with the server pinned too
  --only LIST            scenarios to run, of identities,rebuild,distributed,features (default all)
  --builds LIST          columns to measure, of before,now (default both)
  --no-build             measure the current tree's dist/ as it is
  --keep                 keep the data directories (under /tmp/flagline-bench-scale, or $BENCH_SCALE_DIR)`;

const SCENARIOS = ['identities', 'rebuild', 'distributed', 'features'] as const;
type Scenario = (typeof SCENARIOS)[number];

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return parsed;
}

export interface ScaleOptions {
  readonly identities: number;
  readonly beforeIdentities: number;
  readonly before: string | null;
  readonly features: number;
  readonly window: number;
  readonly connections: number;
  readonly duration: number;
  readonly rounds: number;
  readonly sample: number;
  readonly generator?: GeneratorName;
  readonly pin?: boolean;
  readonly only: readonly Scenario[];
  readonly builds: readonly ('before' | 'now')[];
  readonly build: boolean;
  readonly keep: boolean;
}

export function parseOptions(argv: string[]): ScaleOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      identities: { type: 'string' },
      'before-identities': { type: 'string' },
      before: { type: 'string' },
      features: { type: 'string' },
      window: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      sample: { type: 'string' },
      generator: { type: 'string' },
      pin: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      only: { type: 'string' },
      builds: { type: 'string' },
      'no-build': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const identities = integer(values.identities, 'identities', 1_000_000);
  const only = values.only === undefined ? [...SCENARIOS] : values.only.split(',').map((name) => name.trim());
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`--only: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const window = integer(values.window, 'window', 20);
  const features = integer(values.features, 'features', 3_000);
  if (features < 10 + window) throw new Error(`--features must be at least 10 + --window (${10 + window})`);
  const builds = (values.builds ?? 'before,now').split(',').map((name) => name.trim());
  if (builds.length === 0 || builds.some((name) => name !== 'before' && name !== 'now')) throw new Error(`--builds: a list of before and now, got "${values.builds}"`);
  const generator = values.generator;
  if (generator !== undefined && generator !== 'wrk' && generator !== 'oha' && generator !== 'autocannon') throw new Error(`--generator must be wrk, oha or autocannon, got "${generator}"`);
  if (values.pin && values['no-pin']) throw new Error('--pin and --no-pin: one or the other');
  const pin = values.pin ? true : values['no-pin'] ? false : undefined;
  return {
    identities,
    beforeIdentities: integer(values['before-identities'], 'before-identities', identities),
    before: values.before === 'none' ? null : (values.before ?? '71022cc'),
    features,
    window,
    connections: integer(values.connections, 'connections', 50),
    duration: integer(values.duration, 'duration', 10),
    rounds: integer(values.rounds, 'rounds', 2),
    sample: integer(values.sample, 'sample', 200),
    ...(generator !== undefined ? { generator } : {}),
    ...(pin !== undefined ? { pin } : {}),
    only: only as Scenario[],
    builds: builds as ('before' | 'now')[],
    build: !values['no-build'],
    keep: values.keep === true,
  };
}

const root = resolve(__dirname, '..', '..', '..');
/** Where the data directories go; BENCH_SCALE_DIR gives another, for runs beside someone else's. */
const WORK = process.env['BENCH_SCALE_DIR'] ?? '/tmp/flagline-bench-scale';
const ADMIN_KEY = 'flk_bench_scale_admin_key_0001';

/** Runs one scenario; a failure is recorded against its first figure and the run goes on. */
async function attempt(results: Results, firstKey: string, log: (line: string) => void, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  failed: ${message}`);
    results[firstKey] = { value: null, note: `error: ${message.slice(0, 120)}` };
  }
}

async function measure(build: Build, options: ScaleOptions, identities: number, generator: GeneratorChoice): Promise<Results> {
  const results: Results = {};
  const log = (line: string): void => console.error(`[${build.label}] ${line}`);
  const dir = join(WORK, build.label);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'processes.log');
  const identityDir = join(dir, 'identities');
  log(`measuring ${build.describe} in ${build.root} (logs: ${logFile})`);
  const runs = (scenario: Scenario): boolean => options.only.includes(scenario);

  let position: number | undefined;
  if (runs('identities')) {
    await attempt(results, 'load.rate', log, async () => {
      const outcome = await measureIdentities(build, identityDir, ADMIN_KEY, logFile, { ...options, identities, generator, log }, results);
      position = outcome.position;
    });
  }
  const loaded = runs('identities') && results['load.rate']?.value != null;
  if (runs('rebuild')) {
    log('rebuild …');
    if (loaded) await attempt(results, 'rebuild.rate', log, () => measureRebuild(build, identityDir, position, logFile, results));
    else results['rebuild.rate'] = { value: null, note: 'n/a (needs the identities scenario)' };
    log('the rebuild\'s floor …');
    await attempt(results, 'rebuild.floorRate', log, () => measureRebuildFloor(identities, logFile, results));
  }
  if (runs('distributed')) {
    log('command service and projector …');
    if (loaded) await attempt(results, 'command.seconds', log, () => measureCommandService(build, identityDir, ADMIN_KEY, position, logFile, results));
    else results['command.seconds'] = { value: null, note: 'n/a (needs the identities scenario)' };
    await attempt(results, 'projector.rate', log, () => measureProjector(build, logFile, results));
  }
  if (!options.keep) await rm(identityDir, { recursive: true, force: true });
  if (runs('features')) {
    const featureDir = join(dir, 'features');
    await attempt(results, 'features.create10', log, () => measureFeatures(build, featureDir, ADMIN_KEY, logFile, { features: options.features, window: options.window, log }, results));
    if (!options.keep) await rm(featureDir, { recursive: true, force: true });
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  const builds: { build: Build; identities: number }[] = [];
  if (options.before !== null && options.builds.includes('before')) builds.push({ build: refTree(root, options.before), identities: options.beforeIdentities });
  if (options.builds.includes('now')) builds.push({ build: currentTree(root, options.build), identities: options.identities });

  const generator = chooseGenerator({ ...(options.generator ? { generator: options.generator } : {}), ...(options.pin !== undefined ? { pin: options.pin } : {}) });
  for (const note of generator.notes) console.error(`load generator: ${note}`);
  const startedAt = new Date().toISOString();
  const columns: { title: string; label: string; describe: string; identities: number; loadAverage: { before: number; after: number }; results: Results }[] = [];
  for (const { build, identities } of builds) {
    // The machine's 1-minute load average around each column: figures from a busy machine read as such.
    const loadBefore = loadavg()[0] as number;
    const results = await measure(build, options, identities, generator);
    const loadAverage = { before: loadBefore, after: loadavg()[0] as number };
    columns.push({ title: `${build.label} ${build.describe.split(' ')[0]} (N=${identities.toLocaleString('en')})`, label: build.label, describe: build.describe, identities, loadAverage, results });
  }

  const table = renderTable(columns);
  console.log(`\nbench:scale, ${startedAt}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; F = ${options.features.toLocaleString('en')} features, ${options.connections} connections`);
  console.log(`  load of scenarios 3 and 4: ${describeChoice(generator)}${generator.notes.length > 0 ? ` (${generator.notes.join('; ')})` : ''}`);
  for (const column of columns) {
    console.log(`  ${column.label}: ${column.describe}; load average ${column.loadAverage.before.toFixed(1)} at its start, ${column.loadAverage.after.toFixed(1)} at its end`);
  }
  console.log(`\n${table}\n`);
  await mkdir(join(root, 'tmp'), { recursive: true });
  const out = join(root, 'tmp', 'bench-scale.json');
  await writeFile(out, `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), cores: cpus().length, options, generator, columns, table: table.split('\n') }, null, 2)}\n`);
  console.log(`written to ${out}`);
}

if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  main().catch((error: unknown) => {
    killAll();
    console.error(error);
    process.exit(1);
  });
}
