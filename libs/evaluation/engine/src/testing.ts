/**
 * Builders for evaluation contexts in specs. Only spec files import this entry.
 */
import type {
  EvaluationContext,
  FeatureContext,
  SegmentCondition,
  SegmentContext,
  SegmentRule,
  Traits,
} from './lib/types/evaluation-context.types';

/** An environment with no segments and no features. */
export function anEvaluationContext(overrides: Partial<EvaluationContext> = {}): EvaluationContext {
  return { environment: { key: 'env_key', name: 'Environment' }, segments: {}, features: {}, ...overrides };
}

/** A feature context named `name` with a plain value. */
export function aFeature(name: string, overrides: Partial<FeatureContext> = {}): FeatureContext {
  return { key: `${name}_key`, name, enabled: true, value: `${name}_value`, ...overrides };
}

/** A condition; the operator defaults to EQUAL. */
export function aCondition(overrides: Partial<SegmentCondition> = {}): SegmentCondition {
  return { property: 'trait', operator: 'EQUAL', value: '', ...overrides };
}

/** An ALL rule holding `conditions`. */
export function anAllRule(...conditions: SegmentCondition[]): SegmentRule {
  return { type: 'ALL', conditions };
}

/** A segment with one ALL rule holding `conditions`. */
export function aSegment(name: string, conditions: SegmentCondition[], overrides: Partial<SegmentContext> = {}): SegmentContext {
  return { key: `${name}_key`, name, rules: [anAllRule(...conditions)], ...overrides };
}

/** A context whose only segment holds one condition, for an identity with `traits`. */
export function aSingleConditionContext(condition: SegmentCondition, traits: Traits | null): EvaluationContext {
  return anEvaluationContext({
    identity: traits === null ? null : { identifier: 'user', key: 'user_key', traits },
    segments: { only: aSegment('only', [condition], { key: 'segment_key' }) },
  });
}
