import { ConflictError, NotFoundError } from '../shared/domain-error';
import { allocationsProblem, type Allocation } from '../shared/values';
import { featureIdNamed } from './feature-names';
import type { Environment, Feature, Project, Segment, Tag } from './project.state';

export function activeProject(state: Project): Project {
  if (state.status !== 'active') throw new NotFoundError('PROJECT.NOT_FOUND', 'Project not found');
  return state;
}

/** The feature a command targets (from its path): 404 when absent. */
export function targetFeature(project: Project, featureId: number): Feature {
  const feature = project.features.get(featureId);
  if (!feature) throw new NotFoundError('FEATURE.NOT_FOUND', `Feature ${featureId} not found in this project`);
  return feature;
}

/** A feature a command refers to (from its body): 409 when it is not in this project. */
export function referencedFeature(project: Project, featureId: number): Feature {
  const feature = project.features.get(featureId);
  if (!feature) throw new ConflictError('FEATURE.NOT_IN_PROJECT', `Feature ${featureId} does not belong to project ${project.projectId}`);
  return feature;
}

export function targetSegment(project: Project, segmentId: number): Segment {
  const segment = project.segments.get(segmentId);
  if (!segment) throw new NotFoundError('SEGMENT.NOT_FOUND', `Segment ${segmentId} not found in this project`);
  return segment;
}

export function referencedSegment(project: Project, segmentId: number): Segment {
  const segment = project.segments.get(segmentId);
  if (!segment) throw new ConflictError('SEGMENT.NOT_IN_PROJECT', `Segment ${segmentId} does not belong to project ${project.projectId}`);
  return segment;
}

export function targetTag(project: Project, tagId: number): Tag {
  const tag = project.tags.get(tagId);
  if (!tag) throw new NotFoundError('TAG.NOT_FOUND', `Tag ${tagId} not found in this project`);
  return tag;
}

export function referencedTags(project: Project, tagIds: readonly number[]): number[] {
  const unknown = tagIds.filter((tagId) => !project.tags.has(tagId));
  if (unknown.length > 0) throw new ConflictError('TAG.NOT_IN_PROJECT', `Tag(s) ${unknown.join(', ')} do not belong to project ${project.projectId}`);
  return [...new Set(tagIds)];
}

export function targetEnvironment(project: Project, environmentId: number): Environment {
  const environment = project.environments.get(environmentId);
  if (!environment) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', `Environment ${environmentId} not found in this project`);
  return environment;
}

/** Allocations must name options of the feature and sum to at most 100. */
export function checkAllocations(feature: Feature, allocations: readonly Allocation[]): Allocation[] {
  const optionIds = new Set(feature.options.map((option) => option.optionId));
  const foreign = allocations.filter((allocation) => !optionIds.has(allocation.optionId));
  if (foreign.length > 0)
    throw new ConflictError(
      'ALLOCATION.UNKNOWN_OPTION',
      `Option(s) ${foreign.map((a) => a.optionId).join(', ')} are not multivariate options of feature ${feature.featureId}`,
    );
  const problem = allocationsProblem(allocations);
  if (problem) throw new ConflictError('ALLOCATION.INVALID', problem);
  return allocations.map((allocation) => ({ optionId: allocation.optionId, percentage: allocation.percentage }));
}

export function isFeatureNameTaken(project: Project, name: string, exceptFeatureId?: number): boolean {
  return featureIdNamed(project.features, name, exceptFeatureId) !== undefined;
}
