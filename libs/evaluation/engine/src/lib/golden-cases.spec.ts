import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';

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

  describe.each(files.map((file) => [relative(testDataDirectory, file), file]))('%s', (_name, file) => {
    it('when the context is evaluated then the result equals the expected result exactly', () => {
      const golden = readGoldenCase(readFileSync(file, 'utf8'));

      expect(getEvaluationResult(golden.context, golden.order)).toStrictEqual(golden.result);
    });
  });
});
