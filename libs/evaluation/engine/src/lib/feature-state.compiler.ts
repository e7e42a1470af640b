/**
 * Feature states (environment defaults, segment overrides, identity overrides) compiled with their
 * variants in bucketing order and every possible outcome prebuilt. An evaluation then only picks
 * outcome objects, which stay the same objects for the life of the compiled environment (or
 * compiled identity overrides), so callers can cache anything derived from them.
 */
import type { EvaluationTracer } from './evaluation-tracer';
import type { Metadata } from './types/evaluation-context.types';
import { explicitFloat } from './float-number';
import { hashedPercentageForPair } from './hashing';
import { isPyTruthy, isRecord } from './json-shape';
import { pyNumberToString, pyStr } from './python/python-string';

/** A feature of the compiled environment. Stable per compile. */
export interface CompiledFeature {
  /** Feature name, the key of the flag in results. */
  readonly name: string;
  /** Position in the environment's feature order. */
  readonly index: number;
}

/** A multivariate option, with its bucket `[start, limit)` in percent. */
export interface CompiledVariant {
  /** The result's `variant` when this option is selected (`null` for an unkeyed option). */
  readonly key: string | null;
  readonly value: unknown;
  readonly weight: number;
  /** The weight as the reason prints it (`30`, `54.54`, `30.0` for a float). */
  readonly weightText: string;
  readonly priority: number;
  readonly start: number;
  readonly limit: number;
}

/** One possible flag outcome. Prebuilt and frozen; see {@link CompiledFeatureState}. */
export interface FlagOutcome {
  readonly feature: CompiledFeature;
  /** The winning feature state. */
  readonly source: CompiledFeatureState;
  /** The selected variant, or `null` when the state's own value is served. */
  readonly variant: CompiledVariant | null;
  /** The result's `variant`: `null`, `"control"` or the variant's key. */
  readonly variantKey: string | null;
  readonly enabled: boolean;
  readonly value: unknown;
  readonly reason: string;
}

/** A compiled feature state (a FeatureContext). */
export class CompiledFeatureState {
  /** Feature name as written in the feature state. */
  readonly name: string;
  /** Python `str()` of the state's key, hashed with the identity key for multivariate bucketing. */
  readonly keyText: string;
  readonly enabled: boolean;
  readonly value: unknown;
  /** Metadata to report, `undefined` when absent or empty. */
  readonly metadata: Metadata | undefined;
  /** Variants in bucketing order (by priority, stable). */
  readonly variants: readonly CompiledVariant[];
  /** Outcome without an identity key or without variants. */
  readonly plainOutcome: FlagOutcome;
  /** Outcome when variants were evaluated and none took the identity. */
  readonly controlOutcome: FlagOutcome;
  /** Outcome per variant, parallel to `variants`. */
  readonly variantOutcomes: readonly FlagOutcome[];

  /**
   * @param raw - the FeatureContext.
   * @param reason - `DEFAULT`, or `TARGETING_MATCH; segment=<name>` for an override.
   * @param priority - override priority, lower wins (`+Infinity` when absent; identity overrides
   *   use `-Infinity`).
   */
  constructor(
    /** The FeatureContext compiled; a later compile given this same object may reuse this state. */
    readonly raw: Readonly<Record<string, unknown>>,
    readonly feature: CompiledFeature,
    readonly reason: string,
    readonly priority: number,
  ) {
    const metadata = raw['metadata'];
    this.name = typeof raw['name'] === 'string' ? raw['name'] : feature.name;
    this.keyText = pyStr(raw['key'] ?? null);
    this.enabled = raw['enabled'] === true;
    this.value = raw['value'] ?? null;
    this.metadata = isPyTruthy(metadata) && isRecord(metadata) ? metadata : undefined;
    this.variants = compileVariants(raw['variants']);
    this.plainOutcome = this.outcome(null, null);
    this.controlOutcome = this.outcome(null, 'control');
    this.variantOutcomes = this.variants.map((variant) => this.outcome(variant, variant.key));
    Object.freeze(this);
  }

  private outcome(variant: CompiledVariant | null, variantKey: string | null): FlagOutcome {
    return Object.freeze({
      feature: this.feature,
      source: this,
      variant,
      variantKey,
      enabled: this.enabled,
      value: variant === null ? this.value : variant.value,
      reason: variant === null ? this.reason : `SPLIT; weight=${variant.weightText}`,
    });
  }
}

/** A number read from the context (plain or {@link FloatNumber}); anything else counts as `fallback`. */
export function numberOr(value: unknown, fallback: number): number {
  const number = typeof value === 'number' ? value : explicitFloat(value);
  return number === undefined || Number.isNaN(number) ? fallback : number;
}

function weightText(weight: unknown): string {
  if (typeof weight === 'number') return pyNumberToString(weight);
  return pyStr(weight ?? null);
}

function compileVariants(raw: unknown): CompiledVariant[] {
  if (!Array.isArray(raw)) return [];
  const options = raw.filter(isRecord).map((variant) => ({
    key: typeof variant['key'] === 'string' ? variant['key'] : null,
    value: variant['value'] ?? null,
    weight: numberOr(variant['weight'], 0),
    weightText: weightText(variant['weight']),
    priority: numberOr(variant['priority'], Infinity),
  }));
  options.sort((a, b) => (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0));
  let start = 0;
  return options.map((option) => {
    // Same float additions, in the same order, as the reference walk, so bucket edges agree.
    const limit = option.weight + start;
    const variant: CompiledVariant = Object.freeze({ ...option, start, limit });
    start = limit;
    return variant;
  });
}

/**
 * The outcome of a winning feature state for an identity key: its own value without a key or
 * without variants, else the variant whose bucket holds `hash%([state key, identity key])`, or the
 * control value (variant `"control"`) when none does.
 */
export function outcomeFor(state: CompiledFeatureState, identityKey: string | null, tracer: EvaluationTracer | null = null): FlagOutcome {
  const variants = state.variants;
  if (identityKey === null || variants.length === 0) return state.plainOutcome;
  const percentage = hashedPercentageForPair(state.keyText, identityKey);
  for (let index = 0; index < variants.length; index += 1) {
    const variant = variants[index];
    if (variant !== undefined && variant.start <= percentage && percentage < variant.limit) {
      if (tracer !== null) tracer.variantChosen(state, identityKey, percentage, variant);
      return state.variantOutcomes[index] ?? state.controlOutcome;
    }
  }
  if (tracer !== null) tracer.variantChosen(state, identityKey, percentage, null);
  return state.controlOutcome;
}
