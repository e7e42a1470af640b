/**
 * An observer of one evaluation: what the engine read and decided, reported from the serving code
 * path itself (segment matching, rule and condition verdicts, split and multivariate hashes), so an
 * explanation built from it cannot drift from what SDKs are answered. Passed to `evaluate` or
 * `evaluateFeatures`; when absent the engine pays one null check per segment, rule and condition.
 *
 * Calls nest: a segment's rules are matched between its `segmentStarted` and `segmentEnded`, and a
 * condition reading another flag (`$.flags.<name>…`) may match that flag's segments in between.
 */
import type { CompiledCondition } from './condition.compiler';
import type { ContextValue } from './context-value';
import type { CompiledSegment } from './environment.compiler';
import type { CompiledFeatureState, CompiledVariant } from './feature-state.compiler';
import type { CompiledRule } from './segment-rule.compiler';

export interface EvaluationTracer {
  /** The segment's rules are about to be matched. */
  segmentStarted(segment: CompiledSegment): void;
  /** The segment's verdict; `false` also when its evaluation cut a flag dependency cycle (`cutCycle`). */
  segmentEnded(segment: CompiledSegment, matched: boolean, cutCycle: boolean): void;
  /** The rule is about to be matched (its conditions, then its sub-rules). */
  ruleStarted(rule: CompiledRule): void;
  ruleEnded(rule: CompiledRule, matched: boolean): void;
  /** A PERCENTAGE_SPLIT condition hashed `[segment key, split key]` to `percentage` (reported before its verdict). */
  splitHashed(condition: CompiledCondition, splitKey: string, percentage: number): void;
  /** A condition's verdict, with the context value its property read (None for a blank property). */
  conditionEvaluated(condition: CompiledCondition, value: ContextValue, matched: boolean): void;
  /** Multivariate bucketing of a winning state: `hash%([state key, identity key])` and the variant whose bucket holds it (null: control). */
  variantChosen(state: CompiledFeatureState, identityKey: string, percentage: number, variant: CompiledVariant | null): void;
}
