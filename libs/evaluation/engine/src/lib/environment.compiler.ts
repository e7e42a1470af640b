/**
 * Compilation of an environment's evaluation context: done once per environment revision, it
 * resolves everything that does not depend on the identity so that evaluations only walk
 * precompiled structures.
 */
import type { EvaluationContext, FeatureContext, Metadata } from './types/evaluation-context.types';
import { PropertyTable, readsFlags } from './context-property';
import type { ScopeEnvironment } from './evaluation-scope';
import { CompiledFeatureState, numberOr, type CompiledFeature } from './feature-state.compiler';
import { isPyTruthy, isRecord, orderedEntries } from './json-shape';
import { recordKeyOrder } from './ordered-json-path';
import { pyStr } from './python/python-string';
import { compileRule, type CompiledRule } from './segment-rule.compiler';

/** Reason reported for an environment default of a feature some segment overrides (none matched). */
export const DEFAULT_REASON = 'DEFAULT';

/** Reason reported for an environment default of a feature no segment of the context overrides. */
export const STATIC_REASON = 'STATIC';

/**
 * Document order of the context's `segments` and `features` maps. JS objects enumerate
 * integer-like keys (segment ids such as `"16"`, `"4267"`) in numeric order rather than in the
 * order they were written; a caller that parsed the document can pass the written order here.
 * Segment order decides the order of matched segments and which of two equal-priority overrides
 * wins.
 */
export interface EvaluationOrder {
  readonly segments?: readonly string[];
  readonly features?: readonly string[];
}

/** A compiled segment. Stable per compile. */
export interface CompiledSegment {
  /** Position in the context's segment order. */
  readonly index: number;
  /** Python `str()` of the segment key, hashed by PERCENTAGE_SPLIT conditions. */
  readonly keyText: string;
  readonly name: string;
  /** Metadata to report, `undefined` when absent or empty. */
  readonly metadata: Metadata | undefined;
  /** Top-level rules; a segment without rules never matches. */
  readonly rules: readonly CompiledRule[];
  /**
   * The segment's overrides for features of the environment, one per feature: the first of the
   * lowest priority among the segment's overrides for that feature.
   */
  readonly overrides: readonly CompiledFeatureState[];
  /**
   * Per entry of {@link overrides}, how many overrides the segment holds for that feature (more
   * than one when a feature is overridden twice): resolving the feature checks the segment once per
   * override, as the reference does.
   */
  readonly overrideCounts: readonly number[];
  /**
   * Whether the rules read other flags (`$.flags.<name>…`, or any generic query): such segments
   * are evaluated in the reference's exact order.
   */
  readonly readsFlags: boolean;
}

/**
 * A segment's override of one feature (the one the segment holds for it), once per override the
 * segment holds for the feature.
 */
export interface SegmentOverride {
  readonly segment: CompiledSegment;
  readonly state: CompiledFeatureState;
}

