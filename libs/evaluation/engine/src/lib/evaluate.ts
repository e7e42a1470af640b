/**
 * The evaluation hot path: matches the identity against the compiled segments, picks the winning
 * feature state per feature (identity override, then the strongest segment override, then the
 * environment default) and applies multivariate bucketing. Only prebuilt outcome objects are
 * returned, so callers can cache serialized forms per outcome.
 */
import type { TraitValue } from './types/evaluation-context.types';
import type { CompiledEnvironment, CompiledSegment } from './environment.compiler';
import { EvaluationScope, type ScopeIdentity } from './evaluation-scope';
import type { CompiledFeatureState, FlagOutcome } from './feature-state.compiler';
import { hashedPercentageForPair } from './hashing';
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

function selectOutcome(state: CompiledFeatureState, identityKey: string | null): FlagOutcome {
  const variants = state.variants;
  if (identityKey === null || variants.length === 0) return state.plainOutcome;
  const percentage = hashedPercentageForPair(state.keyText, identityKey);
  for (let index = 0; index < variants.length; index += 1) {
    const variant = variants[index];
    if (variant !== undefined && variant.start <= percentage && percentage < variant.limit) {
      return state.variantOutcomes[index] ?? state.controlOutcome;
    }
  }
  return state.controlOutcome;
}

/**
 * Evaluates every feature of a compiled environment.
 *
 * @param environment - from `compileEnvironment`.
 * @param identity - the identity, or `null` for environment flags (segments are still evaluated,
 *   e.g. rules on `$.environment.name`).
 * @param identityOverrides - from `compileIdentityOverrides`; ignored without an identity.
 */
export function evaluate(
  environment: CompiledEnvironment,
  identity: IdentityInput | null,
  identityOverrides?: CompiledIdentityOverrides,
): Evaluation {
  const scopeIdentity = isRecord(identity) && isPyTruthy(identity) ? toScopeIdentity(environment, identity) : null;
  const scope = new EvaluationScope(environment, scopeIdentity);
  const matched: CompiledSegment[] = [];
  let winners: Array<CompiledFeatureState | undefined> | undefined;
  for (const segment of environment.segments) {
    if (segment.rules.length === 0 || !rulesMatch(segment.rules, scope, segment.keyText)) continue;
    matched.push(segment);
    if (segment.overrides.length === 0) continue;
    winners ??= new Array<CompiledFeatureState | undefined>(environment.features.length).fill(undefined);
    for (const override of segment.overrides) {
      const current = winners[override.feature.index];
      // Strictly lower wins, so among equal priorities the first segment in order keeps the feature.
      if (current === undefined || override.priority < current.priority) winners[override.feature.index] = override;
    }
  }
  const overrides =
    scopeIdentity !== null && identityOverrides !== undefined ? identityOverrideStates(environment, identityOverrides) : undefined;
  const identityKey = scopeIdentity === null ? null : scopeIdentity.keyText;
  const defaults = environment.defaults;
  const flags: FlagOutcome[] = [];
  for (let index = 0; index < defaults.length; index += 1) {
    const state = overrides?.[index] ?? winners?.[index] ?? defaults[index];
    if (state !== undefined) flags.push(selectOutcome(state, identityKey));
  }
  return { flags, segments: matched };
}
