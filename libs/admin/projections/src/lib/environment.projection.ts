import { IDENTITY_EVENT_TYPES, isErasedIdentityEvent, PROJECT_EVENT_TYPES, type Allocation, type FeatureValue, type ProjectEvent, type IdentityEvent } from '@flagline/admin-domain';
import { initialFeatureState } from '@flagline/admin-domain';
import {
  deepFreeze,
  identityUuidFor,
  READ_MODEL_SCHEMA_VERSION,
  type EnvironmentDocument,
  type FeatureDocument,
  type FeatureStateDocument,
  type IdentityDocument,
  type IdentityOverridesDocument,
  type ProjectDocument,
} from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { featureStateUuid } from './state-uuid';

/** Documents an event may change, loaded before it is applied. */
export interface ProjectionInput {
  readonly project: ProjectDocument | null;
  readonly environments: ReadonlyMap<number, EnvironmentDocument>;
  readonly identity: IdentityDocument | null;
}

/** What applying an event changes. Absent keys stay as they are. */
export interface ProjectionOutput {
  readonly project?: ProjectDocument | null;
  readonly environments: ReadonlyMap<number, EnvironmentDocument | null>;
  readonly identity?: { readonly environmentId: number; readonly identifier: string; readonly document: IdentityDocument | null };
  /** Environments whose identity documents must all go (environment or project deleted). */
  readonly dropIdentitiesOf: readonly number[];
}

export type ProjectableEvent = RecordedEvent<ProjectEvent | IdentityEvent>;

/**
 * Narrows a stored event to the ones this projection reads: project and identity events. An
 * identity event read as erased is not: its identity was erased (its document dropped when its
 * `IdentityErased` was projected, or never made in a rebuild), and it no longer says whose it was.
 */
export function isProjectable(event: RecordedEvent): event is ProjectableEvent {
  return PROJECT_EVENT_TYPES.has(event.type) || (IDENTITY_EVENT_TYPES.has(event.type) && !isErasedIdentityEvent(event));
}

/** The project an event belongs to: the projection's ordering and checkpoint partition. */
export function projectIdOf(event: ProjectableEvent): number {
  return event.data.projectId;
}

/** Which environments' documents the event needs, given the project as the projector knows it. */
export function environmentsTouchedBy(event: ProjectableEvent, project: ProjectDocument | null): number[] {
  const all = project ? [...project.environmentIds] : [];
  switch (event.type) {
    case 'ProjectCreated':
    case 'TagCreated':
    case 'TagChanged':
    case 'TagDeleted':
    case 'FeatureTagsChanged':
      return [];
    case 'EnvironmentCreated':
    case 'EnvironmentCloned':
    case 'EnvironmentRenamed':
    case 'EnvironmentSettingsChanged':
    case 'EnvironmentDeleted':
    case 'ServerKeyIssued':
    case 'ServerKeyRevoked':
    case 'FeatureStateChanged':
    case 'SegmentOverrideCreated':
    case 'SegmentOverrideChanged':
    case 'SegmentOverrideRemoved':
    case 'SegmentOverridesReordered':
    case 'IdentityCreated':
    case 'IdentityTraitsChanged':
    case 'IdentityOverrideSet':
    case 'IdentityOverrideRemoved':
    case 'IdentityDeleted':
    case 'IdentityErased':
      return [event.data.environmentId];
    case 'ProjectSettingsChanged':
    case 'ProjectDeleted':
    case 'FeatureCreated':
    case 'FeatureRenamed':
    case 'FeatureDescriptionChanged':
    case 'FeatureDefaultsChanged':
    case 'FeatureVisibilityChanged':
    case 'FeatureArchived':
    case 'FeatureUnarchived':
    case 'FeatureDeleted':
    case 'MultivariateOptionAdded':
    case 'MultivariateOptionChanged':
    case 'MultivariateOptionRemoved':
    case 'SegmentCreated':
    case 'SegmentRenamed':
    case 'SegmentDescriptionChanged':
    case 'SegmentRuleChanged':
    case 'SegmentDeleted':
      return all;
  }
}

/**
 * The environment documents an identity event reads, given the identity's document: none when it
 * cannot change the environment's (new traits; deleting an identity without overrides), its
 * environment's otherwise (overrides change it; a new identity must find its environment).
 */
