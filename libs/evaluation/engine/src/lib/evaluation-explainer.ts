/**
 * Explained evaluation: an evaluation run through {@link evaluate} itself with a tracer attached,
 * and what the tracer saw arranged per flag: whether an identity override applied, every segment
 * overriding the feature (in priority order) with each rule and condition, the context value each
 * condition read and its verdict, which override won, and the multivariate bucket chosen. The
 * answers (enabled, value, variant, reason) are the very outcome objects SDKs are served.
 */
import type { CompiledCondition } from './condition.compiler';
import { ValueKind, type ContextValue } from './context-value';
import type { CompiledEnvironment, CompiledSegment } from './environment.compiler';
import { evaluate, type IdentityInput } from './evaluate';
import type { EvaluationTracer } from './evaluation-tracer';
import type { CompiledFeatureState, CompiledVariant, FlagOutcome } from './feature-state.compiler';
import { identityOverrideStates, type CompiledIdentityOverrides } from './identity-overrides.compiler';
import { RuleKind, type CompiledRule } from './segment-rule.compiler';

/** A context value as JSON, with the Python type the operators compared it as. */
export interface ExplainedValue {
  /** `null` for None; an int beyond 2^53 as its decimal text. */
  readonly value: string | number | boolean | null;
  readonly type: 'None' | 'str' | 'int' | 'float' | 'bool';
}

export interface ExplainedCondition {
  /** The operator as written; `null` when the condition is malformed. */
  readonly operator: string | null;
  /** The property read (a trait key or a `$.` path); `null` when blank (a split on the identity key). */
  readonly property: string | null;
  /** The condition's value as written. */
  readonly expected: unknown;
  /** Whether the engine evaluated it: ALL stops at the first false condition, ANY and NONE at the first true one. */
  readonly evaluated: boolean;
  /** The context value the property resolved to; `null` when not evaluated. */
  readonly read: ExplainedValue | null;
  /** The verdict; `null` when not evaluated. */
  readonly matched: boolean | null;
  /** For PERCENTAGE_SPLIT: `hash%([segment key, split key])` against the threshold (matches when not above it). */
  readonly split?: { readonly hashed: readonly [string, string]; readonly percentage: number; readonly threshold: number | null };
}

export interface ExplainedRule {
  /** `ALL`, `ANY`, `NONE`, or `INVALID` / `UNKNOWN` for a malformed rule. */
  readonly type: string;
  readonly evaluated: boolean;
  readonly matched: boolean | null;
  readonly conditions: readonly ExplainedCondition[];
  readonly rules: readonly ExplainedRule[];
}

export interface ExplainedSegment {
  /** The segment's key (its id as text). */
  readonly key: string;
  readonly name: string;
  /** The priority of its override of this feature: lower wins. */
  readonly priority: number | null;
  /** Whether its rules were matched in this evaluation (a segment without rules never is, and never matches). */
  readonly evaluated: boolean;
  readonly matched: boolean;
  /** Its evaluation cut a flag dependency cycle, so it does not match whatever its rules said. */
  readonly cutCycle?: true;
  /** Whether its override is the one served. */
  readonly won: boolean;
  readonly rules: readonly ExplainedRule[];
}

export interface ExplainedBucket {
  /** `hash%([feature state key, identity key])`, in [0, 100). */
  readonly percentage: number;
  readonly hashed: readonly [string, string];
  /** The variants in bucketing order, each with its range `[start, limit)`. */
  readonly buckets: ReadonlyArray<{
    readonly variant: string | null;
    readonly value: unknown;
    readonly weight: number;
    /** The variant's priority, its place in bucketing order (`null` when it has none). */
    readonly priority: number | null;
    readonly start: number;
    readonly limit: number;
    readonly chosen: boolean;
  }>;
  /** The result's variant: the chosen bucket's key, or `control` when no bucket holds the percentage. */
  readonly chosen: string | null;
}

export type ExplainedWinner =
  | { readonly kind: 'IDENTITY_OVERRIDE' }
  | { readonly kind: 'SEGMENT_OVERRIDE'; readonly segment: string; readonly name: string; readonly priority: number }
  | { readonly kind: 'ENVIRONMENT_DEFAULT' };

