import type { Feature } from './project.state';

type Features = ReadonlyMap<number, Feature>;

/**
 * Lower-cased feature names to the ids of features that bore them, shared by every features map
 * of one lineage (each map folded from the one before it). An index only ever grows, so it holds
 * every name of every map that shares it, and more: a name is taken in a map when one of its ids
 * is, in that map, a feature still bearing it. Checking a name then costs a lookup, not a scan
 * of every feature (and the scan a persistent map's iteration makes slower).
 */
type NameIndex = Map<string, Set<number>>;

const indexes = new WeakMap<Features, NameIndex>();

function indexOf(features: Features): NameIndex {
  let index = indexes.get(features);
  if (index === undefined) {
    index = new Map();
    for (const feature of features.values()) addName(index, feature.name, feature.featureId);
    indexes.set(features, index);
  }
  return index;
}

function addName(index: NameIndex, name: string, featureId: number): void {
  const key = name.toLowerCase();
  const ids = index.get(key);
  if (ids) ids.add(featureId);
  else index.set(key, new Set([featureId]));
}

/** The id of a feature of `features` named `name`, compared case-insensitively, other than `exceptFeatureId`. */
export function featureIdNamed(features: Features, name: string, exceptFeatureId?: number): number | undefined {
  const wanted = name.toLowerCase();
  for (const featureId of indexOf(features).get(wanted) ?? []) {
    if (featureId !== exceptFeatureId && features.get(featureId)?.name.toLowerCase() === wanted) return featureId;
  }
  return undefined;
}

/**
 * Lets `next`, folded from `previous` by giving `named` (if any) its current name, share
 * `previous`'s index. Without an index for `previous`, `next` builds its own when first asked.
 */
export function carryFeatureNames(previous: Features, next: Features, named?: { readonly featureId: number; readonly name: string }): void {
  if (next === previous) return;
  const index = indexes.get(previous);
  if (index === undefined) return;
  if (named) addName(index, named.name, named.featureId);
  indexes.set(next, index);
}