export function environmentsAnIdentityEventReads(event: RecordedEvent<IdentityEvent> | ProjectableEvent, identity: IdentityDocument | null): number[] {
  if (!IDENTITY_EVENT_TYPES.has(event.type)) return [];
  const { environmentId } = (event as RecordedEvent<IdentityEvent>).data;
  if (event.type === 'IdentityTraitsChanged') return [];
  if (event.type === 'IdentityDeleted' || event.type === 'IdentityErased') return identity && identity.overrides.length > 0 ? [environmentId] : [];
  return [environmentId];
}

/** The identity document an identity event needs. */
export function identityTouchedBy(event: ProjectableEvent): { environmentId: number; identifier: string } | null {
  return IDENTITY_EVENT_TYPES.has(event.type)
    ? { environmentId: (event.data as IdentityEvent['data']).environmentId, identifier: (event.data as IdentityEvent['data']).identifier }
    : null;
}

function stateDocument(id: number, enabled: boolean, value: FeatureValue, allocations: readonly Allocation[]): FeatureStateDocument {
  return { id, uuid: featureStateUuid(id), enabled, value, allocations: allocations.map((a) => ({ optionId: a.optionId, percentage: a.percentage })) };
}

function byId<T extends { id: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.id - b.id);
}

/**
 * `next`, built to replace `source` with `added` among members of `source`: frozen, its new members
 * deep-frozen, when `source` is (a stored document's frozen part reaches only frozen parts), so the
 * store, which freezes what it is given, stops at it instead of visiting its thousands of members.
 */
function frozenLike<T>(source: readonly T[], next: T[], added: T): readonly T[] {
  if (!Object.isFrozen(source)) return next;
  deepFreeze(added);
  return Object.freeze(next);
}

/** `items` (in id order) with `item` in its place: after every id not above its own, as a stable sort puts it. */
function insertedById<T>(items: readonly T[], item: T, idOf: (item: T) => number): readonly T[] {
  const id = idOf(item);
  const last = items[items.length - 1];
  if (last === undefined || idOf(last) <= id) return frozenLike(items, [...items, item], item);
  const index = items.findIndex((candidate) => idOf(candidate) > id);
  return frozenLike(items, [...items.slice(0, index), item, ...items.slice(index)], item);
}

function withFeatureDoc(project: ProjectDocument, featureId: number, change: (feature: FeatureDocument) => FeatureDocument): ProjectDocument {
  return { ...project, features: project.features.map((feature) => (feature.id === featureId ? change(feature) : feature)) };
}

/**
 * Re-syncs the project-level parts of an environment document (features, segment definitions,
 * project settings). Parts that did not change stay the same objects (structural sharing), so the
 * stores and the evaluation tier see, and pay for, only what changed.
 */
function syncFromProject(environment: EnvironmentDocument, project: ProjectDocument): EnvironmentDocument {
  const entries = new Map(environment.features.map((entry) => [entry.feature.id, entry]));
  const segments = new Map(environment.segments.map((segment) => [segment.id, segment]));
  const featureIds = new Set(project.features.map((feature) => feature.id));
  const known = (override: { readonly featureId: number }): boolean => featureIds.has(override.featureId);
  return {
    ...environment,
    project: { id: project.projectId, name: project.name, organisationId: project.organisationId, hideDisabledFlags: project.hideDisabledFlags },
    features: project.features.flatMap((feature) => {
      const entry = entries.get(feature.id);
      if (!entry) return [];
      return [entry.feature === feature ? entry : { feature, state: entry.state }];
    }),
    segments: project.segments.map((segment) => {
      const current = segments.get(segment.id);
      const overrides = current?.overrides ?? [];
      const kept = overrides.every(known) ? overrides : overrides.filter(known);
      const same = current !== undefined && kept === overrides && Object.entries(segment).every(([key, value]) => current[key as keyof typeof segment] === value);
      return same ? current : { ...segment, overrides: kept };
    }),
    identityOverrides: environment.identityOverrides.flatMap((identity) => {
      if (identity.overrides.every(known)) return [identity];
      const overrides = identity.overrides.filter(known);
      return overrides.length > 0 ? [{ ...identity, overrides }] : [];
    }),
  };
}

