export type {
  ConditionOperator,
  EnvironmentContext,
  EvaluationContext,
  FeatureContext,
  FeatureValue,
  FeatureValueType,
  IdentityContext,
  Metadata,
  RuleType,
  SegmentCondition,
  SegmentContext,
  SegmentRule,
  Traits,
  TraitValue,
} from './lib/types/evaluation-context.types';
export type { EvaluationResult, FlagResult, SegmentResult } from './lib/types/evaluation-result.types';
export {
  compileEnvironment,
  DEFAULT_REASON,
  type CompiledEnvironment,
  type CompiledSegment,
  type EvaluationOrder,
} from './lib/environment.compiler';
export {
  CompiledFeatureState,
  type CompiledFeature,
  type CompiledVariant,
  type FlagOutcome,
} from './lib/feature-state.compiler';
export {
  compileIdentityOverrides,
  IDENTITY_OVERRIDES_SEGMENT_NAME,
  type CompiledIdentityOverrides,
} from './lib/identity-overrides.compiler';
export { evaluate, type Evaluation, type IdentityInput } from './lib/evaluate';
export { toEvaluationResult } from './lib/evaluation-result.mapper';
export { getEvaluationResult } from './lib/get-evaluation-result';
export { hashedPercentageForIds, hashedPercentageForPair } from './lib/hashing';
export { readGoldenCase, type GoldenCase } from './lib/golden-case.reader';
export { FloatNumber } from './lib/float-number';