export interface FlagExplanation {
  readonly feature: string;
  readonly enabled: boolean;
  readonly value: unknown;
  readonly variant: string | null;
  readonly reason: string;
  readonly why: {
    /** Whether the identity holds an override of this feature (it then wins over every segment). */
    readonly identityOverride: boolean;
    /** Segments overriding the feature, in priority order (lowest first; context order on a tie). */
    readonly segments: readonly ExplainedSegment[];
    readonly winner: ExplainedWinner;
    /** Multivariate bucketing of the winning state; `null` when it has no variants or there is no identity. */
    readonly bucket: ExplainedBucket | null;
  };
}

export interface ExplainedEvaluation {
  /** The outcomes, as `evaluate` returns them (what SDKs are served). */
  readonly outcomes: readonly FlagOutcome[];
  /** One explanation per outcome, parallel to `outcomes`. */
  readonly flags: readonly FlagExplanation[];
}

interface Verdict {
  readonly serial: number;
  readonly matched: boolean;
}

/** Records what the engine reports, each rule and condition under the segment evaluation it belongs to. */
class TraceRecorder implements EvaluationTracer {
  private serials = 0;
  private readonly open: number[] = [];
  private pendingSplit: { condition: CompiledCondition; splitKey: string; percentage: number } | null = null;
  readonly segments = new Map<CompiledSegment, Verdict & { cutCycle: boolean }>();
  readonly rules = new Map<CompiledRule, Verdict>();
  readonly conditions = new Map<CompiledCondition, Verdict & { value: ContextValue; split?: { splitKey: string; percentage: number } }>();
  readonly buckets = new Map<CompiledFeatureState, { identityKey: string; percentage: number; variant: CompiledVariant | null }>();

  private get serial(): number {
    return this.open[this.open.length - 1] ?? 0;
  }

  segmentStarted(): void {
    this.serials += 1;
    this.open.push(this.serials);
  }

  segmentEnded(segment: CompiledSegment, matched: boolean, cutCycle: boolean): void {
    this.segments.set(segment, { serial: this.serial, matched, cutCycle });
    this.open.pop();
  }

  ruleStarted(): void {
    // A rule's verdict is recorded when it ends; its conditions and sub-rules report on their own.
  }

  ruleEnded(rule: CompiledRule, matched: boolean): void {
    this.rules.set(rule, { serial: this.serial, matched });
  }

  splitHashed(condition: CompiledCondition, splitKey: string, percentage: number): void {
    this.pendingSplit = { condition, splitKey, percentage };
  }

  conditionEvaluated(condition: CompiledCondition, value: ContextValue, matched: boolean): void {
    const split = this.pendingSplit?.condition === condition ? this.pendingSplit : null;
    this.pendingSplit = null;
    this.conditions.set(condition, {
      serial: this.serial,
      matched,
      value,
      ...(split === null ? {} : { split: { splitKey: split.splitKey, percentage: split.percentage } }),
    });
  }

  variantChosen(state: CompiledFeatureState, identityKey: string, percentage: number, variant: CompiledVariant | null): void {
    this.buckets.set(state, { identityKey, percentage, variant });
  }
}

const RULE_TYPES: Readonly<Record<RuleKind, string>> = {
  [RuleKind.All]: 'ALL',
  [RuleKind.Any]: 'ANY',
  [RuleKind.None]: 'NONE',
  [RuleKind.Invalid]: 'INVALID',
  [RuleKind.UnknownType]: 'UNKNOWN',
};

/** A context value as JSON with its Python type. */
export function explainedValue(value: ContextValue): ExplainedValue {
  switch (value.kind) {
    case ValueKind.None:
      return { value: null, type: 'None' };
    case ValueKind.Str:
      return { value: value.value, type: 'str' };
    case ValueKind.Int:
      return { value: typeof value.value === 'bigint' ? value.value.toString() : value.value, type: 'int' };
    case ValueKind.Float:
      return { value: value.value, type: 'float' };
    case ValueKind.Bool:
      return { value: value.value, type: 'bool' };
  }
}

