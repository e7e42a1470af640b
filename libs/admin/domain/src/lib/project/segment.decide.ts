import { checkRevision } from '../shared/domain-error';
import type { ProjectCommand } from './project.commands';
import type { ProjectEvent } from './project.events';
import { activeProject, targetSegment } from './project.guards';
import type { Project } from './project.state';
import { checkFlagReadsKnown, checkNoNewCycle, projectAfter } from './feature-dependencies';
import { flagReadsOf } from '../segment/flag-reference';

type Command<T extends ProjectCommand['type']> = Extract<ProjectCommand, { type: T }>;

export function createSegment(command: Command<'CreateSegment'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  // A new segment has no overrides yet, so it adds no dependency; its reads must name features.
  checkFlagReadsKnown(project, command.rules);
  return {
    type: 'SegmentCreated',
    data: {
      projectId: project.projectId,
      segmentId: command.segmentId,
      name: command.name,
      description: command.description,
      rules: [...command.rules],
      createdAt: command.now,
    },
  };
}

export function changeSegment(command: Command<'ChangeSegment'>, state: Project): ProjectEvent[] {
  const project = activeProject(state);
  const segment = targetSegment(project, command.segmentId);
  checkRevision('segment', command.expectedRevision, segment.revision);
  const ids = { projectId: project.projectId, segmentId: segment.segmentId };
  const events: ProjectEvent[] = [];
  if (command.name !== undefined && command.name !== segment.name) events.push({ type: 'SegmentRenamed', data: { ...ids, name: command.name } });
  if (command.description !== undefined && command.description !== segment.description)
    events.push({ type: 'SegmentDescriptionChanged', data: { ...ids, description: command.description } });
  if (command.rules !== undefined && JSON.stringify(command.rules) !== JSON.stringify(segment.rules)) {
    checkFlagReadsKnown(project, command.rules);
    events.push({ type: 'SegmentRuleChanged', data: { ...ids, rules: [...command.rules] } });
    // New reads make every feature this segment overrides depend on what it reads.
    if (flagReadsOf(command.rules).length > 0) checkNoNewCycle(project, projectAfter(project, events));
  }
  return events;
}

export function deleteSegment(command: Command<'DeleteSegment'>, state: Project): ProjectEvent {
  const project = activeProject(state);
  const segment = targetSegment(project, command.segmentId);
  checkRevision('segment', command.expectedRevision, segment.revision);
  return { type: 'SegmentDeleted', data: { projectId: project.projectId, segmentId: segment.segmentId } };
}
