import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileEnvironment } from './environment.compiler';
import { evaluate, evaluateFeatures, type IdentityInput } from './evaluate';
import { toEvaluationResult } from './evaluation-result.mapper';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';

/**
 * Cases for what Flagsmith's engine 11.1.1 added after the golden test data (flag dependencies,
 * cycles, STATIC/DEFAULT, ties in context order). Every expected result in `reference-cases/` was
 * computed by the Python reference engine itself (flagsmith-flag-engine 11.1.1), by
 * `tools/conformance/reference-cases.py`; each file's leading comment says what it shows.
 */
const directory = join(__dirname, 'reference-cases');
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.jsonc'))
  .sort();

describe('reference cases (results from flagsmith-flag-engine 11.1.1)', () => {
  it('given the reference cases directory when listed then it holds the cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(18);
  });

  describe.each(files)('%s', (file) => {
    const golden = readGoldenCase(readFileSync(join(directory, file), 'utf8'));

    it('when the context is evaluated then the result equals the reference result exactly', () => {
      expect(getEvaluationResult(golden.context, golden.order)).toStrictEqual(golden.result);
    });

    it('when each feature is evaluated on its own then it gets the result of the whole evaluation', () => {
      const { identity, ...environment } = golden.context;
      const compiled = compileEnvironment(environment, golden.order);
      const input: IdentityInput | null = identity ?? null;
      const whole = toEvaluationResult(evaluate(compiled, input)).flags;

      for (const name of Object.keys(golden.result.flags)) {
        const [outcome] = evaluateFeatures(compiled, input, [name]);
        const single = outcome === undefined ? undefined : toEvaluationResult({ flags: [outcome], segments: [] }).flags[name];

        expect(single).toStrictEqual(whole[name]);
      }
    });
  });
});
