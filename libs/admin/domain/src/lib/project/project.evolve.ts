import { PersistentMap } from '../shared/persistent-map';
import { carryFeatureNames } from './feature-names';
import type { ProjectEvent } from './project.events';
import {
  initialFeatureState,
  type Environment,
  type Feature,
  type FeatureStateValue,
  type Project,
  type Segment,
  type SegmentOverride,
} from './project.state';

// Every map of the state changes through these: persistent maps, so a change shares the entries
// it leaves alone and costs the same in a project of ten features or of thousands.

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> {
  return PersistentMap.from(map).set(key, value);
}

function updated<K, V>(map: ReadonlyMap<K, V>, key: K, change: (value: V) => V): ReadonlyMap<K, V> {
  const value = map.get(key);
  if (value === undefined) return map;
  return withEntry(map, key, change(value));
}

function without<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!map.has(key)) return map;
  return PersistentMap.from(map).delete(key);
}

function mapValues<K, V>(map: ReadonlyMap<K, V>, change: (value: V) => V): ReadonlyMap<K, V> {
  return PersistentMap.from(map).mapValues(change);
}

const withFeature = (state: Project, featureId: number, change: (feature: Feature) => Feature): Project => ({
  ...state,
  features: updated(state.features, featureId, change),
});

const withSegment = (state: Project, segmentId: number, change: (segment: Segment) => Segment): Project => ({
  ...state,
  segments: updated(state.segments, segmentId, change),
});

const withEnvironment = (state: Project, environmentId: number, change: (environment: Environment) => Environment): Project => ({
  ...state,
  environments: updated(state.environments, environmentId, change),
});

const withEveryEnvironment = (state: Project, change: (environment: Environment) => Environment): Project => ({
  ...state,
  environments: mapValues(state.environments, change),
});

function withOverrides(
  environment: Environment,
  featureId: number,
  change: (overrides: readonly SegmentOverride[]) => readonly SegmentOverride[],
): Environment {
  const next = change(environment.segmentOverrides.get(featureId) ?? []);
  const segmentOverrides = next.length === 0 ? without(environment.segmentOverrides, featureId) : withEntry(environment.segmentOverrides, featureId, next);
  return { ...environment, segmentOverrides };
}

/** Folds one project event into the project state. Never throws; events about unknown entities change nothing. */
export function evolveProject(state: Project, event: ProjectEvent, revision: number): Project {
  const next = evolved(state, event, revision);
  if (next.features !== state.features)
    carryFeatureNames(state.features, next.features, event.type === 'FeatureCreated' || event.type === 'FeatureRenamed' ? event.data : undefined);
  return next;
}

