import { checkRevision, ConflictError, NotFoundError } from '../shared/domain-error';
import type { CopiedFeatureState, ProjectEvent } from './project.events';
import type { ProjectCommand } from './project.commands';
import { activeProject, targetEnvironment } from './project.guards';
import { DEFAULT_ENVIRONMENT_SETTINGS, type EnvironmentSettings, type Project } from './project.state';

type Command<T extends ProjectCommand['type']> = Extract<ProjectCommand, { type: T }>;

function settingsWith(base: EnvironmentSettings, changes: Partial<EnvironmentSettings>): EnvironmentSettings {
  const merged = { ...base };
  for (const key of Object.keys(base) as (keyof EnvironmentSettings)[]) {
    const value = changes[key];
    if (value !== undefined) (merged as Record<keyof EnvironmentSettings, unknown>)[key] = value;
  }
  return merged;
}

export function createEnvironment(command: Command<'CreateEnvironment'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const features = [...project.features.values()];
  if (command.featureStateIds.length !== features.length) throw new Error('CreateEnvironment needs one feature state id per feature');
  return {
    type: 'EnvironmentCreated',
    data: {
      projectId: project.projectId,
      environmentId: command.environmentId,
      name: command.name,
      description: command.description,
      apiKey: command.apiKey,
      settings: settingsWith(DEFAULT_ENVIRONMENT_SETTINGS, command.settings),
      createdAt: command.now,
      featureStates: features.map((feature, index) => ({ featureId: feature.featureId, featureStateId: command.featureStateIds[index] as number })),
    },
  };
}

/** Number of new feature-state ids a clone of this environment needs. */
export function cloneSize(project: Project, environmentId: number): number {
  const source = project.environments.get(environmentId);
  if (!source) return 0;
  let overrides = 0;
  for (const list of source.segmentOverrides.values()) overrides += list.length;
  return source.featureStates.size + overrides;
}

export function cloneEnvironment(command: Command<'CloneEnvironment'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const source = project.environments.get(command.sourceEnvironmentId);
  if (!source) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', `Environment ${command.sourceEnvironmentId} not found in this project`);
  if (command.featureStateIds.length !== cloneSize(project, source.environmentId)) throw new Error('CloneEnvironment needs one id per copied state');
  let next = 0;
  const nextId = (): number => command.featureStateIds[next++] as number;
  const featureStates: CopiedFeatureState[] = [...source.featureStates.entries()].map(([featureId, featureState]) => ({
    featureId,
    featureStateId: nextId(),
    enabled: featureState.enabled,
    value: featureState.value,
    allocations: featureState.allocations.map((allocation) => ({ ...allocation })),
  }));
  const segmentOverrides = [...source.segmentOverrides.entries()].flatMap(([featureId, overrides]) =>
    overrides.map((override) => ({
      featureId,
      segmentId: override.segmentId,
      featureStateId: nextId(),
      enabled: override.enabled,
      value: override.value,
      allocations: override.allocations.map((allocation) => ({ ...allocation })),
    })),
  );
  return {
    type: 'EnvironmentCloned',
    data: {
      projectId: project.projectId,
      environmentId: command.environmentId,
      sourceEnvironmentId: source.environmentId,
      name: command.name,
      description: command.description ?? source.description,
      apiKey: command.apiKey,
      settings: { ...source.settings },
      createdAt: command.now,
      featureStates,
      segmentOverrides,
    },
  };
}

export function changeEnvironment(command: Command<'ChangeEnvironment'>, state: Project): ProjectEvent[] {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  checkRevision('environment', command.expectedRevision, environment.revision);
  const ids = { projectId: project.projectId, environmentId: environment.environmentId };
  const events: ProjectEvent[] = [];
  const name = command.name ?? environment.name;
  const description = command.description ?? environment.description;
  if (name !== environment.name || description !== environment.description)
    events.push({ type: 'EnvironmentRenamed', data: { ...ids, name, description } });
  if (command.settings) {
    const settings = settingsWith(environment.settings, command.settings);
    if (JSON.stringify(settings) !== JSON.stringify(environment.settings)) events.push({ type: 'EnvironmentSettingsChanged', data: { ...ids, settings } });
  }
  return events;
}

export function deleteEnvironment(command: Command<'DeleteEnvironment'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  checkRevision('environment', command.expectedRevision, environment.revision);
  return { type: 'EnvironmentDeleted', data: { projectId: project.projectId, environmentId: environment.environmentId } };
}

export function issueServerKey(command: Command<'IssueServerKey'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  if (environment.serverKeys.has(command.keyId)) throw new ConflictError('API_KEY.EXISTS', `Key id ${command.keyId} is taken`);
  const { type: _type, environmentId: _environmentId, ...key } = command;
  return { type: 'ServerKeyIssued', data: { projectId: project.projectId, environmentId: environment.environmentId, ...key } };
}

export function revokeServerKey(command: Command<'RevokeServerKey'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const environment = targetEnvironment(project, command.environmentId);
  const key = environment.serverKeys.get(command.keyId);
  if (!key || key.revokedAt) throw new NotFoundError('API_KEY.NOT_FOUND', 'Server-side key not found');
  return {
    type: 'ServerKeyRevoked',
    data: { projectId: project.projectId, environmentId: environment.environmentId, keyId: command.keyId, revokedAt: command.now },
  };
}
