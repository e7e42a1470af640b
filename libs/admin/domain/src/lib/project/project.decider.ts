import type { Decider } from '@flagline/event-sourcing';
import { checkRevision, ConflictError } from '../shared/domain-error';
import type { ProjectCommand } from './project.commands';
import type { ProjectEvent } from './project.events';
import { activeProject, targetTag } from './project.guards';
import { initialProject, type Project } from './project.state';
import { addMultivariateOption, changeFeature, changeMultivariateOption, createFeature, deleteFeature, removeMultivariateOption } from './feature.decide';
import { changeSegment, createSegment, deleteSegment } from './segment.decide';
import { changeEnvironment, cloneEnvironment, createEnvironment, deleteEnvironment, issueServerKey, revokeServerKey } from './environment.decide';
import { changeFeatureState, changeSegmentOverride, createSegmentOverride, removeSegmentOverride, reorderSegmentOverrides } from './feature-state.decide';
import { evolveProject } from './project.evolve';

export function decideProject(command: ProjectCommand, state: Project): ProjectEvent | ProjectEvent[] {
  switch (command.type) {
    case 'CreateProject':
      if (state.status !== 'absent') throw new ConflictError('PROJECT.EXISTS', 'Project already exists');
      return {
        type: 'ProjectCreated',
        data: {
          projectId: command.projectId,
          organisationId: command.organisationId,
          name: command.name,
          hideDisabledFlags: command.hideDisabledFlags,
          createdAt: command.now,
        },
      };
    case 'ChangeProjectSettings': {
      const project = activeProject(state);
      checkRevision('project', command.expectedRevision, project.revision);
      const name = command.name ?? project.name;
      const hideDisabledFlags = command.hideDisabledFlags ?? project.hideDisabledFlags;
      if (name === project.name && hideDisabledFlags === project.hideDisabledFlags) return [];
      return { type: 'ProjectSettingsChanged', data: { projectId: project.projectId, name, hideDisabledFlags } };
    }
    case 'DeleteProject': {
      const project = activeProject(state);
      checkRevision('project', command.expectedRevision, project.revision);
      return { type: 'ProjectDeleted', data: { projectId: project.projectId, environmentIds: [...project.environments.keys()] } };
    }
    case 'CreateTag': {
      const project = activeProject(state);
      const { type: _type, ...tag } = command;
      return { type: 'TagCreated', data: { projectId: project.projectId, ...tag } };
    }
    case 'ChangeTag': {
      const project = activeProject(state);
      const tag = targetTag(project, command.tagId);
      checkRevision('tag', command.expectedRevision, tag.revision);
      const changed = { label: command.label ?? tag.label, color: command.color ?? tag.color, description: command.description ?? tag.description };
      if (changed.label === tag.label && changed.color === tag.color && changed.description === tag.description) return [];
      return { type: 'TagChanged', data: { projectId: project.projectId, tagId: tag.tagId, ...changed } };
    }
    case 'DeleteTag': {
      const project = activeProject(state);
      const tag = targetTag(project, command.tagId);
      return { type: 'TagDeleted', data: { projectId: project.projectId, tagId: tag.tagId } };
    }
    case 'CreateFeature':
      return createFeature(command, state);
    case 'ChangeFeature':
      return changeFeature(command, state);
    case 'DeleteFeature':
      return deleteFeature(command, state);
    case 'AddMultivariateOption':
      return addMultivariateOption(command, state);
    case 'ChangeMultivariateOption':
      return changeMultivariateOption(command, state);
    case 'RemoveMultivariateOption':
      return removeMultivariateOption(command, state);
    case 'CreateSegment':
      return createSegment(command, state);
    case 'ChangeSegment':
      return changeSegment(command, state);
    case 'DeleteSegment':
      return deleteSegment(command, state);
    case 'CreateEnvironment':
      return createEnvironment(command, state);
    case 'CloneEnvironment':
      return cloneEnvironment(command, state);
    case 'ChangeEnvironment':
      return changeEnvironment(command, state);
    case 'DeleteEnvironment':
      return deleteEnvironment(command, state);
    case 'IssueServerKey':
      return issueServerKey(command, state);
    case 'RevokeServerKey':
      return revokeServerKey(command, state);
    case 'ChangeFeatureState':
      return changeFeatureState(command, state);
    case 'CreateSegmentOverride':
      return createSegmentOverride(command, state);
    case 'ChangeSegmentOverride':
      return changeSegmentOverride(command, state);
    case 'RemoveSegmentOverride':
      return removeSegmentOverride(command, state);
    case 'ReorderSegmentOverrides':
      return reorderSegmentOverrides(command, state);
  }
}

export const projectDecider: Decider<Project, ProjectCommand, ProjectEvent> = {
  decide: decideProject,
  evolve: evolveProject,
  initialState: initialProject,
};
