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
  withChangedDefaults,
  DEFAULT_REASON,
  STATIC_REASON,
  type CompiledEnvironment,
  type CompiledSegment,
  type DefaultsChange,
  type EvaluationOrder,
  type SegmentOverride,
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
export { evaluate, evaluateFeatures, type Evaluation, type IdentityInput } from './lib/evaluate';
export { CIRCULAR_DEPENDENCY_REASON } from './lib/flag-dependencies';
export { toEvaluationResult } from './lib/evaluation-result.mapper';
export { getEvaluationResult } from './lib/get-evaluation-result';
export { hashedPercentageForIds, hashedPercentageForPair } from './lib/hashing';
export { readGoldenCase, type GoldenCase } from './lib/golden-case.reader';
export { withLegacyFallbackReasons, type LegacyFallbackReasons } from './lib/legacy-fallback-reason';
export { FloatNumber } from './lib/float-number';
export type { EvaluationTracer } from './lib/evaluation-tracer';
export {
  explainEvaluation,
  explainedValue,
  type ExplainedBucket,
  type ExplainedCondition,
  type ExplainedEvaluation,
  type ExplainedRule,
  type ExplainedSegment,
  type ExplainedValue,
  type ExplainedWinner,
  type FlagExplanation,
} from './lib/evaluation-explainer';
