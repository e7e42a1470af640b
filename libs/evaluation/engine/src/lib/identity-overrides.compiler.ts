/**
 * Identity overrides, compiled once per identity revision. They behave exactly like a segment named
 * `identity_overrides` that only this identity belongs to and whose overrides have priority
 * `-Infinity`: they beat every segment override, report `TARGETING_MATCH; segment=identity_overrides`,
 * and multivariate bucketing applies to them with their own key and variants. Unlike a real
 * segment, this synthetic one is not listed among the evaluation's matched segments, as remote
 * evaluation does not report it.
 */
import type { FeatureContext } from './types/evaluation-context.types';
import type { CompiledEnvironment } from './environment.compiler';
import { CompiledFeatureState } from './feature-state.compiler';
import { isRecord } from './json-shape';

/** Name of the synthetic segment identity overrides are reported under. */
export const IDENTITY_OVERRIDES_SEGMENT_NAME = 'identity_overrides';

const IDENTITY_OVERRIDE_REASON = `TARGETING_MATCH; segment=${IDENTITY_OVERRIDES_SEGMENT_NAME}`;

/** An identity's overrides compiled against one compiled environment. Cacheable by the caller. */
export interface CompiledIdentityOverrides {
  /** The environment the overrides were compiled against. */
  readonly environment: CompiledEnvironment;
  /** Override state per feature index of `environment` (`undefined`: no override). */
  readonly states: ReadonlyArray<CompiledFeatureState | undefined>;
  /** The overrides in effect by feature name, to apply them to another compile of the environment. */
  readonly overridesByName: ReadonlyMap<string, FeatureContext>;
}

/**
 * Compiles an identity's overrides. Overrides for features the environment lacks are ignored; of
 * several overrides for one feature the first wins.
 */
export function compileIdentityOverrides(
  environment: CompiledEnvironment,
  overrides: readonly FeatureContext[],
): CompiledIdentityOverrides {
  const states = new Array<CompiledFeatureState | undefined>(environment.features.length).fill(undefined);
  const overridesByName = new Map<string, FeatureContext>();
  for (const override of overrides as readonly unknown[]) {
    if (!isRecord(override) || typeof override['name'] !== 'string') continue;
    const name = override['name'];
    if (overridesByName.has(name)) continue;
    overridesByName.set(name, override as unknown as FeatureContext);
    const index = environment.featureIndexByName.get(name);
    const feature = index === undefined ? undefined : environment.features[index];
    if (feature === undefined) continue;
    states[feature.index] = new CompiledFeatureState(override, feature, IDENTITY_OVERRIDE_REASON, -Infinity);
  }
  return Object.freeze({ environment, states, overridesByName });
}

/**
 * The override states to use with `environment`. Overrides compiled against another compile of the
 * environment are recompiled by feature name on each call (correct, but not the fast path).
 */
export function identityOverrideStates(
  environment: CompiledEnvironment,
  overrides: CompiledIdentityOverrides,
): ReadonlyArray<CompiledFeatureState | undefined> {
  if (overrides.environment === environment) return overrides.states;
  return compileIdentityOverrides(environment, [...overrides.overridesByName.values()]).states;
}
