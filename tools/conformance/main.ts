/**
 * Conformance runner: evaluates every golden case (`{context, result}` JSON / JSONC files, as in
 * Flagsmith's engine test data) under a directory with the evaluation engine and compares the
 * result exactly. Usage: `npm run conformance -- [dir] [--list-fallback-reason]`. The default
 * directory is `$FLAGSMITH_ENGINE_TEST_DATA`, else `../shared/flagsmith-engine-test-data` next to
 * the repository; when that default is absent the run is skipped. The last line is always
 * `N passed, M failed`, and the exit code is non-zero when a case fails.
 *
 * The golden cases (engine-test-data v3.9.0) predate Flagsmith's engine 11, which reports the
 * environment default of a feature that no segment overrides as `STATIC` instead of `DEFAULT`.
 * The engine follows 11.1.1, so a case whose only differences are such reasons (`DEFAULT`
 * expected, `STATIC` produced, for a feature no segment of the context overrides) passes; how
 * many cases differ that way is printed apart from real failures (`--list-fallback-reason` names
 * them and their flags).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseTree } from 'jsonc-parser';
import { getEvaluationResult, readGoldenCase, withLegacyFallbackReasons } from '@flagline/evaluation-engine';
import { findCaseFiles } from './case-files';
import { deepDiff } from './deep-diff';

const repositoryRoot = resolve(__dirname, '..', '..');
const LIST_FLAG = '--list-fallback-reason';

function defaultDirectory(): string {
  return process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');
}

/** Files such as `schema.json` are not cases: they carry neither `context` nor `result`. */
function isCaseDocument(text: string): boolean {
  const tree = parseTree(text, [], { allowTrailingComma: true });
  const keys = tree?.type === 'object' ? (tree.children ?? []).map((property): unknown => property.children?.[0]?.value) : [];
  return keys.includes('context') || keys.includes('result');
}

/** Differences from the expected result, and the flags that differ only by the `STATIC` reason. */
interface CaseOutcome {
  readonly differences: string[];
  readonly staticReasonFlags: readonly string[];
}

function runCase(text: string): CaseOutcome {
  const golden = readGoldenCase(text);
  const actual = getEvaluationResult(golden.context, golden.order);
  const differences = deepDiff(golden.result, actual);
  if (differences.length === 0) return { differences, staticReasonFlags: [] };
  const legacy = withLegacyFallbackReasons(golden.context, actual);
  // Only the rewritten reasons may account for the differences: otherwise report the real ones.
  // When they do, every rewritten flag was one of the differences (expected DEFAULT, got STATIC).
  return deepDiff(golden.result, legacy.result).length === 0
    ? { differences: [], staticReasonFlags: legacy.rewritten }
    : { differences, staticReasonFlags: [] };
}

function main(): number {
  const args = process.argv.slice(2);
  const listFallbackReason = args.includes(LIST_FLAG);
  const requested = args.find((arg) => arg !== LIST_FLAG);
  const directory = requested === undefined ? defaultDirectory() : resolve(requested);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    if (requested !== undefined) {
      console.error(`conformance: ${directory} is not a directory`);
      return 2;
    }
    console.log(`conformance: skipped, no test data at ${directory} (set FLAGSMITH_ENGINE_TEST_DATA or pass a directory)`);
    console.log('0 passed, 0 failed');
    return 0;
  }
  let passed = 0;
  let failed = 0;
  const notCases: string[] = [];
  const fallbackReasonCases: string[] = [];
  for (const file of findCaseFiles(directory)) {
    const name = relative(directory, file);
    const text = readFileSync(file, 'utf8');
    if (!isCaseDocument(text)) {
      notCases.push(name);
      continue;
    }
    let outcome: CaseOutcome;
    try {
      outcome = runCase(text);
    } catch (error) {
      outcome = { differences: [`error: ${error instanceof Error ? error.message : String(error)}`], staticReasonFlags: [] };
    }
    if (outcome.differences.length === 0) {
      passed += 1;
      if (outcome.staticReasonFlags.length > 0) fallbackReasonCases.push(`${name} (${outcome.staticReasonFlags.join(', ')})`);
      continue;
    }
    failed += 1;
    console.log(`FAIL ${name}`);
    for (const line of outcome.differences) console.log(`  ${line}`);
  }
  if (notCases.length > 0) console.log(`not cases (no context/result), ignored: ${notCases.join(', ')}`);
  console.log(
    `${fallbackReasonCases.length} passing case(s) expect DEFAULT where engine 11.1.1 reports STATIC (a feature no segment overrides), and differ on nothing else` +
      (listFallbackReason ? '' : ` (${LIST_FLAG} lists them)`),
  );
  if (listFallbackReason) for (const line of fallbackReasonCases) console.log(`  STATIC ${line}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
