import type { EnvironmentDocument, FeatureDocument, FeatureStateDocument, IdentityDocument } from '@flagline/contracts';
import type { EvaluationContext, EvaluationOrder, FeatureContext, SegmentRule } from '@flagline/evaluation-engine';

/**
 * A feature state as Flagsmith's engine sees it. The hashing key is the state's numeric id
 * (Flagsmith's `django_id`), or its UUID where there is none (identity overrides), exactly as
 * Flagsmith's SDKs map an environment document, so remote and local evaluation bucket alike.
 * Variants are ordered by option id, as Flagsmith orders multivariate values.
 */
export function toFeatureContext(feature: FeatureDocument, state: FeatureStateDocument, priority?: number): FeatureContext {
  const options = new Map(feature.options.map((option) => [option.id, option]));
  const variants = state.allocations.flatMap((allocation) => {
    const option = options.get(allocation.optionId);
    if (!option) return [];
    return [{ ...(option.key !== null ? { key: option.key } : {}), value: option.value, weight: allocation.percentage, priority: option.id }];
  });
  return {
    key: state.id !== null ? String(state.id) : state.uuid,
    name: feature.name,
    enabled: state.enabled,
    value: state.value,
    ...(variants.length > 0 ? { variants } : {}),
    ...(priority !== undefined ? { priority } : {}),
  };
}

interface MappedState {
  readonly feature: FeatureDocument;
  readonly priority: number | undefined;
  readonly context: FeatureContext;
}

/** Feature contexts by the state document they were made from (see {@link sharedFeatureContext}). */
const mappedStates = new WeakMap<FeatureStateDocument, MappedState>();

/**
 * The feature context of a state, the same object as long as the state and feature documents are
 * the same objects: documents that share unchanged parts between revisions (the standalone
 * app's frozen read models) give the compiler the same contexts, whose compiled states it then
 * reuses. Documents are never mutated, so an object seen again holds what it held.
 */
export function sharedFeatureContext(feature: FeatureDocument, state: FeatureStateDocument, priority?: number): FeatureContext {
  const mapped = mappedStates.get(state);
  if (mapped !== undefined && mapped.feature === feature && mapped.priority === priority) return mapped.context;
  const context = toFeatureContext(feature, state, priority);
  mappedStates.set(state, { feature, priority, context });
  return context;
}

/** The environment as an evaluation context (no identity), with its document order. */
export function toEvaluationContext(environment: EnvironmentDocument): { context: EvaluationContext; order: EvaluationOrder } {
  const features: Record<string, FeatureContext> = {};
  for (const { feature, state } of environment.features) features[feature.name] = sharedFeatureContext(feature, state);
  const byId = new Map(environment.features.map(({ feature }) => [feature.id, feature]));
  const segments: NonNullable<EvaluationContext['segments']> = {};
  for (const segment of environment.segments) {
    segments[String(segment.id)] = {
      key: String(segment.id),
      name: segment.name,
      rules: segment.rules as unknown as SegmentRule[],
      overrides: segment.overrides.flatMap((override) => {
        const feature = byId.get(override.featureId);
        return feature ? [sharedFeatureContext(feature, override.state, override.priority)] : [];
      }),
    };
  }
  return {
    context: { environment: { key: environment.apiKey, name: environment.name }, features, segments },
    order: {
      features: environment.features.map(({ feature }) => feature.name),
      segments: environment.segments.map((segment) => String(segment.id)),
    },
  };
}

/** Each environment document's features by id, made once per document (documents are never mutated). */
const featuresById = new WeakMap<EnvironmentDocument, ReadonlyMap<number, FeatureDocument>>();

/** An identity's overrides as feature contexts, for features the environment has. */
export function toIdentityOverrideContexts(environment: EnvironmentDocument, identity: Pick<IdentityDocument, 'overrides'>): FeatureContext[] {
  let byId = featuresById.get(environment);
  if (byId === undefined) featuresById.set(environment, (byId = new Map(environment.features.map(({ feature }) => [feature.id, feature]))));
  return identity.overrides.flatMap((override) => {
    const feature = byId.get(override.featureId);
    return feature ? [sharedFeatureContext(feature, override.state)] : [];
  });
}