function emptyEnvironment(project: ProjectDocument, data: Extract<ProjectEvent, { type: 'EnvironmentCreated' | 'EnvironmentCloned' }>['data']): EnvironmentDocument {
  return {
    schemaVersion: READ_MODEL_SCHEMA_VERSION,
    environmentId: data.environmentId,
    name: data.name,
    apiKey: data.apiKey,
    serverKeys: [],
    settings: { ...data.settings },
    project: { id: project.projectId, name: project.name, organisationId: project.organisationId, hideDisabledFlags: project.hideDisabledFlags },
    features: [],
    segments: [],
    identityOverrides: [],
    revision: 0,
    updatedAt: data.createdAt,
  };
}

/**
 * Where a feature's entry is in an environment's list, -1 if nowhere: found by halving, as the list
 * is in feature id order (as the project's is), and looked for entry by entry only when that fails,
 * so a list out of order is still searched right.
 */
function entryIndex(features: EnvironmentDocument['features'], featureId: number): number {
  let low = 0;
  let high = features.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = features[middle];
    if (entry === undefined) break;
    const id = entry.feature.id;
    if (id === featureId) return middle;
    if (id < featureId) low = middle + 1;
    else high = middle - 1;
  }
  return features.findIndex((entry) => entry.feature.id === featureId);
}

function withState(environment: EnvironmentDocument, featureId: number, state: FeatureStateDocument): EnvironmentDocument {
  const index = entryIndex(environment.features, featureId);
  const entry = environment.features[index];
  if (entry === undefined) return environment;
  const changed = { ...entry, state };
  const features = [...environment.features];
  features[index] = changed;
  return { ...environment, features: frozenLike(environment.features, features, changed) };
}

/** Rewrites the override list of one feature across segments from an ordered list. */
function withFeatureOverrides(
  environment: EnvironmentDocument,
  featureId: number,
  change: (ordered: { segmentId: number; state: FeatureStateDocument }[]) => { segmentId: number; state: FeatureStateDocument }[],
): EnvironmentDocument {
  const current = environment.segments
    .flatMap((segment) => segment.overrides.filter((o) => o.featureId === featureId).map((o) => ({ segmentId: segment.id, priority: o.priority, state: o.state })))
    .sort((a, b) => a.priority - b.priority);
  const next = change(current);
  const priorities = new Map(next.map((entry, index) => [entry.segmentId, { priority: index, state: entry.state }]));
  return {
    ...environment,
    segments: environment.segments.map((segment) => {
      const others = segment.overrides.filter((o) => o.featureId !== featureId);
      const mine = priorities.get(segment.id);
      const overrides = mine ? [...others, { featureId, priority: mine.priority, state: mine.state }] : others;
      return { ...segment, overrides: overrides.sort((a, b) => a.featureId - b.featureId) };
    }),
  };
}

function allocationsWithout(state: FeatureStateDocument, optionId: number): FeatureStateDocument {
  return { ...state, allocations: state.allocations.filter((a) => a.optionId !== optionId) };
}

function identityOverridesWith(environment: EnvironmentDocument, identity: IdentityDocument): EnvironmentDocument {
  const others = environment.identityOverrides.filter((entry) => entry.identifier !== identity.identifier);
  const entry: IdentityOverridesDocument = {
    identifier: identity.identifier,
    identityUuid: identity.identityUuid,
    createdAt: identity.createdAt,
    overrides: identity.overrides,
  };
  const list = identity.overrides.length > 0 ? [...others, entry] : others;
  return { ...environment, identityOverrides: list.sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0)) };
}

/**
 * Applies one event to the documents it touches. Pure and deterministic: the same events give
 * the same documents, which is what makes a rebuild from the log equal the live result.
 */
