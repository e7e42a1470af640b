/**
 * Input of an evaluation: Flagsmith's evaluation context document. Field names and meanings follow
 * Flagsmith's reference semantics, so contexts produced for Flagsmith SDKs evaluate identically.
 */

import type { FloatNumber } from '../float-number';

/**
 * A trait value as identities carry it. `null` in a trait map means "trait not set". An integral
 * number that must count as a float (written `2.0`) is passed as a {@link FloatNumber}; an integer
 * beyond 2^53 may be passed as a bigint to keep it exact.
 */
export type TraitValue = string | number | boolean | bigint | FloatNumber;

/** Traits of an identity, by trait key. */
export type Traits = Record<string, TraitValue | null>;

/** A feature (or variant) value as Flagsmith stores it. */
export type FeatureValueType = string | number | boolean | null;

/** Free-form metadata attached to a feature or a segment; copied to the result when non-empty. */
export type Metadata = Record<string, unknown>;

/** The environment being evaluated. */
export interface EnvironmentContext {
  /** Environment key (the client-side API key); prefix of the implicit identity key. */
  key: string;
  /** Human-readable name, reachable from rules as `$.environment.name`. */
  name: string;
}

/** The identity flags are evaluated for. */
export interface IdentityContext {
  /** Identifier as shown in the Flagsmith UI (`$.identity.identifier`). */
  identifier: string;
  /**
   * Hashing key for % splits and multivariate bucketing. When missing or empty the engine uses
   * `<environment.key>_<identifier>` (the composite key).
   */
  key?: string;
  /** Trait values by trait key. */
  traits?: Traits;
}

/** Segment condition operators. Any other operator never matches. */
export type ConditionOperator =
  | 'EQUAL'
  | 'NOT_EQUAL'
  | 'GREATER_THAN'
  | 'GREATER_THAN_INCLUSIVE'
  | 'LESS_THAN'
  | 'LESS_THAN_INCLUSIVE'
  | 'CONTAINS'
  | 'NOT_CONTAINS'
  | 'REGEX'
  | 'PERCENTAGE_SPLIT'
  | 'MODULO'
  | 'IS_SET'
  | 'IS_NOT_SET'
  | 'IN';

/** How a rule combines its conditions and (separately) its sub-rules. */
export type RuleType = 'ALL' | 'ANY' | 'NONE';

/** One condition of a segment rule. */
export interface SegmentCondition {
  /**
   * Trait key, or a JSONPath into the context when it starts with `$.` (a trait literally named
   * like the path wins). Blank for a PERCENTAGE_SPLIT on the identity key.
   */
  property: string;
  operator: ConditionOperator;
  /** Operand, always a string except for IN, which may also carry a list of strings. */
  value: string | string[] | null;
}

/** A segment rule: conditions and sub-rules, each group combined with the rule's `type`. */
export interface SegmentRule {
  type: RuleType;
  conditions?: SegmentCondition[];
  rules?: SegmentRule[];
}

/** A multivariate option of a feature (or of an override). */
export interface FeatureValue {
  /** Stable variant key, reported as the result's `variant`; absent for unkeyed variants. */
  key?: string;
  value: FeatureValueType;
  /** Share of identities, in percent (a {@link FloatNumber} when written as a float, e.g. `50.0`). */
  weight: number | FloatNumber;
  /** Order in which variants take their share; lower first. */
  priority: number;
}

/** A feature's state: the environment default, a segment override or an identity override. */
export interface FeatureContext {
  /** Hashing key for multivariate bucketing (the feature state's id or uuid). */
  key: string;
  /** Feature name; features and overrides are matched by name. */
  name: string;
  enabled: boolean;
  /** The value, or the control value of a multivariate feature. */
  value: FeatureValueType;
  variants?: FeatureValue[];
  /** Override priority, lower wins; absent means weakest. Ignored for environment defaults. */
  priority?: number;
  metadata?: Metadata;
}

/** A segment: membership rules and the overrides it applies to its members. */
export interface SegmentContext {
  /** Hashing key for PERCENTAGE_SPLIT conditions (the segment id). */
  key: string;
  name: string;
  /** Every top-level rule must match; a segment without rules matches nobody. */
  rules: SegmentRule[];
  overrides?: FeatureContext[];
  metadata?: Metadata;
}

/** The whole evaluation input. */
export interface EvaluationContext {
  environment: EnvironmentContext;
  identity?: IdentityContext | null;
  /** Segments by key, evaluated in document order. */
  segments?: Record<string, SegmentContext>;
  /** Environment defaults, keyed by feature name, in result order. */
  features?: Record<string, FeatureContext>;
}
