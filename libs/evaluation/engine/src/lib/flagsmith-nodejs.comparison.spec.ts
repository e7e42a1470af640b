import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'jsonc-parser';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';
import { isRecord } from './json-shape';
import { withLegacyFallbackReasons } from './legacy-fallback-reason';

/**
 * Cross-check with the engine bundled in the flagsmith-nodejs SDK on the golden cases, where the
 * two agree apart from `variant` (which that engine does not report) and the fallback reason: that
 * engine predates Flagsmith's engine 11 and reports every environment default as `DEFAULT`, where
 * ours, like 11.1.1, reports `STATIC` for a feature no segment overrides. Our results are compared
 * with that reason read the older way (`withLegacyFallbackReasons`), nothing else relaxed. The SDK
 * is a dev dependency used only here.
 */
const repositoryRoot = resolve(__dirname, '..', '..', '..', '..', '..');
const testDataDirectory =
  process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');

type SdkEngine = (context: unknown) => unknown;

function loadSdkEngine(): SdkEngine | string {
  try {
    // The SDK does not export its engine from the package root, so it is loaded by file path.
    const root = dirname(require.resolve('flagsmith-nodejs'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const engine: unknown = require(join(root, 'flagsmith-engine', 'index.js'));
    const evaluateContext = isRecord(engine) ? engine['getEvaluationResult'] : undefined;
    return typeof evaluateContext === 'function' ? (context) => (evaluateContext as SdkEngine)(context) : 'no getEvaluationResult export';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function withoutVariants(result: unknown): unknown {
  if (!isRecord(result) || !isRecord(result['flags'])) return result;
  const flags = Object.fromEntries(
    Object.entries(result['flags']).map(([name, flag]) => {
      if (!isRecord(flag)) return [name, flag];
      const { variant: _variant, ...rest } = flag;
      return [name, rest];
    }),
  );
  return { ...result, flags };
}

function caseFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return caseFiles(path);
    return /\.jsonc?$/.test(entry.name) && entry.name !== 'schema.json' ? [path] : [];
  });
}

describe('agreement with the flagsmith-nodejs engine (variant ignored)', () => {
  const sdkEngine = loadSdkEngine();
  if (typeof sdkEngine === 'string' || !existsSync(testDataDirectory)) {
    it('cannot run: SDK engine or test data unavailable', () => {
      console.warn(`comparison not run: ${typeof sdkEngine === 'string' ? sdkEngine : `${testDataDirectory} does not exist`}`);
    });
    return;
  }

  it.each(caseFiles(testDataDirectory).map((file) => [file.slice(testDataDirectory.length + 1), file]))(
    'given %s when both engines evaluate it then the results agree',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const plain: unknown = parse(text);
      const sdkContext = isRecord(plain) ? plain['context'] : undefined;
      const golden = readGoldenCase(text);

      const ours = withLegacyFallbackReasons(golden.context, getEvaluationResult(golden.context, golden.order)).result;

      expect(withoutVariants(ours)).toStrictEqual(withoutVariants(sdkEngine(sdkContext)));
    },
  );
});