export function applyToEnvironments(event: ProjectableEvent, input: ProjectionInput): ProjectionOutput {
  const out = new Map<number, EnvironmentDocument | null>();
  const touched = (environmentId: number, change: (environment: EnvironmentDocument) => EnvironmentDocument | null): void => {
    const current = out.has(environmentId) ? out.get(environmentId) : input.environments.get(environmentId);
    if (!current) return;
    const next = change(current);
    out.set(environmentId, next ? { ...next, revision: current.revision + 1, updatedAt: event.metadata.occurredAt } : null);
  };
  const everyEnvironment = (project: ProjectDocument, change: (environment: EnvironmentDocument) => EnvironmentDocument | null): void => {
    for (const environmentId of project.environmentIds) touched(environmentId, change);
  };
  const projectChanged = (project: ProjectDocument): ProjectionOutput => {
    everyEnvironment(project, (environment) => syncFromProject(environment, project));
    return { project, environments: out, dropIdentitiesOf: [] };
  };

  if (IDENTITY_EVENT_TYPES.has(event.type)) return applyIdentityEvent(event as RecordedEvent<IdentityEvent>, input, out, touched);
  const project = input.project;
  if (event.type === 'ProjectCreated') {
    const { projectId, organisationId, name, hideDisabledFlags } = event.data;
    return { project: { projectId, organisationId, name, hideDisabledFlags, environmentIds: [], features: [], segments: [] }, environments: out, dropIdentitiesOf: [] };
  }
  if (!project) return { environments: out, dropIdentitiesOf: [] };

  switch (event.type) {
    case 'ProjectSettingsChanged':
      return projectChanged({ ...project, name: event.data.name, hideDisabledFlags: event.data.hideDisabledFlags });
    case 'ProjectDeleted':
      everyEnvironment(project, () => null);
      return { project: null, environments: out, dropIdentitiesOf: [...project.environmentIds] };
    case 'TagCreated':
    case 'TagChanged':
    case 'TagDeleted':
    case 'FeatureTagsChanged':
      return { environments: out, dropIdentitiesOf: [] };

    case 'FeatureCreated': {
      const data = event.data;
      const feature: FeatureDocument = {
        id: data.featureId,
        name: data.name,
        type: data.type,
        description: data.description,
        initialValue: data.initialValue,
        defaultEnabled: data.defaultEnabled,
        isServerKeyOnly: data.isServerKeyOnly,
        isArchived: false,
        createdAt: data.createdAt,
        options: data.options.map((o) => ({ id: o.optionId, value: o.value, key: o.key, defaultAllocation: o.defaultAllocation })),
      };
      const next = { ...project, features: insertedById(project.features, feature, (f) => f.id) };
      // Only the new feature's entry changes: every other part of the documents stays as it is.
      for (const { environmentId, featureStateId } of data.environmentStates) {
        const initial = initialFeatureState(data, featureStateId, 0);
        const entry = { feature, state: stateDocument(featureStateId, initial.enabled, initial.value, initial.allocations) };
        touched(environmentId, (environment) => ({ ...environment, features: insertedById(environment.features, entry, (e) => e.feature.id) }));
      }
      return { project: next, environments: out, dropIdentitiesOf: [] };
    }
    case 'FeatureRenamed':
      return projectChanged(withFeatureDoc(project, event.data.featureId, (f) => ({ ...f, name: event.data.name })));
    case 'FeatureDescriptionChanged':
      return projectChanged(withFeatureDoc(project, event.data.featureId, (f) => ({ ...f, description: event.data.description })));
    case 'FeatureDefaultsChanged':
      return projectChanged(
        withFeatureDoc(project, event.data.featureId, (f) => ({ ...f, defaultEnabled: event.data.defaultEnabled, initialValue: event.data.initialValue })),
      );
    case 'FeatureVisibilityChanged':
      return projectChanged(withFeatureDoc(project, event.data.featureId, (f) => ({ ...f, isServerKeyOnly: event.data.isServerKeyOnly })));
    case 'FeatureArchived':
    case 'FeatureUnarchived':
      return projectChanged(withFeatureDoc(project, event.data.featureId, (f) => ({ ...f, isArchived: event.type === 'FeatureArchived' })));
    case 'FeatureDeleted':
      return projectChanged({ ...project, features: project.features.filter((f) => f.id !== event.data.featureId) });
    case 'MultivariateOptionAdded': {
      const { featureId, option } = event.data;
      const next = withFeatureDoc(project, featureId, (f) => ({
        ...f,
        type: 'MULTIVARIATE',
        options: [...f.options, { id: option.optionId, value: option.value, key: option.key, defaultAllocation: option.defaultAllocation }],
      }));
      everyEnvironment(next, (environment) => {
        const entry = environment.features.find((e) => e.feature.id === featureId);
        const synced = syncFromProject(environment, next);
        if (!entry) return synced;
        return withState(synced, featureId, {
          ...entry.state,
          allocations: [...entry.state.allocations, { optionId: option.optionId, percentage: option.defaultAllocation }],
        });
      });
      return { project: next, environments: out, dropIdentitiesOf: [] };
    }
    case 'MultivariateOptionChanged': {
      const { featureId, option } = event.data;
      return projectChanged(
        withFeatureDoc(project, featureId, (f) => ({
          ...f,
          options: f.options.map((o) => (o.id === option.optionId ? { id: option.optionId, value: option.value, key: option.key, defaultAllocation: option.defaultAllocation } : o)),
        })),
      );
    }
    case 'MultivariateOptionRemoved': {
      const { featureId, optionId } = event.data;
      const next = withFeatureDoc(project, featureId, (f) => ({ ...f, options: f.options.filter((o) => o.id !== optionId) }));
      everyEnvironment(next, (environment) => {
        const synced = syncFromProject(environment, next);
        const entry = synced.features.find((e) => e.feature.id === featureId);
        const withDefault = entry ? withState(synced, featureId, allocationsWithout(entry.state, optionId)) : synced;
        return withFeatureOverrides(withDefault, featureId, (ordered) => ordered.map((o) => ({ ...o, state: allocationsWithout(o.state, optionId) })));
      });
      return { project: next, environments: out, dropIdentitiesOf: [] };
    }

    case 'SegmentCreated': {
      const { segmentId, name, rules } = event.data;
      return projectChanged({ ...project, segments: byId([...project.segments, { id: segmentId, name, rules: rules }]) });
    }
    case 'SegmentRenamed':
      return projectChanged({ ...project, segments: project.segments.map((s) => (s.id === event.data.segmentId ? { ...s, name: event.data.name } : s)) });
    case 'SegmentDescriptionChanged':
      return { environments: out, dropIdentitiesOf: [] };
    case 'SegmentRuleChanged':
      return projectChanged({
        ...project,
        segments: project.segments.map((s) => (s.id === event.data.segmentId ? { ...s, rules: event.data.rules } : s)),
      });
    case 'SegmentDeleted': {
      const segmentId = event.data.segmentId;
      const next = { ...project, segments: project.segments.filter((s) => s.id !== segmentId) };
      everyEnvironment(next, (environment) => {
        const removedFrom = environment.segments.find((s) => s.id === segmentId)?.overrides.map((o) => o.featureId) ?? [];
        let synced = syncFromProject(environment, next);
        // Priorities of the remaining overrides close the gap the segment leaves.
        for (const featureId of removedFrom) synced = withFeatureOverrides(synced, featureId, (ordered) => ordered);
        return synced;
      });
      return { project: next, environments: out, dropIdentitiesOf: [] };
    }

    case 'EnvironmentCreated': {
      const data = event.data;
      const features = new Map(project.features.map((f) => [f.id, f]));
      const environment: EnvironmentDocument = {
        ...emptyEnvironment(project, data),
        features: data.featureStates.flatMap(({ featureId, featureStateId }) => {
          const feature = features.get(featureId);
          if (!feature) return [];
          const allocations = feature.options.map((o) => ({ optionId: o.id, percentage: o.defaultAllocation }));
          return [{ feature, state: stateDocument(featureStateId, feature.defaultEnabled, feature.initialValue, allocations) }];
        }),
      };
      out.set(data.environmentId, { ...syncFromProject(environment, project), revision: 1, updatedAt: event.metadata.occurredAt });
      return { project: { ...project, environmentIds: [...project.environmentIds, data.environmentId].sort((a, b) => a - b) }, environments: out, dropIdentitiesOf: [] };
    }
    case 'EnvironmentCloned': {
      const data = event.data;
      const features = new Map(project.features.map((f) => [f.id, f]));
      let environment: EnvironmentDocument = {
        ...emptyEnvironment(project, data),
        features: data.featureStates.flatMap(({ featureId, featureStateId, enabled, value, allocations }) => {
          const feature = features.get(featureId);
          return feature ? [{ feature, state: stateDocument(featureStateId, enabled, value, allocations) }] : [];
        }),
      };
      environment = syncFromProject(environment, project);
      const byFeature = new Map<number, { segmentId: number; state: FeatureStateDocument }[]>();
      for (const o of data.segmentOverrides) {
        byFeature.set(o.featureId, [...(byFeature.get(o.featureId) ?? []), { segmentId: o.segmentId, state: stateDocument(o.featureStateId, o.enabled, o.value, o.allocations) }]);
      }
      for (const [featureId, ordered] of byFeature) environment = withFeatureOverrides(environment, featureId, () => ordered);
      out.set(data.environmentId, { ...environment, revision: 1, updatedAt: event.metadata.occurredAt });
      return { project: { ...project, environmentIds: [...project.environmentIds, data.environmentId].sort((a, b) => a - b) }, environments: out, dropIdentitiesOf: [] };
    }
    case 'EnvironmentRenamed':
      touched(event.data.environmentId, (environment) => ({ ...environment, name: event.data.name }));
      return { environments: out, dropIdentitiesOf: [] };
    case 'EnvironmentSettingsChanged':
      touched(event.data.environmentId, (environment) => ({ ...environment, settings: { ...event.data.settings } }));
      return { environments: out, dropIdentitiesOf: [] };
    case 'EnvironmentDeleted': {
      const environmentId = event.data.environmentId;
      touched(environmentId, () => null);
      return {
        project: { ...project, environmentIds: project.environmentIds.filter((id) => id !== environmentId) },
        environments: out,
        dropIdentitiesOf: [environmentId],
      };
    }
    case 'ServerKeyIssued': {
      const { keyId, keyHash } = event.data;
      touched(event.data.environmentId, (environment) => ({
        ...environment,
        serverKeys: [...environment.serverKeys, { keyId, keyHash }].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
      }));
      return { environments: out, dropIdentitiesOf: [] };
    }
    case 'ServerKeyRevoked':
      touched(event.data.environmentId, (environment) => ({
        ...environment,
        serverKeys: environment.serverKeys.filter((key) => key.keyId !== event.data.keyId),
      }));
      return { environments: out, dropIdentitiesOf: [] };
    case 'FeatureStateChanged': {
      const { environmentId, featureId, featureStateId, enabled, value, allocations } = event.data;
      touched(environmentId, (environment) => withState(environment, featureId, stateDocument(featureStateId, enabled, value, allocations)));
      return { environments: out, dropIdentitiesOf: [] };
    }
    case 'SegmentOverrideCreated': {
      const { environmentId, featureId, segmentId, featureStateId, enabled, value, allocations, priority } = event.data;
      const state = stateDocument(featureStateId, enabled, value, allocations);
      touched(environmentId, (environment) =>
        withFeatureOverrides(environment, featureId, (ordered) => [...ordered.slice(0, priority), { segmentId, state }, ...ordered.slice(priority)]),
      );
      return { environments: out, dropIdentitiesOf: [] };
    }
    case 'SegmentOverrideChanged': {
      const { environmentId, featureId, segmentId, enabled, value, allocations } = event.data;
      touched(environmentId, (environment) =>
        withFeatureOverrides(environment, featureId, (ordered) =>
          ordered.map((o) => (o.segmentId === segmentId ? { segmentId, state: stateDocument(o.state.id ?? 0, enabled, value, allocations) } : o)),
        ),
      );
      return { environments: out, dropIdentitiesOf: [] };
    }
    case 'SegmentOverrideRemoved': {
      const { environmentId, featureId, segmentId } = event.data;
      touched(environmentId, (environment) => withFeatureOverrides(environment, featureId, (ordered) => ordered.filter((o) => o.segmentId !== segmentId)));
      return { environments: out, dropIdentitiesOf: [] };
    }
    case 'SegmentOverridesReordered': {
      const { environmentId, featureId, segmentIds } = event.data;
      touched(environmentId, (environment) =>
        withFeatureOverrides(environment, featureId, (ordered) =>
          segmentIds.flatMap((segmentId) => ordered.filter((o) => o.segmentId === segmentId)),
        ),
      );
      return { environments: out, dropIdentitiesOf: [] };
    }

    case 'IdentityCreated':
    case 'IdentityTraitsChanged':
    case 'IdentityOverrideSet':
    case 'IdentityOverrideRemoved':
    case 'IdentityDeleted':
    case 'IdentityErased':
      return applyIdentityEvent(event, input, out, touched);
  }
}

