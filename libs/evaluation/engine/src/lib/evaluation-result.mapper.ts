import type { FeatureValueType } from './types/evaluation-context.types';
import type { EvaluationResult, FlagResult, SegmentResult } from './types/evaluation-result.types';
import type { Evaluation } from './evaluate';

/**
 * Maps an {@link Evaluation} to Flagsmith's evaluation result document: flags keyed by feature
 * name in feature order, each with `name`, `enabled`, `value`, `reason`, `variant` and, when the
 * winning feature state has non-empty metadata, `metadata`; matched segments as `{name, metadata?}`.
 * Metadata objects are shared with the compiled environment, not copied.
 */
export function toEvaluationResult(evaluation: Evaluation): EvaluationResult {
  const flags: Record<string, FlagResult> = {};
  for (const outcome of evaluation.flags) {
    const flag: FlagResult = {
      name: outcome.source.name,
      enabled: outcome.enabled,
      value: outcome.value as FeatureValueType,
      reason: outcome.reason,
      variant: outcome.variantKey,
    };
    if (outcome.source.metadata !== undefined) flag.metadata = outcome.source.metadata;
    // defineProperty keeps a feature named `__proto__` an ordinary key.
    Object.defineProperty(flags, outcome.feature.name, { value: flag, enumerable: true, writable: true, configurable: true });
  }
  const segments = evaluation.segments.map(
    (segment): SegmentResult => (segment.metadata === undefined ? { name: segment.name } : { name: segment.name, metadata: segment.metadata }),
  );
  return { flags, segments };
}
