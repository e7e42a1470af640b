import type { EnvironmentDocument, FeatureDocument, FeatureStateDocument, RuleDocument } from '@flagline/contracts';
import { createHash } from 'node:crypto';

/** A deterministic UUID from text, for document fields Flagsmith fills with UUIDs. */
function uuidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}


function featureState(feature: FeatureDocument, state: FeatureStateDocument, segmentPriority?: number): Record<string, unknown> {
  const options = new Map(feature.options.map((option) => [option.id, option]));
  return {
    feature: { id: feature.id, name: feature.name, type: feature.type },
    enabled: state.enabled,
    django_id: state.id,
    featurestate_uuid: state.uuid,
    feature_state_value: state.value,
    feature_segment: segmentPriority === undefined ? null : { priority: segmentPriority },
    // Multivariate values carry the option id as their id: SDKs order variants by it, as evaluation here does.
    multivariate_feature_state_values: state.allocations.flatMap((allocation) => {
      const option = options.get(allocation.optionId);
      if (!option) return [];
      return [
        {
          id: option.id,
          mv_fs_value_uuid: uuidOf(`${state.uuid}:${option.id}`),
          percentage_allocation: allocation.percentage,
          multivariate_feature_option: { id: option.id, value: option.value, ...(option.key !== null ? { key: option.key } : {}) },
        },
      ];
    }),
  };
}

function rule(document: RuleDocument): Record<string, unknown> {
  return {
    type: document.type,
    rules: document.rules.map(rule),
    conditions: document.conditions.map((condition) => ({ operator: condition.operator, value: condition.value, property_: condition.property })),
  };
}

/**
 * The environment in Flagsmith's environment-document format (`GET /api/v1/environment-document/`),
 * which Flagsmith's server-side SDKs evaluate locally.
 */
export function toFlagsmithEnvironmentDocument(environment: EnvironmentDocument): Record<string, unknown> {
  const features = new Map(environment.features.map(({ feature }) => [feature.id, feature]));
  const settings = environment.settings;
  return {
    id: environment.environmentId,
    api_key: environment.apiKey,
    name: environment.name,
    allow_client_traits: settings.allowClientTraits,
    updated_at: environment.updatedAt,
    hide_sensitive_data: settings.hideSensitiveData,
    hide_disabled_flags: settings.hideDisabledFlags,
    use_identity_composite_key_for_hashing: settings.useIdentityCompositeKeyForHashing,
    use_identity_overrides_in_local_eval: settings.useIdentityOverridesInLocalEval,
    project: {
      id: environment.project.id,
      name: environment.project.name,
      hide_disabled_flags: environment.project.hideDisabledFlags,
      enable_realtime_updates: false,
      server_key_only_feature_ids: environment.features.filter(({ feature }) => feature.isServerKeyOnly).map(({ feature }) => feature.id),
      organisation: {
        id: environment.project.organisationId,
        name: environment.project.organisationName ?? '',
        feature_analytics: true,
        stop_serving_flags: false,
        persist_trait_data: true,
      },
      segments: environment.segments.map((segment) => ({
        id: segment.id,
        name: segment.name,
        rules: segment.rules.map(rule),
        feature_states: segment.overrides.flatMap((override) => {
          const feature = features.get(override.featureId);
          return feature ? [featureState(feature, override.state, override.priority)] : [];
        }),
      })),
    },
    feature_states: environment.features.map(({ feature, state }) => featureState(feature, state)),
    identity_overrides: settings.useIdentityOverridesInLocalEval
      ? environment.identityOverrides.map((identity) => ({
          identifier: identity.identifier,
          environment_api_key: environment.apiKey,
          created_date: identity.createdAt,
          identity_uuid: identity.identityUuid,
          django_id: null,
          composite_key: `${environment.apiKey}_${identity.identifier}`,
          identity_traits: [],
          identity_features: identity.overrides.flatMap((override) => {
            const feature = features.get(override.featureId);
            return feature ? [featureState(feature, override.state)] : [];
          }),
        }))
      : [],
  };
}