function evolved(state: Project, event: ProjectEvent, revision: number): Project {
  switch (event.type) {
    case 'ProjectCreated': {
      const { projectId, organisationId, name, hideDisabledFlags, createdAt } = event.data;
      return { ...state, status: 'active', projectId, organisationId, name, hideDisabledFlags, createdAt, revision };
    }
    case 'ProjectSettingsChanged':
      return { ...state, name: event.data.name, hideDisabledFlags: event.data.hideDisabledFlags, revision };
    case 'ProjectDeleted':
      return { ...state, status: 'deleted', revision };

    case 'TagCreated': {
      const { projectId: _projectId, ...tag } = event.data;
      return { ...state, tags: withEntry(state.tags, tag.tagId, { ...tag, revision }) };
    }
    case 'TagChanged': {
      const { projectId: _projectId, ...tag } = event.data;
      return { ...state, tags: updated(state.tags, tag.tagId, () => ({ ...tag, revision })) };
    }
    case 'TagDeleted': {
      const { tagId } = event.data;
      const features = mapValues(state.features, (feature) =>
        feature.tagIds.includes(tagId) ? { ...feature, tagIds: feature.tagIds.filter((id) => id !== tagId), revision } : feature,
      );
      return { ...state, tags: without(state.tags, tagId), features };
    }

    case 'FeatureCreated': {
      const { projectId: _projectId, environmentStates, ...data } = event.data;
      const feature: Feature = {
        featureId: data.featureId,
        name: data.name,
        description: data.description,
        type: data.type,
        defaultEnabled: data.defaultEnabled,
        initialValue: data.initialValue,
        tagIds: data.tagIds,
        isArchived: false,
        isServerKeyOnly: data.isServerKeyOnly,
        options: data.options,
        createdAt: data.createdAt,
        revision,
      };
      let next: Project = { ...state, features: withEntry(state.features, feature.featureId, feature) };
      for (const { environmentId, featureStateId } of environmentStates) {
        next = withEnvironment(next, environmentId, (environment) => ({
          ...environment,
          featureStates: withEntry(environment.featureStates, feature.featureId, initialFeatureState(feature, featureStateId, revision)),
        }));
      }
      return next;
    }
    case 'FeatureRenamed':
      return withFeature(state, event.data.featureId, (feature) => ({ ...feature, name: event.data.name, revision }));
    case 'FeatureDescriptionChanged':
      return withFeature(state, event.data.featureId, (feature) => ({ ...feature, description: event.data.description, revision }));
    case 'FeatureTagsChanged':
      return withFeature(state, event.data.featureId, (feature) => ({ ...feature, tagIds: event.data.tagIds, revision }));
    case 'FeatureDefaultsChanged':
      return withFeature(state, event.data.featureId, (feature) => ({
        ...feature,
        defaultEnabled: event.data.defaultEnabled,
        initialValue: event.data.initialValue,
        revision,
      }));
    case 'FeatureVisibilityChanged':
      return withFeature(state, event.data.featureId, (feature) => ({ ...feature, isServerKeyOnly: event.data.isServerKeyOnly, revision }));
    case 'FeatureArchived':
    case 'FeatureUnarchived':
      return withFeature(state, event.data.featureId, (feature) => ({ ...feature, isArchived: event.type === 'FeatureArchived', revision }));
    case 'FeatureDeleted': {
      const { featureId } = event.data;
      return withEveryEnvironment({ ...state, features: without(state.features, featureId) }, (environment) => ({
        ...environment,
        featureStates: without(environment.featureStates, featureId),
        segmentOverrides: without(environment.segmentOverrides, featureId),
      }));
    }
    case 'MultivariateOptionAdded': {
      const { featureId, option } = event.data;
      const next = withFeature(state, featureId, (feature) => ({ ...feature, type: 'MULTIVARIATE', options: [...feature.options, option], revision }));
      return withEveryEnvironment(next, (environment) => ({
        ...environment,
        featureStates: updated(environment.featureStates, featureId, (featureState) => ({
          ...featureState,
          allocations: [...featureState.allocations, { optionId: option.optionId, percentage: option.defaultAllocation }],
          revision,
        })),
      }));
    }
    case 'MultivariateOptionChanged': {
      const { featureId, option } = event.data;
      return withFeature(state, featureId, (feature) => ({
        ...feature,
        options: feature.options.map((candidate) => (candidate.optionId === option.optionId ? option : candidate)),
        revision,
      }));
    }
    case 'MultivariateOptionRemoved': {
      const { featureId, optionId } = event.data;
      const dropAllocation = <S extends FeatureStateValue>(featureState: S): S =>
        featureState.allocations.some((allocation) => allocation.optionId === optionId)
          ? { ...featureState, allocations: featureState.allocations.filter((allocation) => allocation.optionId !== optionId), revision }
          : featureState;
      const next = withFeature(state, featureId, (feature) => ({
        ...feature,
        options: feature.options.filter((option) => option.optionId !== optionId),
        revision,
      }));
      return withEveryEnvironment(next, (environment) =>
        withOverrides(
          { ...environment, featureStates: updated(environment.featureStates, featureId, dropAllocation) },
          featureId,
          (overrides) => overrides.map(dropAllocation),
        ),
      );
    }

    case 'SegmentCreated': {
      const { projectId: _projectId, ...segment } = event.data;
      return { ...state, segments: withEntry(state.segments, segment.segmentId, { ...segment, revision }) };
    }
    case 'SegmentRenamed':
      return withSegment(state, event.data.segmentId, (segment) => ({ ...segment, name: event.data.name, revision }));
    case 'SegmentDescriptionChanged':
      return withSegment(state, event.data.segmentId, (segment) => ({ ...segment, description: event.data.description, revision }));
    case 'SegmentRuleChanged':
      return withSegment(state, event.data.segmentId, (segment) => ({ ...segment, rules: event.data.rules, revision }));
    case 'SegmentDeleted': {
      const { segmentId } = event.data;
      return withEveryEnvironment({ ...state, segments: without(state.segments, segmentId) }, (environment) => {
        let next = environment;
        for (const featureId of environment.segmentOverrides.keys()) {
          next = withOverrides(next, featureId, (overrides) => overrides.filter((override) => override.segmentId !== segmentId));
        }
        return next;
      });
    }

    case 'EnvironmentCreated': {
      const { environmentId, name, description, apiKey, settings, createdAt, featureStates } = event.data;
      const states = new Map<number, FeatureStateValue>();
      for (const { featureId, featureStateId } of featureStates) {
        const feature = state.features.get(featureId);
        if (feature) states.set(featureId, initialFeatureState(feature, featureStateId, revision));
      }
      const environment: Environment = {
        environmentId,
        name,
        description,
        apiKey,
        settings,
        serverKeys: new Map(),
        featureStates: states,
        segmentOverrides: new Map(),
        createdAt,
        revision,
      };
      return { ...state, environments: withEntry(state.environments, environmentId, environment) };
    }
    case 'EnvironmentCloned': {
      const { environmentId, name, description, apiKey, settings, createdAt, featureStates, segmentOverrides } = event.data;
      const states = new Map<number, FeatureStateValue>();
      for (const { featureId, ...featureState } of featureStates) states.set(featureId, { ...featureState, revision });
      const overrides = new Map<number, SegmentOverride[]>();
      for (const { featureId, ...override } of segmentOverrides) {
        overrides.set(featureId, [...(overrides.get(featureId) ?? []), { ...override, revision }]);
      }
      const environment: Environment = {
        environmentId,
        name,
        description,
        apiKey,
        settings,
        serverKeys: new Map(),
        featureStates: states,
        segmentOverrides: overrides,
        createdAt,
        revision,
      };
      return { ...state, environments: withEntry(state.environments, environmentId, environment) };
    }
    case 'EnvironmentRenamed':
      return withEnvironment(state, event.data.environmentId, (environment) => ({
        ...environment,
        name: event.data.name,
        description: event.data.description,
        revision,
      }));
    case 'EnvironmentSettingsChanged':
      return withEnvironment(state, event.data.environmentId, (environment) => ({ ...environment, settings: event.data.settings, revision }));
    case 'EnvironmentDeleted':
      return { ...state, environments: without(state.environments, event.data.environmentId) };
    case 'ServerKeyIssued': {
      const { projectId: _projectId, environmentId, ...key } = event.data;
      return withEnvironment(state, environmentId, (environment) => ({
        ...environment,
        serverKeys: withEntry(environment.serverKeys, key.keyId, { ...key, revokedAt: null }),
      }));
    }
    case 'ServerKeyRevoked':
      return withEnvironment(state, event.data.environmentId, (environment) => ({
        ...environment,
        serverKeys: updated(environment.serverKeys, event.data.keyId, (key) => ({ ...key, revokedAt: event.data.revokedAt })),
      }));

    case 'FeatureStateChanged': {
      const { environmentId, featureId, featureStateId, enabled, value, allocations } = event.data;
      return withEnvironment(state, environmentId, (environment) => ({
        ...environment,
        featureStates: withEntry(environment.featureStates, featureId, { featureStateId, enabled, value, allocations, revision }),
      }));
    }
    case 'SegmentOverrideCreated': {
      const { environmentId, featureId, segmentId, featureStateId, enabled, value, allocations, priority } = event.data;
      const override: SegmentOverride = { segmentId, featureStateId, enabled, value, allocations, revision };
      return withEnvironment(state, environmentId, (environment) =>
        withOverrides(environment, featureId, (overrides) => [...overrides.slice(0, priority), override, ...overrides.slice(priority)]),
      );
    }
    case 'SegmentOverrideChanged': {
      const { environmentId, featureId, segmentId, enabled, value, allocations } = event.data;
      return withEnvironment(state, environmentId, (environment) =>
        withOverrides(environment, featureId, (overrides) =>
          overrides.map((override) => (override.segmentId === segmentId ? { ...override, enabled, value, allocations, revision } : override)),
        ),
      );
    }
    case 'SegmentOverrideRemoved': {
      const { environmentId, featureId, segmentId } = event.data;
      return withEnvironment(state, environmentId, (environment) =>
        withOverrides(environment, featureId, (overrides) => overrides.filter((override) => override.segmentId !== segmentId)),
      );
    }
    case 'SegmentOverridesReordered': {
      const { environmentId, featureId, segmentIds } = event.data;
      return withEnvironment(state, environmentId, (environment) =>
        withOverrides(environment, featureId, (overrides) =>
          segmentIds
            .map((segmentId) => overrides.find((override) => override.segmentId === segmentId))
            .filter((override): override is SegmentOverride => override !== undefined),
        ),
      );
    }
  }
}
