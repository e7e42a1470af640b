/**
 * The evaluation hot path: matches the identity against the compiled segments, picks the winning
 * feature state per feature (identity override, then the strongest segment override, then the
 * environment default) and applies multivariate bucketing. Only prebuilt outcome objects are
 * returned, so callers can cache serialized forms per outcome.
 */
import type { TraitValue } from './types/evaluation-context.types';
import type { CompiledEnvironment, CompiledSegment } from './environment.compiler';
import { EvaluationScope, type ScopeIdentity } from './evaluation-scope';
import type { EvaluationTracer } from './evaluation-tracer';
import { outcomeFor, type CompiledFeatureState, type FlagOutcome } from './feature-state.compiler';
import { FlagResolver } from './flag-dependencies';
import { identityOverrideStates, type CompiledIdentityOverrides } from './identity-overrides.compiler';
import { isPyTruthy, isRecord } from './json-shape';
import { pyStr } from './python/python-string';
import { rulesMatch } from './segment-rule.evaluator';

/** The identity to evaluate for. */
export interface IdentityInput {
  identifier: string;
  /** Hashing key; when missing or empty, `<environment key>_<identifier>` is used. */
  key?: string;
  traits?: Record<string, TraitValue | null>;
}

/** The outcome of one evaluation. */
export interface Evaluation {
  /** One outcome per feature, in the environment's feature order. */
  readonly flags: readonly FlagOutcome[];
  /**
   * Segments the identity (or, without identity, the environment context) belongs to, in context
   * order. The synthetic `identity_overrides` segment is never listed.
   */
  readonly segments: readonly CompiledSegment[];
}

function toScopeIdentity(environment: CompiledEnvironment, identity: IdentityInput): ScopeIdentity {
  const raw = identity as unknown as Record<string, unknown>;
  const identifier = raw['identifier'];
  const givenKey = raw['key'];
  const key = isPyTruthy(givenKey) ? givenKey : `${environment.environmentKeyText}_${pyStr(identifier ?? null)}`;
  const traits = raw['traits'];
  return { raw, identifier, key, keyText: pyStr(key), traits: isRecord(traits) ? traits : null };
}

/** Per-evaluation inputs shared by full and partial evaluations. */
interface Prepared {
  readonly scope: EvaluationScope;
  readonly identityStates: ReadonlyArray<CompiledFeatureState | undefined> | undefined;
  readonly identityKey: string | null;
  /** Set for environments with flag dependencies. */
  readonly resolver: FlagResolver | null;
}

function prepare(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  identityOverrides: CompiledIdentityOverrides | undefined,
  tracer: EvaluationTracer | null,
): Prepared {
  const scopeIdentity = isRecord(identity) && isPyTruthy(identity) ? toScopeIdentity(environment, identity) : null;
  const scope = new EvaluationScope(environment, scopeIdentity, tracer);
  const identityStates =
    scopeIdentity !== null && identityOverrides !== undefined ? identityOverrideStates(environment, identityOverrides) : undefined;
  const identityKey = scopeIdentity === null ? null : scopeIdentity.keyText;
  const resolver = environment.hasFlagDependencies ? new FlagResolver(environment, scope, identityStates, identityKey) : null;
  return { scope, identityStates, identityKey, resolver };
}

/**
 * Keeps, per feature, the stronger of `winners`' override and the matched segment's own: strictly
 * lower priority wins, so among equal priorities the first segment in context order keeps the
 * feature. Creates `winners` on the first segment with overrides.
 */
function takeOverrides(
  environment: CompiledEnvironment,
  segment: CompiledSegment,
  winners: Array<CompiledFeatureState | undefined> | undefined,
): Array<CompiledFeatureState | undefined> | undefined {
  if (segment.overrides.length === 0) return winners;
  const kept = winners ?? new Array<CompiledFeatureState | undefined>(environment.features.length).fill(undefined);
  for (const override of segment.overrides) {
    const current = kept[override.feature.index];
    if (current === undefined || override.priority < current.priority) kept[override.feature.index] = override;
  }
  return kept;
}

/** Whether a segment with rules matches, in an environment without flag dependencies; reported to the scope's tracer. */
function segmentMatchesPlainly(segment: CompiledSegment, scope: EvaluationScope): boolean {
  const tracer = scope.tracer;
  if (tracer === null) return rulesMatch(segment.rules, scope, segment.keyText);
  tracer.segmentStarted(segment);
  const matched = rulesMatch(segment.rules, scope, segment.keyText);
  tracer.segmentEnded(segment, matched, false);
  return matched;
}

/**
 * Matches `segments` (in context order) and picks, per feature, the strongest override among the
 * matching ones: strictly lower priority wins, so on a tie the first segment in order keeps it.
 */
function passSegments(
  environment: CompiledEnvironment,
  { scope, resolver }: Prepared,
  segments: readonly CompiledSegment[],
): { matched: CompiledSegment[]; winners: Array<CompiledFeatureState | undefined> | undefined } {
  const matched: CompiledSegment[] = [];
  let winners: Array<CompiledFeatureState | undefined> | undefined;
  for (const segment of segments) {
    if (segment.rules.length === 0) continue;
    if (resolver === null ? !segmentMatchesPlainly(segment, scope) : !resolver.passes(segment)) continue;
    matched.push(segment);
    winners = takeOverrides(environment, segment, winners);
  }
  return { matched, winners };
}

/** The outcome of feature `index`: identity override, else the pass's winner, else the default. */
function flagOutcome(
  environment: CompiledEnvironment,
  prepared: Prepared,
  winners: ReadonlyArray<CompiledFeatureState | undefined> | undefined,
  index: number,
): FlagOutcome | undefined {
  const state = prepared.identityStates?.[index] ?? winners?.[index] ?? environment.defaults[index];
  if (state === undefined) return undefined;
  const outcome = outcomeFor(state, prepared.identityKey, prepared.scope.tracer);
  return prepared.resolver === null ? outcome : prepared.resolver.settle(index, outcome);
}

