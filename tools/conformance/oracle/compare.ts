/**
 * Exact comparison of the two engines' outcomes for one context, and a coarse category for each
 * kind of difference (so that a run reports what kinds of mismatch it saw and how often).
 */
import { deepDiff } from '../deep-diff';
import { tagFloats } from './python-json';

/** An engine's outcome for one context: its result, or the error it raised. */
export type Outcome = { readonly result: unknown } | { readonly error: string };

export interface Comparison {
  /** Readable differences (`expected` is the reference engine, `got` ours); empty when equal. */
  readonly differences: string[];
  /** The kinds of difference, e.g. `reason STATIC vs DEFAULT`, `segments`. */
  readonly categories: string[];
  /** Both engines rejected the context: no difference between engines, but nothing compared. */
  readonly bothFailed: boolean;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A reason without the part that names a segment or a weight. */
function reasonKind(reason: unknown): string {
  return typeof reason === 'string' ? reason.replace(/(segment=|weight=).*$/s, '$1…') : JSON.stringify(reason) ?? 'absent';
}

function flagCategories(reference: Record<string, unknown>, ours: Record<string, unknown>): string[] {
  const categories: string[] = [];
  for (const field of new Set([...Object.keys(reference), ...Object.keys(ours)])) {
    if (deepDiff(reference[field], ours[field]).length === 0) continue;
    if (field !== 'reason') {
      categories.push(`flag ${field}`);
      continue;
    }
    const referenceKind = reasonKind(reference[field]);
    const ourKind = reasonKind(ours[field]);
    categories.push(referenceKind === ourKind ? `reason ${referenceKind} (other segment or weight)` : `reason ${referenceKind} vs ${ourKind}`);
  }
  return categories;
}

function resultCategories(reference: unknown, ours: unknown): string[] {
  const categories = new Set<string>();
  const referenceFlags = record(record(reference)['flags']);
  const ourFlags = record(record(ours)['flags']);
  for (const name of new Set([...Object.keys(referenceFlags), ...Object.keys(ourFlags)])) {
    if (!(name in ourFlags)) categories.add('flag missing from ours');
    else if (!(name in referenceFlags)) categories.add('flag only in ours');
    else for (const category of flagCategories(record(referenceFlags[name]), record(ourFlags[name]))) categories.add(category);
  }
  if (deepDiff(record(reference)['segments'], record(ours)['segments']).length > 0) categories.add('segments');
  const rest = Object.keys({ ...record(reference), ...record(ours) }).filter((key) => key !== 'flags' && key !== 'segments');
  if (rest.some((key) => deepDiff(record(reference)[key], record(ours)[key]).length > 0)) categories.add('result shape');
  return [...categories].sort();
}

/**
 * Compares the reference engine's outcome with ours; our result is tagged like the reference's.
 * `qualifier` is appended to every category (e.g. to tell contexts with flag dependencies apart).
 */
export function compareOutcomes(reference: Outcome, ours: Outcome, qualifier = ''): Comparison {
  const comparison = compareUnqualified(reference, ours);
  return qualifier === '' ? comparison : { ...comparison, categories: comparison.categories.map((category) => `${category}${qualifier}`) };
}

function compareUnqualified(reference: Outcome, ours: Outcome): Comparison {
  if ('error' in reference && 'error' in ours) return { differences: [], categories: [], bothFailed: true };
  if ('error' in reference) {
    return { differences: [`the reference engine raised ${reference.error}`], categories: [`reference raised ${reference.error.split(':')[0]}`], bothFailed: false };
  }
  if ('error' in ours) return { differences: [`our engine threw ${ours.error}`], categories: ['our engine threw'], bothFailed: false };
  const tagged = tagFloats(ours.result);
  const differences = deepDiff(reference.result, tagged);
  return { differences, categories: differences.length === 0 ? [] : resultCategories(reference.result, tagged), bothFailed: false };
}