function identityOverrideState(override: Extract<IdentityEvent, { type: 'IdentityOverrideSet' }>['data']): FeatureStateDocument {
  return {
    id: null,
    uuid: override.featureStateUuid,
    enabled: override.enabled,
    value: override.value,
    allocations: override.allocations.map((a) => ({ optionId: a.optionId, percentage: a.percentage })),
  };
}

/**
 * The identity document with its traits changed: `removed` dropped, `set` added, in key order;
 * `floats` (sorted, absent when none) names the traits whose integral number is a float.
 */
function withTraitChange(
  identity: IdentityDocument,
  set: Readonly<Record<string, string | number | boolean>>,
  setFloats: readonly string[],
  removed: readonly string[],
): IdentityDocument {
  // Spread, not assignment: a trait may be named "__proto__".
  const traits: Record<string, string | number | boolean> = { ...identity.traits, ...set };
  for (const key of removed) delete traits[key];
  const floats = new Set(identity.floats);
  for (const key of [...Object.keys(set), ...removed]) floats.delete(key);
  for (const key of setFloats) floats.add(key);
  const { floats: _previous, ...rest } = identity;
  return { ...rest, traits: sortedTraits(traits), ...(floats.size > 0 ? { floats: [...floats].sort() } : {}) };
}

/**
 * The traits in key order (UTF-16 code units: `sort`'s own order, with no comparator to call), as
 * own properties (a trait may be named "__proto__", which an assignment would take for the
 * prototype). About a third of the CPU of sorting entries and `Object.fromEntries` (5 traits).
 */