/** An environment compiled for evaluation. Immutable; identity-independent. */
export interface CompiledEnvironment extends ScopeEnvironment {
  /** Python `str()` of the environment key, the prefix of implicit identity keys. */
  readonly environmentKeyText: string;
  /** Features in result order. */
  readonly features: readonly CompiledFeature[];
  /** Environment default state per feature, parallel to `features`. */
  readonly defaults: readonly CompiledFeatureState[];
  /** Feature index by feature name. */
  readonly featureIndexByName: ReadonlyMap<string, number>;
  /** Segments in context order. */
  readonly segments: readonly CompiledSegment[];
  /**
   * Per feature index, the segments overriding that feature with their override, in context order;
   * a segment holding several overrides of the feature is listed once per override, as the
   * reference checks it once per override when resolving the feature.
   */
  readonly overridesByFeature: ReadonlyArray<readonly SegmentOverride[]>;
  /**
   * Whether some condition may read another flag (`$.flags.<name>…`, or a generic JSONPath query).
   * Only such environments pay for dependency resolution.
   */
  readonly hasFlagDependencies: boolean;
  /**
   * Whether some condition runs a generic JSONPath query. Such a query can list every flag
   * resolved so far, whoever resolved it, so evaluating some features only still matches every
   * segment.
   */
  readonly hasGenericQueries: boolean;
  /**
   * Whether a change of environment defaults alone can be applied to this compile by
   * {@link withChangedDefaults}: no condition reads flags, runs a generic query or reads the
   * context's `features` or `segments`, so no segment's verdict depends on the defaults.
   */
  readonly defaultsPatchable: boolean;
  /** Names of the features some segment override names (their default's reason is `DEFAULT`). */
  readonly targetedNames: ReadonlySet<string>;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Names of the features that at least one segment overrides (whatever the override holds): their
 * environment default is reported as `DEFAULT`, any other feature's as `STATIC`.
 */
function targetedFeatureNames(rawSegments: ReadonlyArray<readonly [string, unknown]>): Set<string> {
  const names = new Set<string>();
  for (const [, segment] of rawSegments) {
    const overrides = isRecord(segment) ? segment['overrides'] : undefined;
    if (!Array.isArray(overrides)) continue;
    for (const override of overrides) if (isRecord(override) && typeof override['name'] === 'string') names.add(override['name']);
  }
  return names;
}

function ruleReadsFlags(rule: CompiledRule): boolean {
  return rule.conditions.some((condition) => condition.property !== null && readsFlags(condition.property)) || rule.rules.some(ruleReadsFlags);
}

/**
 * The feature at `index` named `name`: the previous compile's object when it has the same one, so
 * that its unchanged feature states (and their outcomes) can be reused.
 */
function featureAt(index: number, name: string, previous: CompiledEnvironment | undefined): CompiledFeature {
  const before = previous?.features[index];
  return before !== undefined && before.name === name ? before : Object.freeze({ name, index });
}

/** A feature state compiled from `raw`, or the previous compile's when it compiled this very object alike. */
function stateFor(
  raw: Record<string, unknown>,
  feature: CompiledFeature,
  reason: string,
  priority: number,
  before: CompiledFeatureState | undefined,
): CompiledFeatureState {
  if (before !== undefined && before.raw === raw && before.feature === feature && before.reason === reason && before.priority === priority) return before;
  return new CompiledFeatureState(raw, feature, reason, priority);
}

function compileFeatures(raw: unknown, order: readonly string[] | undefined, targeted: ReadonlySet<string>, previous: CompiledEnvironment | undefined) {
  const features: CompiledFeature[] = [];
  const defaults: CompiledFeatureState[] = [];
  const featureIndexByName = new Map<string, number>();
  if (!isRecord(raw)) return { features, defaults, featureIndexByName };
  for (const [entryKey, entry] of orderedEntries(raw, order)) {
    if (!isRecord(entry)) continue;
    const name = typeof entry['name'] === 'string' ? entry['name'] : entryKey;
    const existing = featureIndexByName.get(name);
    // A repeated name keeps its first position and takes the later definition, as a dict would.
    const feature = existing === undefined ? featureAt(features.length, name, previous) : features[existing];
    if (feature === undefined) continue;
    const state = stateFor(entry, feature, targeted.has(name) ? DEFAULT_REASON : STATIC_REASON, Infinity, previous?.defaults[feature.index]);
    if (existing === undefined) {
      featureIndexByName.set(name, feature.index);
      features.push(feature);
      defaults.push(state);
    } else {
      defaults[existing] = state;
    }
  }
  return { features, defaults, featureIndexByName };
}

function compileOverrides(
  raw: unknown,
  reason: string,
  features: readonly CompiledFeature[],
  featureIndexByName: ReadonlyMap<string, number>,
  before: readonly CompiledFeatureState[] = [],
): { overrides: CompiledFeatureState[]; overrideCounts: number[] } {
  const chosen: CompiledFeatureState[] = [];
  const counts: number[] = [];
  if (!Array.isArray(raw)) return { overrides: chosen, overrideCounts: counts };
  const positionByFeature = new Map<number, number>();
  const previousByRaw = new Map<unknown, CompiledFeatureState>(before.map((state) => [state.raw, state]));
  for (const override of raw) {
    if (!isRecord(override) || typeof override['name'] !== 'string') continue;
    const index = featureIndexByName.get(override['name']);
    const feature = index === undefined ? undefined : features[index];
    if (feature === undefined) continue;
    const state = stateFor(override, feature, reason, numberOr(override['priority'], Infinity), previousByRaw.get(override));
    const position = positionByFeature.get(feature.index);
    if (position === undefined) {
      positionByFeature.set(feature.index, chosen.length);
      chosen.push(state);
      counts.push(1);
      continue;
    }
    counts[position] = (counts[position] ?? 0) + 1;
    if (state.priority < (chosen[position]?.priority ?? Infinity)) chosen[position] = state;
  }
  return { overrides: chosen, overrideCounts: counts };
}

/**
 * `segments` or `features` as generic queries see them: listed in document order (a copy whose
 * key order is recorded), when an order is given.
 */
function inDocumentOrder(value: unknown, order: readonly string[] | undefined): unknown {
  if (order === undefined || !isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  const keys: string[] = [];
  for (const [key, member] of orderedEntries(value, order)) {
    defineOwn(copy, key, member);
    keys.push(key);
  }
  recordKeyOrder(copy, keys);
  return copy;
}

/**
 * Compiles an evaluation context for repeated evaluation. The context's identity is ignored:
 * identities are passed to `evaluate`. Never throws; malformed parts compile to rules, conditions
 * or features that never match or are skipped.
 *
 * @param order - document order of `segments` / `features` keys, see {@link EvaluationOrder}.
 * @param previous - an earlier compile of the same environment: environment defaults given as the
 *   very same FeatureContext objects, at the same position, keep their compiled states (and so
 *   their outcomes), so a change costs little more than what it changed. Context objects passed
 *   again must not have been mutated.
 */
export function compileEnvironment(context: EvaluationContext, order?: EvaluationOrder, previous?: CompiledEnvironment): CompiledEnvironment {
  const root: Record<string, unknown> = isRecord(context) ? context : {};
  const documentEntries: Array<readonly [string, unknown]> = [];
  const contextWithoutIdentity: Record<string, unknown> = {};
  let identityPosition = -1;
  for (const [key, value] of Object.entries(root)) {
    if (key === 'identity') {
      identityPosition = documentEntries.length;
      continue;
    }
    documentEntries.push([key, value]);
    defineOwn(contextWithoutIdentity, key, value);
  }
  const environment = isRecord(root['environment']) ? root['environment'] : {};
  const rawSegments = isRecord(root['segments']) ? orderedEntries(root['segments'], order?.segments) : [];
  const targetedNames = targetedFeatureNames(rawSegments);
  const { features, defaults, featureIndexByName } = compileFeatures(root['features'], order?.features, targetedNames, previous);
  const properties = new PropertyTable(contextWithoutIdentity);
  const parts = rawSegments.flatMap(([entryKey, entry], position) => {
    if (!isRecord(entry)) return [];
    const name = pyStr(entry['name'] ?? entryKey);
    const rules = Array.isArray(entry['rules']) ? entry['rules'] : [];
    const metadata = entry['metadata'];
    return [
      {
        keyText: pyStr(entry['key'] ?? entryKey),
        name,
        metadata: isPyTruthy(metadata) && isRecord(metadata) ? metadata : undefined,
        rules: rules.map((rule) => compileRule(rule, properties)),
        ...compileOverrides(entry['overrides'], `TARGETING_MATCH; segment=${name}`, features, featureIndexByName, previous?.segments[position]?.overrides),
      },
    ];
  });
  // Known only once every property is interned: whether any condition reads another flag.
  const hasFlagDependencies = properties.hasFlagReaders;
  const segments = parts.map(
    (part, index): CompiledSegment => Object.freeze({ ...part, index, readsFlags: hasFlagDependencies && part.rules.some(ruleReadsFlags) }),
  );
  // Generic queries list the maps' members: they see them in document order.
  const queryDocumentEntries = properties.hasQueries
    ? documentEntries.map(([key, value]): readonly [string, unknown] => {
        if (key === 'segments') return [key, inDocumentOrder(value, order?.segments)];
        return key === 'features' ? [key, inDocumentOrder(value, order?.features)] : [key, value];
      })
    : documentEntries;
  const overridesByFeature = features.map((): SegmentOverride[] => []);
  for (const segment of segments) {
    segment.overrides.forEach((state, position) => {
      const override = Object.freeze({ segment, state });
      const count = segment.overrideCounts[position] ?? 1;
      for (let copy = 0; copy < count; copy += 1) overridesByFeature[state.feature.index]?.push(override);
    });
  }
  return Object.freeze({
    environmentKeyText: pyStr(environment['key'] ?? null),
    features,
    defaults,
    featureIndexByName,
    segments,
    overridesByFeature,
    hasFlagDependencies,
    hasGenericQueries: properties.hasQueries,
    defaultsPatchable: !hasFlagDependencies && !properties.hasQueries && !properties.readsDefinitions,
    targetedNames,
    propertyCount: properties.size,
    documentEntries: queryDocumentEntries,
    identityPosition,
  });
}

/**
 * A feature index grown by appends without copying it: the index it grew from, shared, and the
 * names added since, folded into a new map once they are many (an append then costs a copy of at
 * most a few dozen names, and a copy of the whole index once in that many appends).
 */
class AppendedIndex implements ReadonlyMap<string, number> {
  private static readonly FOLD_AT = 64;

  private constructor(
    private readonly base: ReadonlyMap<string, number>,
    private readonly added: ReadonlyMap<string, number>,
  ) {}

  /** `index` with `names` added (none of them in it already). */
  static extend(index: ReadonlyMap<string, number>, names: ReadonlyArray<readonly [string, number]>): ReadonlyMap<string, number> {
    const base = index instanceof AppendedIndex ? index.base : index;
    const added = new Map(index instanceof AppendedIndex ? index.added : undefined);
    for (const [name, position] of names) added.set(name, position);
    return added.size <= AppendedIndex.FOLD_AT ? new AppendedIndex(base, added) : new Map([...base, ...added]);
  }

  get size(): number {
    return this.base.size + this.added.size;
  }

  get(name: string): number | undefined {
    return this.base.get(name) ?? this.added.get(name);
  }

  has(name: string): boolean {
    return this.base.has(name) || this.added.has(name);
  }

  *entries(): MapIterator<[string, number]> {
    yield* this.base.entries();
    yield* this.added.entries();
  }

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<number> {
    for (const [, position] of this.entries()) yield position;
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }

  forEach(callback: (position: number, name: string, map: ReadonlyMap<string, number>) => void): void {
    for (const [name, position] of this.entries()) callback(position, name, this);
  }
}

/** A change of environment defaults only: states replaced in place and new features at the end. */
export interface DefaultsChange {
  /** New FeatureContexts of existing features, by feature index (same name). */
  readonly replaced: ReadonlyArray<{ readonly index: number; readonly context: FeatureContext }>;
  /** FeatureContexts of new features, appended in order after the existing ones. */
  readonly appended: readonly FeatureContext[];
}

/**
 * `previous` with some environment defaults replaced and new features appended, every segment
 * and every other state kept: costs what changed (plus copying the arrays of states), where a
 * compile costs the environment's size. Gives what {@link compileEnvironment} gives for the
 * context so changed, or `undefined` when that cannot be done this way (the compile is not
 * {@link CompiledEnvironment.defaultsPatchable}; a replaced state renames its feature; an
 * appended feature has a taken name, no name, or a segment override naming it): compile then.
 * Not applicable either when the environment's key or name or any segment changed.
 */
export function withChangedDefaults(previous: CompiledEnvironment, change: DefaultsChange): CompiledEnvironment | undefined {
  if (!previous.defaultsPatchable) return undefined;
  const defaults = previous.defaults.slice();
  for (const { index, context } of change.replaced) {
    const before = previous.defaults[index];
    const raw = context as unknown as Record<string, unknown>;
    if (before === undefined || raw['name'] !== before.feature.name) return undefined;
    defaults[index] = stateFor(raw, before.feature, before.reason, Infinity, before);
  }
  if (change.appended.length === 0) return Object.freeze({ ...previous, defaults });
  const features = previous.features.slice();
  const added = new Map<string, number>();
  const overridesByFeature = previous.overridesByFeature.slice();
  for (const context of change.appended) {
    const raw = context as unknown as Record<string, unknown>;
    const name = raw['name'];
    if (typeof name !== 'string' || previous.featureIndexByName.has(name) || added.has(name) || previous.targetedNames.has(name)) return undefined;
    const feature: CompiledFeature = Object.freeze({ name, index: features.length });
    features.push(feature);
    added.set(name, feature.index);
    defaults.push(new CompiledFeatureState(raw, feature, STATIC_REASON, Infinity));
    overridesByFeature.push([]);
  }
  const featureIndexByName = AppendedIndex.extend(previous.featureIndexByName, [...added]);
  return Object.freeze({ ...previous, features, defaults, featureIndexByName, overridesByFeature });
}
