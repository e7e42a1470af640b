/**
 * Differential test of our engine against Flagsmith's reference engine (`flagsmith-flag-engine`
 * 11.1.1 from PyPI, in `.venv/oracle`, run as one long-lived Python process). Usage:
 * `npm run conformance:oracle`.
 *
 * It replays the golden cases (`$FLAGSMITH_ENGINE_TEST_DATA`, else
 * `../shared/flagsmith-engine-test-data`; skipped when absent), the operator table (every
 * operator on every pairing of awkward trait and condition values), `ORACLE_REGEXES` (10,000)
 * random Python regular expressions and `ORACLE_CONTEXTS` (5,000) random contexts from `ORACLE_SEED` (a fixed default, so `npm test` is reproducible;
 * `ORACLE_SEED=random` draws one and prints it) through both engines and compares the
 * results exactly: flags (name, enabled, value and its type, reason, variant, metadata) and the
 * matched segments. Mismatches are printed up to `ORACLE_PRINT_LIMIT` (5), each with a minimised
 * context, plus one minimised example of every other kind of mismatch seen. The last line is
 * always `N passed, M failed`; the exit code is non-zero on any mismatch.
 *
 * When the reference engine cannot be installed (no Python, PyPI unreachable) the run is skipped
 * with the reason, except under `CI=true`, where that is a failure. `ORACLE_VENV` puts the
 * environment elsewhere than `.venv/oracle`.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { readGoldenCase, type GoldenCase } from '@flagline/evaluation-engine';
import { findCaseFiles } from '../case-files';
import { compareOutcomes, type Comparison, type Outcome } from './compare';
import { generateContext, type OracleCase } from './context-generator';
import { minimise } from './minimise';
import { ourIdentityOverridesOutcome, ourOneFlagOutcome, ourOutcome } from './our-engine';
import { operatorTable } from './operator-table';
import { tagFloats, toPythonJson } from './python-json';
import { Random } from './random';
import { isRejectedPattern, regexCase } from './regex-table';
import { ReferenceEngine } from './reference-engine';
import { ensureReferenceEnvironment, REFERENCE_ENGINE_PACKAGE } from './reference-venv';

const repositoryRoot = resolve(__dirname, '..', '..', '..');
const VENV_DIRECTORY = process.env['ORACLE_VENV'] ? resolve(process.env['ORACLE_VENV']) : resolve(repositoryRoot, '.venv', 'oracle');
const BATCH_SIZE = 200;
const DIFFERENCE_LINES_SHOWN = 12;

class UsageError extends Error {}

/** The seed of `npm test`'s run. */
const DEFAULT_SEED = 20261205;

function envInteger(name: string, fallback: number, minimum: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < minimum || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${name} must be an integer of at least ${minimum}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function outcomeText(outcome: Outcome): string {
  return 'error' in outcome ? `error: ${outcome.error}` : JSON.stringify(tagFloats(outcome.result));
}

/** Whether a condition of the context reads another flag, which only engine 11 can do. */
function readsFlags(oracleCase: OracleCase): boolean {
  return /"property":"\$(\.\.|\.flags|\[["']flags["']\])/.test(toPythonJson(oracleCase.context));
}