function sortedTraits(traits: Readonly<Record<string, string | number | boolean>>): Record<string, string | number | boolean> {
  const sorted: Record<string, string | number | boolean> = {};
  for (const key of Object.keys(traits).sort()) {
    const value = traits[key] as string | number | boolean;
    if (key === '__proto__') Object.defineProperty(sorted, key, { value, enumerable: true, writable: true, configurable: true });
    else sorted[key] = value;
  }
  return sorted;
}

function applyIdentityEvent(
  event: RecordedEvent<IdentityEvent>,
  input: ProjectionInput,
  out: Map<number, EnvironmentDocument | null>,
  touched: (environmentId: number, change: (environment: EnvironmentDocument) => EnvironmentDocument | null) => void,
): ProjectionOutput {
  const { environmentId, identifier } = event.data;
  const current = input.identity;
  // Identities of environments the projector does not know (deleted, or never created) are ignored.
  // An identity document exists only in a known environment (deleting one drops its identities),
  // so events about a stored identity that leave the environment's document alone need not read it.
  const environmentKnown = input.environments.has(environmentId);
  const readsEnvironment = environmentsAnIdentityEventReads(event, current).length > 0;
  if (readsEnvironment ? !environmentKnown : !current) return { environments: out, dropIdentitiesOf: [] };
  const result = (document: IdentityDocument | null): ProjectionOutput => ({
    environments: out,
    identity: { environmentId, identifier, document },
    dropIdentitiesOf: [],
  });
  switch (event.type) {
    // Stored older versions were upcast where the event was read (the event store's boundary).
    case 'IdentityCreated': {
      // What withTraitChange gives from no traits, built at once (the commonest identity event).
      const { traits, floats } = event.data;
      return result({
        environmentId,
        identifier,
        // Flagsmith's identity_uuid seeds bucketing: derived as the evaluation side derives it for an
        // identity not stored yet, whatever this instance's identity ids are (see identityIdsWith).
        identityUuid: identityUuidFor(environmentId, identifier),
        createdAt: event.data.createdAt,
        traits: sortedTraits(traits),
        overrides: [],
        revision: 1,
        ...(floats.length > 0 ? { floats: [...new Set(floats)].sort() } : {}),
      });
    }
    case 'IdentityTraitsChanged': {
      if (!current) return { environments: out, dropIdentitiesOf: [] };
      const { set, floats, removed } = event.data;
      return result({ ...withTraitChange(current, set, floats, removed), revision: current.revision + 1 });
    }
    case 'IdentityOverrideSet':
    case 'IdentityOverrideRemoved': {
      if (!current) return { environments: out, dropIdentitiesOf: [] };
      const featureId = event.data.featureId;
      const others = current.overrides.filter((o) => o.featureId !== featureId);
      const overrides =
        event.type === 'IdentityOverrideSet' ? [...others, { featureId, state: identityOverrideState(event.data) }].sort((a, b) => a.featureId - b.featureId) : others;
      const next = { ...current, overrides, revision: current.revision + 1 };
      touched(environmentId, (environment) => identityOverridesWith(environment, next));
      return result(next);
    }
    // Erased: the document goes as on a delete (and with it the identifier it was kept under).
    case 'IdentityDeleted':
    case 'IdentityErased': {
      if (current && current.overrides.length > 0) touched(environmentId, (environment) => identityOverridesWith(environment, { ...current, overrides: [] }));
      return result(null);
    }
  }
}
