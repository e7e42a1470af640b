import { dirname, join } from 'node:path';

/** The pieces of the flagsmith-nodejs SDK's bundled engine the benchmark drives directly. */
export interface SdkEngine {
  buildEnvironmentModel(document: unknown): unknown;
  identityContext(environment: unknown, identifier: string, traits: Record<string, string | number>): unknown;
  getEvaluationResult(context: unknown): unknown;
}

type Module = Record<string, unknown>;

function load(path: string): Module {
  // The package exports only its root; its engine modules are loaded by file path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as Module;
}

export function loadSdkEngine(): SdkEngine {
  const root = dirname(require.resolve('flagsmith-nodejs'));
  const engine = load(join(root, 'flagsmith-engine', 'index.js'));
  const mappers = load(join(root, 'flagsmith-engine', 'evaluation', 'evaluationContext', 'mappers.js'));
  const util = load(join(root, 'flagsmith-engine', 'environments', 'util.js'));
  const identities = load(join(root, 'flagsmith-engine', 'identities', 'models.js'));
  const traits = load(join(root, 'flagsmith-engine', 'identities', 'traits', 'models.js'));
  const collections = load(join(root, 'flagsmith-engine', 'utils', 'collections.js'));
  type Ctor = new (...args: unknown[]) => unknown;
  const IdentityModel = identities['IdentityModel'] as Ctor;
  const TraitModel = traits['TraitModel'] as Ctor;
  const IdentityFeaturesList = collections['IdentityFeaturesList'] as Ctor;
  const getEvaluationContext = mappers['getEvaluationContext'] as (environment: unknown, identity?: unknown) => unknown;
  return {
    buildEnvironmentModel: util['buildEnvironmentModel'] as (document: unknown) => unknown,
    getEvaluationResult: engine['getEvaluationResult'] as (context: unknown) => unknown,
    identityContext(environment, identifier, traitValues) {
      const apiKey = (environment as { apiKey: string }).apiKey;
      const identity = new IdentityModel(
        new Date().toISOString(),
        Object.entries(traitValues).map(([key, value]) => new TraitModel(key, value)),
        new IdentityFeaturesList(),
        apiKey,
        identifier,
      );
      return getEvaluationContext(environment, identity);
    },
  };
}
