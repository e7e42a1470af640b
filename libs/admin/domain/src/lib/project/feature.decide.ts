import { checkRevision, ConflictError, NotFoundError } from '../shared/domain-error';
import { allocationsProblem } from '../shared/values';
import type { ProjectCommand } from './project.commands';
import type { ProjectEvent } from './project.events';
import { activeProject, isFeatureNameTaken, referencedTags, targetFeature } from './project.guards';
import type { Feature, MultivariateOption, Project } from './project.state';
import { checkNoNewCycle, checkNotRead, projectAfter } from './feature-dependencies';

type Command<T extends ProjectCommand['type']> = Extract<ProjectCommand, { type: T }>;

function checkOptions(options: readonly MultivariateOption[]): void {
  const keys = options.map((option) => option.key).filter((key): key is string => key !== null && key !== '');
  if (new Set(keys).size !== keys.length) throw new ConflictError('MULTIVARIATE_OPTION.KEY_TAKEN', 'Multivariate option keys must be unique within a feature');
  const problem = allocationsProblem(options.map((option) => ({ optionId: option.optionId, percentage: option.defaultAllocation })));
  if (problem) throw new ConflictError('ALLOCATION.INVALID', `Default allocations: ${problem}`);
}

export function createFeature(command: Command<'CreateFeature'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  if (isFeatureNameTaken(project, command.name))
    throw new ConflictError('FEATURE.NAME_TAKEN', `A feature named "${command.name}" already exists in this project (names are case-insensitive)`);
  if (command.featureType === 'STANDARD' && command.options.length > 0)
    throw new ConflictError('FEATURE.OPTIONS_NEED_MULTIVARIATE', 'Only a MULTIVARIATE feature has multivariate options');
  checkOptions(command.options);
  const environments = [...project.environments.values()];
  if (command.featureStateIds.length !== environments.length) throw new Error('CreateFeature needs one feature state id per environment');
  return {
    type: 'FeatureCreated',
    data: {
      projectId: project.projectId,
      featureId: command.featureId,
      name: command.name,
      description: command.description,
      type: command.featureType,
      defaultEnabled: command.defaultEnabled,
      initialValue: command.initialValue,
      tagIds: referencedTags(project, command.tagIds),
      isServerKeyOnly: command.isServerKeyOnly,
      options: command.options.map((option) => ({ ...option })),
      createdAt: command.now,
      environmentStates: environments.map((environment, index) => ({
        environmentId: environment.environmentId,
        featureStateId: command.featureStateIds[index] as number,
      })),
    },
  };
}

export function changeFeature(command: Command<'ChangeFeature'>, state: Project): ProjectEvent[] {
  const project = activeProject(state);
  const feature = targetFeature(project, command.featureId);
  checkRevision('feature', command.expectedRevision, feature.revision);
  const ids = { projectId: project.projectId, featureId: feature.featureId };
  const events: ProjectEvent[] = [];
  if (command.name !== undefined && command.name !== feature.name) {
    if (isFeatureNameTaken(project, command.name, feature.featureId))
      throw new ConflictError('FEATURE.NAME_TAKEN', `A feature named "${command.name}" already exists in this project (names are case-insensitive)`);
    // Segments read flags by name: renaming a feature they read would leave the reads dangling.
    checkNotRead(project, feature, 'renamed');
    events.push({ type: 'FeatureRenamed', data: { ...ids, name: command.name } });
    // The new name may be one a segment already reads (written before the feature existed under it).
    checkNoNewCycle(project, projectAfter(project, events));
  }
  if (command.description !== undefined && command.description !== feature.description)
    events.push({ type: 'FeatureDescriptionChanged', data: { ...ids, description: command.description } });
  if (command.tagIds !== undefined) {
    const tagIds = referencedTags(project, command.tagIds);
    const sorted = (ids: readonly number[]) => [...ids].sort((a, b) => a - b).join();
    if (sorted(tagIds) !== sorted(feature.tagIds)) events.push({ type: 'FeatureTagsChanged', data: { ...ids, tagIds } });
  }
  const defaultEnabled = command.defaultEnabled ?? feature.defaultEnabled;
  const initialValue = command.initialValue !== undefined ? command.initialValue : feature.initialValue;
  if (defaultEnabled !== feature.defaultEnabled || initialValue !== feature.initialValue)
    events.push({ type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled, initialValue } });
  if (command.isServerKeyOnly !== undefined && command.isServerKeyOnly !== feature.isServerKeyOnly)
    events.push({ type: 'FeatureVisibilityChanged', data: { ...ids, isServerKeyOnly: command.isServerKeyOnly } });
  if (command.isArchived !== undefined && command.isArchived !== feature.isArchived)
    events.push({ type: command.isArchived ? 'FeatureArchived' : 'FeatureUnarchived', data: ids });
  return events;
}

export function deleteFeature(command: Command<'DeleteFeature'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const feature = targetFeature(project, command.featureId);
  checkRevision('feature', command.expectedRevision, feature.revision);
  checkNotRead(project, feature, 'deleted');
  return { type: 'FeatureDeleted', data: { projectId: project.projectId, featureId: feature.featureId } };
}

function targetOption(feature: Feature, optionId: number): MultivariateOption {
  const option = feature.options.find((candidate) => candidate.optionId === optionId);
  if (!option) throw new NotFoundError('MULTIVARIATE_OPTION.NOT_FOUND', `Option ${optionId} not found on feature ${feature.featureId}`);
  return option;
}

/** A new option's default allocation joins every environment state; none may go over 100. */
function checkEnvironmentRoom(project: Project, feature: Feature, optionId: number, defaultAllocation: number): void {
  for (const environment of project.environments.values()) {
    const featureState = environment.featureStates.get(feature.featureId);
    if (!featureState) continue;
    const others = featureState.allocations.filter((allocation) => allocation.optionId !== optionId);
    const problem = allocationsProblem([...others, { optionId, percentage: defaultAllocation }]);
    if (problem) throw new ConflictError('ALLOCATION.INVALID', `In environment "${environment.name}": ${problem}`);
  }
}

export function addMultivariateOption(command: Command<'AddMultivariateOption'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const feature = targetFeature(project, command.featureId);
  checkOptions([...feature.options, command.option]);
  checkEnvironmentRoom(project, feature, command.option.optionId, command.option.defaultAllocation);
  return { type: 'MultivariateOptionAdded', data: { projectId: project.projectId, featureId: feature.featureId, option: { ...command.option } } };
}

export function changeMultivariateOption(command: Command<'ChangeMultivariateOption'>, state: Project): ProjectEvent | ProjectEvent[] {
  const project = activeProject(state);
  const feature = targetFeature(project, command.featureId);
  const option = targetOption(feature, command.optionId);
  const changed: MultivariateOption = {
    optionId: option.optionId,
    value: command.value !== undefined ? command.value : option.value,
    key: command.key !== undefined ? command.key : option.key,
    defaultAllocation: command.defaultAllocation ?? option.defaultAllocation,
  };
  if (changed.value === option.value && changed.key === option.key && changed.defaultAllocation === option.defaultAllocation) return [];
  checkOptions(feature.options.map((candidate) => (candidate.optionId === option.optionId ? changed : candidate)));
  return { type: 'MultivariateOptionChanged', data: { projectId: project.projectId, featureId: feature.featureId, option: changed } };
}

export function removeMultivariateOption(command: Command<'RemoveMultivariateOption'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const feature = targetFeature(project, command.featureId);
  const option = targetOption(feature, command.optionId);
  return { type: 'MultivariateOptionRemoved', data: { projectId: project.projectId, featureId: feature.featureId, optionId: option.optionId } };
}
