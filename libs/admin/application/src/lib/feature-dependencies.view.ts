import { featureDependencies, type FeatureDependency, type Project } from '@flagline/admin-domain';

/** A segment a dependency runs through, and the environments whose overrides use it. */
export interface DependencySegmentView {
  id: number;
  name: string;
  environmentIds: number[];
}

/** The feature at the other end of a dependency, and the segments it runs through. */
export interface FeatureDependencyView {
  featureId: number;
  featureName: string;
  segments: DependencySegmentView[];
}

/** A feature's flag dependencies, both ways. */
export interface FeatureDependenciesView {
  /** Features this one reads: its segment overrides' segments read `$.flags.<name>`. */
  dependsOn: FeatureDependencyView[];
  /** Features that read this one. */
  dependents: FeatureDependencyView[];
}

const dependencyView = (project: Project, dependency: FeatureDependency): FeatureDependencyView => ({
  featureId: dependency.featureId,
  featureName: project.features.get(dependency.featureId)?.name ?? '',
  segments: dependency.via.map((via) => ({
    id: via.segmentId,
    name: project.segments.get(via.segmentId)?.name ?? '',
    environmentIds: [...via.environmentIds],
  })),
});

export function featureDependenciesView(project: Project, featureId: number): FeatureDependenciesView {
  const graph = featureDependencies(project);
  return {
    dependsOn: graph.dependsOn(featureId).map((dependency) => dependencyView(project, dependency)),
    dependents: graph.dependents(featureId).map((dependency) => dependencyView(project, dependency)),
  };
}
