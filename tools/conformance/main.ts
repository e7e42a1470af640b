/**
 * Conformance runner: evaluates every golden case (`{context, result}` JSON / JSONC files, as in
 * Flagsmith's engine test data) under a directory with the evaluation engine and compares the
 * result exactly. Usage: `npm run conformance -- [dir]`. The default directory is
 * `$FLAGSMITH_ENGINE_TEST_DATA`, else `../shared/flagsmith-engine-test-data` next to the repository;
 * when that default is absent the run is skipped. The last line is always `N passed, M failed`,
 * and the exit code is non-zero when a case fails.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseTree } from 'jsonc-parser';
import { getEvaluationResult, readGoldenCase } from '@flagline/evaluation-engine';
import { findCaseFiles } from './case-files';
import { deepDiff } from './deep-diff';

const repositoryRoot = resolve(__dirname, '..', '..');

function defaultDirectory(): string {
  return process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');
}

/** Files such as `schema.json` are not cases: they carry neither `context` nor `result`. */
function isCaseDocument(text: string): boolean {
  const tree = parseTree(text, [], { allowTrailingComma: true });
  const keys = tree?.type === 'object' ? (tree.children ?? []).map((property): unknown => property.children?.[0]?.value) : [];
  return keys.includes('context') || keys.includes('result');
}

function runCase(text: string): string[] {
  const golden = readGoldenCase(text);
  return deepDiff(golden.result, getEvaluationResult(golden.context, golden.order));
}

function main(): number {
  const requested = process.argv[2];
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
  for (const file of findCaseFiles(directory)) {
    const name = relative(directory, file);
    const text = readFileSync(file, 'utf8');
    if (!isCaseDocument(text)) {
      notCases.push(name);
      continue;
    }
    let differences: string[];
    try {
      differences = runCase(text);
    } catch (error) {
      differences = [`error: ${error instanceof Error ? error.message : String(error)}`];
    }
    if (differences.length === 0) {
      passed += 1;
      continue;
    }
    failed += 1;
    console.log(`FAIL ${name}`);
    for (const line of differences) console.log(`  ${line}`);
  }
  if (notCases.length > 0) console.log(`not cases (no context/result), ignored: ${notCases.join(', ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
