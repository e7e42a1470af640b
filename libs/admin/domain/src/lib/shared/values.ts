import { FloatNumber } from '@flagline/python-compat';

/** A feature's value: Flagsmith stores strings, integers and booleans (or nothing). */
export type FeatureValue = string | number | boolean | null;

/**
 * A trait's value: any key-value data of an identity. A number written as a float with an
 * integral value (`5.0`) is a {@link FloatNumber}: Flagsmith keeps it a float, and segment
 * conditions treat it as one (`5.0 <= 5.5` holds, `str(18.0)` is not in `"18,21,30"`).
 */
export type TraitValue = string | number | boolean | FloatNumber;

export const MAX_FEATURE_VALUE_LENGTH = 20_000;
export const MAX_TRAIT_VALUE_LENGTH = 2_000;
export const MAX_NAME_LENGTH = 2_000;

/** Reason a value cannot be a feature value, or null when it can. */
export function featureValueProblem(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? null : 'must be a string, an integer or a boolean';
  if (typeof value === 'string') return value.length <= MAX_FEATURE_VALUE_LENGTH ? null : `must be at most ${MAX_FEATURE_VALUE_LENGTH} characters`;
  return 'must be a string, an integer or a boolean';
}

/** Reason a value cannot be a trait value (null is allowed: it removes the trait), or null when it can. */
export function traitValueProblem(value: unknown): string | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number' || value instanceof FloatNumber) return Number.isFinite(Number(value)) ? null : 'must be a finite number';
  if (typeof value === 'string') return value.length <= MAX_TRAIT_VALUE_LENGTH ? null : `must be at most ${MAX_TRAIT_VALUE_LENGTH} characters`;
  return 'must be a string, a number, a boolean or null';
}

/** A multivariate allocation of one option, in percent. */
export interface Allocation {
  readonly optionId: number;
  readonly percentage: number;
}

/** Reason a set of allocations is inconsistent, or null. Each is 0..100 and they sum to at most 100. */
export function allocationsProblem(allocations: readonly Allocation[]): string | null {
  const seen = new Set<number>();
  let sum = 0;
  for (const { optionId, percentage } of allocations) {
    if (seen.has(optionId)) return `option ${optionId} is allocated twice`;
    seen.add(optionId);
    if (!(percentage >= 0 && percentage <= 100)) return `allocation of option ${optionId} must be between 0 and 100`;
    sum += percentage;
  }
  // Allocations are percentages with up to a few decimals; compare with a tolerance for float sums.
  return sum > 100 + 1e-9 ? `allocations sum to ${Math.round(sum * 1e6) / 1e6}, more than 100` : null;
}