/**
 * {@link evaluate} for an environment without flag dependencies, the common case on the serving
 * path: one straight pass with no per-evaluation bookkeeping objects (the general path's prepared
 * inputs and pass result cost about a sixth of an evaluation here, measured on the golden cases).
 */
function evaluateWithoutDependencies(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  identityOverrides: CompiledIdentityOverrides | undefined,
  tracer: EvaluationTracer | null,
): Evaluation {
  const scopeIdentity = isRecord(identity) && isPyTruthy(identity) ? toScopeIdentity(environment, identity) : null;
  const scope = new EvaluationScope(environment, scopeIdentity, tracer);
  const matched: CompiledSegment[] = [];
  let winners: Array<CompiledFeatureState | undefined> | undefined;
  for (const segment of environment.segments) {
    if (segment.rules.length === 0 || !segmentMatchesPlainly(segment, scope)) continue;
    matched.push(segment);
    winners = takeOverrides(environment, segment, winners);
  }
  const overrides = scopeIdentity !== null && identityOverrides !== undefined ? identityOverrideStates(environment, identityOverrides) : undefined;
  const identityKey = scopeIdentity === null ? null : scopeIdentity.keyText;
  const defaults = environment.defaults;
  const flags: FlagOutcome[] = [];
  for (let index = 0; index < defaults.length; index += 1) {
    const state = overrides?.[index] ?? winners?.[index] ?? defaults[index];
    if (state !== undefined) flags.push(outcomeFor(state, identityKey, tracer));
  }
  return { flags, segments: matched };
}

/**
 * Evaluates every feature of a compiled environment.
 *
 * @param environment - from `compileEnvironment`.
 * @param identity - the identity, or `null` for environment flags (segments are still evaluated,
 *   e.g. rules on `$.environment.name`).
 * @param identityOverrides - from `compileIdentityOverrides`; ignored without an identity.
 * @param tracer - observes what the evaluation reads and decides (explained evaluation); omit it to serve.
 */
export function evaluate(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  identityOverrides?: CompiledIdentityOverrides,
  tracer: EvaluationTracer | null = null,
): Evaluation {
  if (!environment.hasFlagDependencies) return evaluateWithoutDependencies(environment, identity, identityOverrides, tracer);
  const prepared = prepare(environment, identity, identityOverrides, tracer);
  const { matched, winners } = passSegments(environment, prepared, environment.segments);
  const flags: FlagOutcome[] = [];
  for (let index = 0; index < environment.defaults.length; index += 1) {
    const outcome = flagOutcome(environment, prepared, winners, index);
    if (outcome !== undefined) flags.push(outcome);
  }
  return { flags, segments: matched };
}

/** The segments overriding any of the features, in context order. */
function segmentsOverriding(environment: CompiledEnvironment, indexes: ReadonlyArray<number | undefined>): CompiledSegment[] {
  const segments = new Set<CompiledSegment>();
  for (const index of indexes) {
    if (index === undefined) continue;
    for (const { segment } of environment.overridesByFeature[index] ?? []) segments.add(segment);
  }
  return [...segments].sort((a, b) => a.index - b.index);
}

/** Per compiled environment (frozen once made), the segments overriding each feature alone, made on first use. */
const overridersByFeature = new WeakMap<CompiledEnvironment, Array<readonly CompiledSegment[] | undefined>>();

/** {@link segmentsOverriding} for one feature, made once per compiled environment and feature. */
function segmentsOverridingOne(environment: CompiledEnvironment, index: number): readonly CompiledSegment[] {
  let byFeature = overridersByFeature.get(environment);
  if (byFeature === undefined) overridersByFeature.set(environment, (byFeature = []));
  return (byFeature[index] ??= segmentsOverriding(environment, [index]));
}

/**
 * Evaluates only the named features (and, through their conditions, the flags they depend on):
 * each outcome is the one {@link evaluate} gives that feature, but only the segments overriding
 * the named features are matched, and only the flags their conditions read are resolved. For
 * serving one flag (OFREP single-flag evaluation). Every segment is matched instead in an
 * environment whose conditions run generic JSONPath queries (which may list the flags resolved
 * anywhere), and when resolving the named features cut a dependency cycle (the reference skips a
 * segment whose evaluation cut one, so the outcome depends on what earlier segments resolved).
 *
 * @returns one outcome per name, parallel to `names`; `undefined` for a name the environment lacks.
 */
export function evaluateFeatures(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  names: readonly string[],
  identityOverrides?: CompiledIdentityOverrides,
  tracer: EvaluationTracer | null = null,
): Array<FlagOutcome | undefined> {
  const indexes = names.map((name) => environment.featureIndexByName.get(name));
  let prepared = prepare(environment, identity, identityOverrides, tracer);
  const only = indexes.length === 1 ? indexes[0] : undefined;
  const segments = environment.hasGenericQueries ? environment.segments : only !== undefined ? segmentsOverridingOne(environment, only) : segmentsOverriding(environment, indexes);
  let { winners } = passSegments(environment, prepared, segments);
  if (prepared.resolver !== null && prepared.resolver.cycleHits > 0) {
    // A cycle was cut. Whether a segment's verdict rests on a cut depends on what other segments
    // resolved before it, so only the whole pass gives the whole evaluation's outcomes.
    prepared = prepare(environment, identity, identityOverrides, tracer);
    ({ winners } = passSegments(environment, prepared, environment.segments));
  }
  return indexes.map((index) => (index === undefined ? undefined : flagOutcome(environment, prepared, winners, index)));
}
