import { checkRevision, ConflictError, NotFoundError } from '../shared/domain-error';
import type { ProjectCommand } from './project.commands';
import type { ProjectEvent } from './project.events';
import { activeProject, checkAllocations, referencedFeature, referencedSegment, targetEnvironment, targetFeature, targetSegment } from './project.guards';
import type { Environment, Feature, FeatureStateValue, Project, SegmentOverride } from './project.state';
import { checkNoNewCycle, projectAfter } from './feature-dependencies';
import { flagReadsOf } from '../segment/flag-reference';

type Command<T extends ProjectCommand['type']> = Extract<ProjectCommand, { type: T }>;

function sameAllocations(a: FeatureStateValue['allocations'], b: FeatureStateValue['allocations']): boolean {
  return a.length === b.length && a.every((allocation, index) => allocation.optionId === b[index]?.optionId && allocation.percentage === b[index]?.percentage);
}

export function changeFeatureState(command: Command<'ChangeFeatureState'>, state: Project): ProjectEvent | ProjectEvent[] {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const feature = targetFeature(project, command.featureId);
  const current = environment.featureStates.get(feature.featureId);
  if (!current) throw new NotFoundError('FEATURE_STATE.NOT_FOUND', `Feature ${feature.featureId} has no state in this environment`);
  checkRevision('feature state', command.expectedRevision, current.revision);
  const enabled = command.enabled ?? current.enabled;
  const value = command.value !== undefined ? command.value : current.value;
  const allocations = command.allocations ? checkAllocations(feature, command.allocations) : [...current.allocations];
  if (enabled === current.enabled && value === current.value && sameAllocations(allocations, current.allocations)) return [];
  return {
    type: 'FeatureStateChanged',
    data: {
      projectId: project.projectId,
      environmentId: environment.environmentId,
      featureId: feature.featureId,
      featureStateId: current.featureStateId,
      enabled,
      value,
      allocations,
    },
  };
}

function overridesOf(environment: Environment, featureId: number): readonly SegmentOverride[] {
  return environment.segmentOverrides.get(featureId) ?? [];
}

function targetOverride(environment: Environment, feature: Feature, segmentId: number): SegmentOverride {
  const override = overridesOf(environment, feature.featureId).find((candidate) => candidate.segmentId === segmentId);
  if (!override) throw new NotFoundError('SEGMENT_OVERRIDE.NOT_FOUND', `No override of feature ${feature.featureId} for segment ${segmentId} here`);
  return override;
}

export function createSegmentOverride(command: Command<'CreateSegmentOverride'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const feature = referencedFeature(project, command.featureId);
  const segment = referencedSegment(project, command.segmentId);
  const existing = overridesOf(environment, feature.featureId);
  if (existing.some((override) => override.segmentId === segment.segmentId))
    throw new ConflictError('SEGMENT_OVERRIDE.EXISTS', `Feature ${feature.featureId} already has an override for segment ${segment.segmentId} here`);
  const allocations = command.allocations
    ? checkAllocations(feature, command.allocations)
    : feature.options.map((option) => ({ optionId: option.optionId, percentage: option.defaultAllocation }));
  const priority = Math.max(0, Math.min(Math.trunc(command.priority ?? existing.length), existing.length));
  const event: ProjectEvent = {
    type: 'SegmentOverrideCreated',
    data: {
      projectId: project.projectId,
      environmentId: environment.environmentId,
      featureId: feature.featureId,
      segmentId: segment.segmentId,
      featureStateId: command.featureStateId,
      enabled: command.enabled,
      value: command.value,
      allocations,
      priority,
    },
  };
  // Overriding a feature with a segment that reads flags makes the feature depend on them.
  if (flagReadsOf(segment.rules).length > 0) checkNoNewCycle(project, projectAfter(project, [event]));
  return event;
}

export function changeSegmentOverride(command: Command<'ChangeSegmentOverride'>, state: Project): ProjectEvent | ProjectEvent[] {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const feature = targetFeature(project, command.featureId);
  targetSegment(project, command.segmentId);
  const current = targetOverride(environment, feature, command.segmentId);
  checkRevision('segment override', command.expectedRevision, current.revision);
  const enabled = command.enabled ?? current.enabled;
  const value = command.value !== undefined ? command.value : current.value;
  const allocations = command.allocations ? checkAllocations(feature, command.allocations) : [...current.allocations];
  if (enabled === current.enabled && value === current.value && sameAllocations(allocations, current.allocations)) return [];
  return {
    type: 'SegmentOverrideChanged',
    data: { projectId: project.projectId, environmentId: environment.environmentId, featureId: feature.featureId, segmentId: current.segmentId, enabled, value, allocations },
  };
}

export function removeSegmentOverride(command: Command<'RemoveSegmentOverride'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const feature = targetFeature(project, command.featureId);
  const current = targetOverride(environment, feature, command.segmentId);
  return {
    type: 'SegmentOverrideRemoved',
    data: { projectId: project.projectId, environmentId: environment.environmentId, featureId: feature.featureId, segmentId: current.segmentId },
  };
}

export function reorderSegmentOverrides(command: Command<'ReorderSegmentOverrides'>, state: Project): ProjectEvent | ProjectEvent[] {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const feature = targetFeature(project, command.featureId);
  const current = overridesOf(environment, feature.featureId).map((override) => override.segmentId);
  const wanted = [...command.segmentIds];
  const sameSet = wanted.length === current.length && new Set(wanted).size === wanted.length && wanted.every((id) => current.includes(id));
  if (!sameSet)
    throw new ConflictError(
      'SEGMENT_OVERRIDE.ORDER_MISMATCH',
      `The new order must list each overridden segment of feature ${feature.featureId} exactly once: ${current.join(', ') || 'none'}`,
    );
  if (wanted.every((id, index) => id === current[index])) return [];
  return {
    type: 'SegmentOverridesReordered',
    data: { projectId: project.projectId, environmentId: environment.environmentId, featureId: feature.featureId, segmentIds: wanted },
  };
}