/** Seed of the `index`-th random context of a run, so one context can be regenerated alone. */
function contextSeed(seed: number, index: number): number {
  return (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

interface Mismatch {
  readonly label: string;
  readonly oracleCase: OracleCase;
  readonly comparison: Comparison;
}

/** The reference's outcome and ours, by our whole evaluation and by our serving paths. */
interface Outcomes {
  readonly reference: Outcome;
  readonly ours: Outcome;
  readonly oursOneFlag: Outcome;
  /** `undefined` when the context gives its identity no identity-override segment. */
  readonly oursIdentityOverrides: Outcome | undefined;
}

interface Tally {
  compared: number;
  mismatches: number;
}

class OracleRun {
  readonly categories = new Map<string, { count: number; first: Mismatch }>();
  readonly printed: Mismatch[] = [];
  bothFailed = 0;
  /** Regex table cases whose pattern Python rejected (ours must then not match). */
  rejectedPatterns = 0;
  /** Evaluations that also went through our identity-override serving path. */
  identityOverridesCompiled = 0;
  segmentsGiven = 0;
  segmentsMatched = 0;
  readonly referenceReasons = new Map<string, number>();

  constructor(
    private readonly engine: ReferenceEngine,
    private readonly printLimit: number,
  ) {}

  async outcomes(oracleCase: OracleCase): Promise<Outcomes> {
    const referenceAnswer = this.engine.evaluate(toPythonJson(oracleCase.context, oracleCase.order));
    const ours = ourOutcome(oracleCase);
    const oursOneFlag = ourOneFlagOutcome(oracleCase, ours);
    const oursIdentityOverrides = ourIdentityOverridesOutcome(oracleCase, ours);
    if (oursIdentityOverrides !== undefined) this.identityOverridesCompiled += 1;
    const reference = await referenceAnswer;
    if ('error' in reference && oracleCase.ifPatternRejected !== undefined && isRejectedPattern(reference.error)) {
      this.rejectedPatterns += 1;
      return { reference: { result: oracleCase.ifPatternRejected }, ours, oursOneFlag, oursIdentityOverrides };
    }
    return { reference, ours, oursOneFlag, oursIdentityOverrides };
  }

  /** Our whole evaluation and our one-flag path, each compared with the reference. */
  async comparison(oracleCase: OracleCase): Promise<Outcomes & { comparison: Comparison }> {
    const outcomes = await this.outcomes(oracleCase);
    const qualifier = readsFlags(oracleCase) ? ' [reads $.flags]' : '';
    const whole = compareOutcomes(outcomes.reference, outcomes.ours, qualifier);
    // The serving paths are reported where they depart from our whole evaluation; where they
    // agree, a difference from the reference is the whole evaluation's, already reported.
    const differences = [...whole.differences];
    const categories = [...whole.categories];
    const paths: Array<[string, Outcome | undefined]> = [
      ['one-flag evaluation', outcomes.oursOneFlag],
      ['identity overrides compiled', outcomes.oursIdentityOverrides],
    ];
    for (const [path, outcome] of paths) {
      if (outcome === undefined || compareOutcomes(outcomes.ours, outcome).differences.length === 0) continue;
      const departure = compareOutcomes(outcomes.reference, outcome, `${qualifier} [${path}]`);
      differences.push(...departure.differences.map((line) => `${path}: ${line}`));
      categories.push(...departure.categories);
    }
    return { ...outcomes, comparison: { differences, categories, bothFailed: whole.bothFailed } };
  }

  /** Compares a batch of cases (evaluated concurrently by the reference engine), counting into `tally`. */
  async compare(cases: ReadonlyArray<{ label: string; oracleCase: OracleCase }>, tally: Tally): Promise<void> {
    const results = await Promise.all(cases.map(async ({ label, oracleCase }) => ({ label, oracleCase, ...(await this.comparison(oracleCase)) })));
    for (const { label, oracleCase, reference, comparison } of results) {
      this.observe(oracleCase, reference);
      tally.compared += 1;
      if (comparison.bothFailed) this.bothFailed += 1;
      if (comparison.differences.length === 0) continue;
      tally.mismatches += 1;
      const mismatch = { label, oracleCase, comparison };
      if (this.printed.length < this.printLimit) this.printed.push(mismatch);
      for (const category of comparison.categories) {
        const entry = this.categories.get(category);
        if (entry) entry.count += 1;
        else this.categories.set(category, { count: 1, first: mismatch });
      }
    }
  }

  /** Coverage figures, read from the reference engine's results. */
  private observe(oracleCase: OracleCase, reference: Outcome): void {
    if ('error' in reference) return;
    const result = reference.result as { flags?: Record<string, { reason?: unknown }>; segments?: unknown[] };
    this.segmentsGiven += Object.keys(oracleCase.context.segments ?? {}).length;
    this.segmentsMatched += result.segments?.length ?? 0;
    for (const flag of Object.values(result.flags ?? {})) {
      const kind = typeof flag.reason === 'string' ? (flag.reason.split(/[;=]/)[0] ?? '') : String(flag.reason);
      this.referenceReasons.set(kind, (this.referenceReasons.get(kind) ?? 0) + 1);
    }
  }

  /** Prints a mismatch with its context minimised for `category` (its first one by default). */
  async report(mismatch: Mismatch, category = mismatch.comparison.categories[0]): Promise<void> {
    const stillFails = async (candidate: OracleCase): Promise<boolean> => {
      const { comparison } = await this.comparison(candidate);
      return comparison.differences.length > 0 && (category === undefined || comparison.categories.includes(category));
    };
    const small = await minimise(mismatch.oracleCase, stillFails);
    const { reference, ours, oursOneFlag, oursIdentityOverrides, comparison } = await this.comparison(small);
    const differences = comparison.differences;
    console.log(`MISMATCH ${mismatch.label} [${mismatch.comparison.categories.join('; ')}]${category ? `, minimised for: ${category}` : ''}`);
    console.log(`  context:   ${toPythonJson(small.context, small.order)}`);
    console.log(`  reference: ${outcomeText(reference)}`);
    console.log(`  ours:      ${outcomeText(ours)}`);
    if (outcomeText(oursOneFlag) !== outcomeText(ours)) console.log(`  ours, one flag at a time: ${outcomeText(oursOneFlag)}`);
    if (oursIdentityOverrides !== undefined && outcomeText(oursIdentityOverrides) !== outcomeText(ours)) {
      console.log(`  ours, identity overrides compiled: ${outcomeText(oursIdentityOverrides)}`);
    }
    console.log('  differences (expected = reference, got = ours):');
    for (const line of differences.slice(0, DIFFERENCE_LINES_SHOWN)) console.log(`    ${line}`);
    if (differences.length > DIFFERENCE_LINES_SHOWN) console.log(`    … ${differences.length - DIFFERENCE_LINES_SHOWN} more`);
  }
}

function goldenDirectory(): string {
  return process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');
}

async function replayGoldenCases(run: OracleRun): Promise<Tally> {
  const tally = { compared: 0, mismatches: 0 };
  const directory = goldenDirectory();
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    console.log(`golden cases: skipped, no test data at ${directory} (set FLAGSMITH_ENGINE_TEST_DATA)`);
    return tally;
  }
  const cases: Array<{ label: string; oracleCase: OracleCase }> = [];
  const notCases: string[] = [];
  for (const file of findCaseFiles(directory)) {
    let golden: GoldenCase;
    try {
      golden = readGoldenCase(readFileSync(file, 'utf8'));
    } catch {
      notCases.push(relative(directory, file));
      continue;
    }
    cases.push({ label: `golden ${relative(directory, file)}`, oracleCase: { context: golden.context, order: golden.order } });
  }
  await run.compare(cases, tally);
  const ignored = notCases.length > 0 ? ` (not cases, ignored: ${notCases.join(', ')})` : '';
  console.log(`golden cases from ${directory}: ${tally.compared} compared, ${tally.mismatches} mismatches${ignored}`);
  return tally;
}

async function compareOperatorTable(run: OracleRun): Promise<Tally> {
  const tally = { compared: 0, mismatches: 0 };
  let batch: Array<{ label: string; oracleCase: OracleCase }> = [];
  for (const entry of operatorTable()) {
    batch.push(entry);
    if (batch.length < BATCH_SIZE) continue;
    await run.compare(batch, tally);
    batch = [];
  }
  await run.compare(batch, tally);
  console.log(`operator table: ${tally.compared} compared, ${tally.mismatches} mismatches`);
  return tally;
}

async function compareRegexTable(run: OracleRun, seed: number, count: number): Promise<Tally> {
  const tally = { compared: 0, mismatches: 0 };
  const random = new Random(contextSeed(seed, -1));
  for (let start = 0; start < count; start += BATCH_SIZE) {
    const batch = [];
    for (let index = start; index < Math.min(count, start + BATCH_SIZE); index += 1) batch.push({ label: `regex #${index} (seed ${seed})`, oracleCase: regexCase(random) });
    await run.compare(batch, tally);
  }
  console.log(`regex table from seed ${seed}: ${tally.compared} compared (${run.rejectedPatterns} patterns Python rejects), ${tally.mismatches} mismatches`);
  return tally;
}

async function compareRandomContexts(run: OracleRun, seed: number, count: number): Promise<Tally> {
  const tally = { compared: 0, mismatches: 0 };
  for (let start = 0; start < count; start += BATCH_SIZE) {
    const batch = [];
    for (let index = start; index < Math.min(count, start + BATCH_SIZE); index += 1) {
      batch.push({ label: `random #${index} (seed ${seed})`, oracleCase: generateContext(new Random(contextSeed(seed, index))) });
    }
    await run.compare(batch, tally);
  }
  console.log(`random contexts from seed ${seed}: ${tally.compared} compared, ${tally.mismatches} mismatches`);
  return tally;
}

async function main(): Promise<number> {
  const inCi = /^(true|1)$/i.test(process.env['CI'] ?? '');
  const count = envInteger('ORACLE_CONTEXTS', 5000, 0);
  const printLimit = envInteger('ORACLE_PRINT_LIMIT', 5, 0);
  const regexCount = envInteger('ORACLE_REGEXES', 10000, 0);
  // A fixed default keeps `npm test` (and CI) reproducible; `ORACLE_SEED=random` explores new contexts.
  const seed = process.env['ORACLE_SEED'] === 'random' ? randomInt(2 ** 31) : envInteger('ORACLE_SEED', DEFAULT_SEED, 0) >>> 0;

  const environment = ensureReferenceEnvironment(VENV_DIRECTORY, { quickFailure: !inCi, log: (line) => console.log(line) });
  if ('unavailable' in environment) {
    if (inCi) {
      console.error(`conformance:oracle: the reference engine is required under CI=true: ${environment.unavailable}`);
      console.log('0 passed, 1 failed');
      return 1;
    }
    console.log(`conformance:oracle: skipped, the reference engine is unavailable: ${environment.unavailable}`);
    console.log('0 passed, 0 failed');
    return 0;
  }
  const engine = await ReferenceEngine.start(environment.python);
  try {
    console.log(`oracle: ${REFERENCE_ENGINE_PACKAGE} ${engine.version} on Python ${engine.pythonVersion} in ${relative(repositoryRoot, VENV_DIRECTORY)}; seed ${seed} (ORACLE_SEED=${seed} repeats this run)`);
    const run = new OracleRun(engine, printLimit);
    const started = Date.now();
    const golden = await replayGoldenCases(run);
    const table = await compareOperatorTable(run);
    const regexes = await compareRegexTable(run, seed, regexCount);
    const [givenBefore, matchedBefore] = [run.segmentsGiven, run.segmentsMatched];
    const random = await compareRandomContexts(run, seed, count);
    const [given, matched] = [run.segmentsGiven - givenBefore, run.segmentsMatched - matchedBefore];
    console.log(`segments of the random contexts matched (reference engine): ${matched} of ${given} (${given === 0 ? 0 : ((100 * matched) / given).toFixed(1)}%)`);
    const reasons = [...run.referenceReasons].sort(([, a], [, b]) => b - a).map(([reason, seen]) => `${reason} ${seen}`);
    console.log(`flag reasons (reference engine, all contexts): ${reasons.join(', ')}`);
    console.log(`also evaluated one flag at a time: every context; with identity overrides compiled apart: ${run.identityOverridesCompiled}`);
    if (run.bothFailed > 0) console.log(`contexts both engines rejected (not mismatches): ${run.bothFailed}`);
    console.log(`compared in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // The first mismatches, then one example of every kind of mismatch none of those showed.
    const shown = new Set<string>();
    const report = async (mismatch: Mismatch, category?: string): Promise<void> => {
      await run.report(mismatch, category);
      for (const seen of mismatch.comparison.categories) shown.add(seen);
    };
    for (const mismatch of run.printed) await report(mismatch);
    for (const [category, { first }] of run.categories) if (!shown.has(category)) await report(first, category);
    if (run.categories.size > 0) {
      console.log('mismatch kinds (a mismatch may have several):');
      for (const [category, { count: seen }] of [...run.categories].sort(([, a], [, b]) => b.count - a.count)) console.log(`  ${seen} × ${category}`);
    }

    const compared = golden.compared + table.compared + regexes.compared + random.compared;
    const mismatches = golden.mismatches + table.mismatches + regexes.mismatches + random.mismatches;
    console.log(`contexts compared: ${compared}, mismatches: ${mismatches}`);
    console.log(`${compared - mismatches} passed, ${mismatches} failed`);
    return mismatches > 0 ? 1 : 0;
  } finally {
    await engine.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`conformance:oracle: ${error instanceof Error ? error.message : String(error)}`);
    console.log('0 passed, 1 failed');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
