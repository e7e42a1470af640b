import type { FeatureValueType, Metadata } from './evaluation-context.types';

/** The evaluated state of one feature. */
export interface FlagResult {
  name: string;
  enabled: boolean;
  value: FeatureValueType;
  /**
   * Why this value: `DEFAULT`, `TARGETING_MATCH; segment=<segment name>` (identity overrides
   * report the segment name `identity_overrides`) or `SPLIT; weight=<variant weight>`.
   */
  reason: string;
  /**
   * `null` without an identity or without variants; `"control"` when variants were evaluated and
   * none took the identity; otherwise the selected variant's key (`null` for an unkeyed variant).
   */
  variant: string | null;
  /** The winning feature state's metadata; absent when it has none or it is empty. */
  metadata?: Metadata;
}

/** A segment the evaluated context belongs to. */
export interface SegmentResult {
  name: string;
  /** The segment's metadata; absent when it has none or it is empty. */
  metadata?: Metadata;
}

/** Output of an evaluation, shaped like Flagsmith's evaluation result document. */
export interface EvaluationResult {
  /** Flag results keyed by feature name, in the context's feature order. */
  flags: Record<string, FlagResult>;
  /** Matched segments in context order. */
  segments: SegmentResult[];
}