function explainCondition(condition: CompiledCondition, recorder: TraceRecorder, serial: number, segmentKey: string): ExplainedCondition {
  const seen = recorder.conditions.get(condition);
  const current = seen !== undefined && seen.serial === serial ? seen : undefined;
  return {
    operator: typeof condition.operatorText === 'string' ? condition.operatorText : null,
    property: condition.property === null ? null : condition.property.text,
    expected: condition.value ?? null,
    evaluated: current !== undefined,
    read: current === undefined ? null : explainedValue(current.value),
    matched: current === undefined ? null : current.matched,
    ...(current?.split === undefined
      ? {}
      : { split: { hashed: [segmentKey, current.split.splitKey] as const, percentage: current.split.percentage, threshold: condition.splitThreshold ?? null } }),
  };
}

function explainRule(rule: CompiledRule, recorder: TraceRecorder, serial: number, segmentKey: string): ExplainedRule {
  const seen = recorder.rules.get(rule);
  const current = seen !== undefined && seen.serial === serial ? seen : undefined;
  return {
    type: RULE_TYPES[rule.kind],
    evaluated: current !== undefined,
    matched: current === undefined ? null : current.matched,
    conditions: rule.conditions.map((condition) => explainCondition(condition, recorder, serial, segmentKey)),
    rules: rule.rules.map((subRule) => explainRule(subRule, recorder, serial, segmentKey)),
  };
}

function explainBucket(state: CompiledFeatureState, recorder: TraceRecorder): ExplainedBucket | null {
  const bucket = recorder.buckets.get(state);
  if (bucket === undefined) return null;
  return {
    percentage: bucket.percentage,
    hashed: [state.keyText, bucket.identityKey],
    buckets: state.variants.map((variant) => ({
      variant: variant.key,
      value: variant.value,
      weight: variant.weight,
      priority: Number.isFinite(variant.priority) ? variant.priority : null,
      start: variant.start,
      limit: variant.limit,
      chosen: variant === bucket.variant,
    })),
    chosen: bucket.variant === null ? 'control' : bucket.variant.key,
  };
}

/**
 * Evaluates every feature, as `evaluate` does (the same code, with a tracer), and explains each
 * outcome.
 *
 * @param identity - as for `evaluate`; `null` for environment flags.
 * @param identityOverrides - the identity's overrides, from `compileIdentityOverrides`.
 */
export function explainEvaluation(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  identityOverrides?: CompiledIdentityOverrides,
): ExplainedEvaluation {
  const recorder = new TraceRecorder();
  const { flags: outcomes } = evaluate(environment, identity, identityOverrides, recorder);
  const identityStates = identity !== null && identityOverrides !== undefined ? identityOverrideStates(environment, identityOverrides) : undefined;
  const flags = outcomes.map((outcome): FlagExplanation => {
    const index = outcome.feature.index;
    const identityOverride = identityStates?.[index] !== undefined;
    // One entry per segment (a segment overriding the feature twice is listed once per override), with the override it holds.
    const held = new Map<CompiledSegment, CompiledFeatureState>();
    for (const { segment, state } of environment.overridesByFeature[index] ?? []) if (!held.has(segment)) held.set(segment, state);
    const winning = identityOverride ? undefined : [...held].find(([, state]) => state === outcome.source)?.[0];
    const winner: ExplainedWinner = identityOverride
      ? { kind: 'IDENTITY_OVERRIDE' }
      : winning !== undefined
        ? { kind: 'SEGMENT_OVERRIDE', segment: winning.keyText, name: winning.name, priority: outcome.source.priority }
        : { kind: 'ENVIRONMENT_DEFAULT' };
    const segments = [...held]
      .sort(([, a], [, b]) => (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0))
      .map(([segment, state]): ExplainedSegment => {
        const verdict = recorder.segments.get(segment);
        return {
          key: segment.keyText,
          name: segment.name,
          priority: Number.isFinite(state.priority) ? state.priority : null,
          evaluated: verdict !== undefined,
          matched: verdict?.matched === true,
          ...(verdict?.cutCycle === true ? { cutCycle: true as const } : {}),
          won: segment === winning,
          rules: segment.rules.map((rule) => explainRule(rule, recorder, verdict?.serial ?? -1, segment.keyText)),
        };
      });
    return {
      feature: outcome.feature.name,
      enabled: outcome.enabled,
      value: outcome.value,
      variant: outcome.variantKey,
      reason: outcome.reason,
      why: { identityOverride, segments, winner, bucket: outcome.source.variants.length > 0 ? explainBucket(outcome.source, recorder) : null },
    };
  });
  return { outcomes, flags };
}
