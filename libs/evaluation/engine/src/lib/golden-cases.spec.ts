import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';
import { withLegacyFallbackReasons } from './legacy-fallback-reason';

const repositoryRoot = resolve(__dirname, '..', '..', '..', '..', '..');
const testDataDirectory =
  process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');

function caseFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return caseFiles(path);
      return /\.jsonc?$/.test(entry.name) && entry.name !== 'schema.json' ? [path] : [];
    });
}

describe('golden cases (Flagsmith engine test data)', () => {
  if (!existsSync(testDataDirectory)) {
    it('cannot run: no test data directory', () => {
      console.warn(`golden cases not run: ${testDataDirectory} does not exist (set FLAGSMITH_ENGINE_TEST_DATA)`);
    });
    return;
  }
  const files = caseFiles(testDataDirectory);

  it('given the test data directory when listed then it holds cases', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  // The cases (engine-test-data v3.9.0) predate Flagsmith's engine 11, which reports the default
  // of a feature no segment overrides as STATIC where they expect DEFAULT. The engine follows
  // 11.1.1, so that reason, and nothing else, is read the older way before comparing.
  const evaluateCase = (file: string) => {
    const golden = readGoldenCase(readFileSync(file, 'utf8'));
    return { golden, legacy: withLegacyFallbackReasons(golden.context, getEvaluationResult(golden.context, golden.order)) };
  };

  describe.each(files.map((file) => [relative(testDataDirectory, file), file]))('%s', (_name, file) => {
    it('when the context is evaluated then the result equals the expected result exactly, STATIC read as DEFAULT', () => {
      const { golden, legacy } = evaluateCase(file);

      expect(legacy.result).toStrictEqual(golden.result);
    });
  });

  it('given every case evaluated when counting those with a STATIC reason then they are the 73 where engine 11.1.1 differs from the expected results', () => {
    // Measured by running flagsmith-flag-engine 11.1.1 on the 149 cases: 73 differ from their
    // expected result, each on the fallback reason alone (and our results equal 11.1.1's on all 149).
    const staticReasonCases = files.filter((file) => evaluateCase(file).legacy.rewritten.length > 0);

    expect(staticReasonCases).toHaveLength(73);
  });
});
