import { NotFoundError, projectDecider, type Feature, type FeatureType, type FeatureValue, type Project } from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { Lookup } from './lookup';
import type { ProjectsService } from './projects.service';
import { featureDependenciesView, type FeatureDependenciesView } from './feature-dependencies.view';
import { featureView, type FeatureView, type Versioned } from './views';

export interface MultivariateOptionInput {
  readonly value: FeatureValue;
  readonly key?: string | null;
  readonly defaultPercentageAllocation?: number;
}

export interface CreateFeatureInput {
  readonly name: string;
  readonly description?: string;
  readonly type?: FeatureType;
  readonly defaultEnabled?: boolean;
  readonly initialValue?: FeatureValue;
  readonly tags?: readonly number[];
  readonly isServerKeyOnly?: boolean;
  readonly multivariateOptions?: readonly MultivariateOptionInput[];
}

export interface ChangeFeatureInput {
  readonly name?: string;
  readonly description?: string;
  readonly defaultEnabled?: boolean;
  readonly initialValue?: FeatureValue;
  readonly tags?: readonly number[];
  readonly isServerKeyOnly?: boolean;
  readonly isArchived?: boolean;
}

/** A feature as the API shows it: its fields and its flag dependencies both ways. */
export type FeatureWithDependenciesView = FeatureView & FeatureDependenciesView;

const withDependencies = (project: Project, feature: Feature): FeatureWithDependenciesView => ({
  ...featureView(project, feature),
  ...featureDependenciesView(project, feature.featureId),
});

const featureNotFound = (featureId: number): NotFoundError => new NotFoundError('FEATURE.NOT_FOUND', `Feature ${featureId} not found in this project`);

/** Features and their multivariate options. */
export class FeaturesService {
  private readonly lookup: Lookup;

  constructor(
    private readonly context: AdminContext,
    private readonly projects: ProjectsService,
  ) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  private view(project: Project, featureId: number): Versioned<FeatureWithDependenciesView> {
    const feature = project.features.get(featureId);
    if (!feature) throw featureNotFound(featureId);
    return { view: withDependencies(project, feature), revision: feature.revision };
  }

  async list(request: RequestContext, projectId: number, filter: { includeArchived?: boolean; tag?: number; search?: string } = {}): Promise<FeatureWithDependenciesView[]> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read features');
    const search = filter.search?.toLowerCase();
    return [...project.features.values()]
      .filter((feature) => (filter.includeArchived ?? true) || !feature.isArchived)
      .filter((feature) => filter.tag === undefined || feature.tagIds.includes(filter.tag))
      .filter((feature) => search === undefined || feature.name.toLowerCase().includes(search))
      .map((feature) => withDependencies(project, feature));
  }

  async get(request: RequestContext, projectId: number, featureId: number): Promise<Versioned<FeatureWithDependenciesView>> {
    return this.view(await this.lookup.readProject(request, projectId, 'member', 'read features'), featureId);
  }

  /** Creates the feature and its state in every environment of the project. */
  async create(request: RequestContext, projectId: number, input: CreateFeatureInput): Promise<Versioned<FeatureWithDependenciesView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'create features');
    const options = input.multivariateOptions ?? [];
    const featureType = input.type ?? (options.length > 0 ? 'MULTIVARIATE' : 'STANDARD');
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        (state) => 1 + options.length + state.environments.size,
        (state, ids) => {
          return {
            type: 'CreateFeature',
            featureId: ids[0] as number,
            name: input.name,
            description: input.description ?? '',
            featureType,
            defaultEnabled: input.defaultEnabled ?? false,
            initialValue: input.initialValue ?? null,
            tagIds: input.tags ?? [],
            isServerKeyOnly: input.isServerKeyOnly ?? false,
            options: options.map((option, index) => ({
              optionId: ids[1 + index] as number,
              value: option.value,
              key: option.key ?? null,
              defaultAllocation: option.defaultPercentageAllocation ?? 0,
            })),
            featureStateIds: ids.slice(1 + options.length),
            now: this.context.now(),
          };
        },
      ),
    );
    return this.view(result.state, eventOf(result.events, 'FeatureCreated').data.featureId);
  }

  async change(request: RequestContext, projectId: number, featureId: number, input: ChangeFeatureInput, expectedRevision?: number): Promise<Versioned<FeatureWithDependenciesView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'change features');
    const { tags, ...rest } = input;
    const result = await this.projects.run(request, project, {
      type: 'ChangeFeature',
      featureId,
      ...rest,
      ...(tags !== undefined ? { tagIds: tags } : {}),
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    return this.view(result.state, featureId);
  }

  async delete(request: RequestContext, projectId: number, featureId: number, expectedRevision?: number): Promise<void> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'delete features');
    await this.projects.run(request, project, { type: 'DeleteFeature', featureId, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  }

  async addOption(request: RequestContext, projectId: number, featureId: number, input: MultivariateOptionInput): Promise<Versioned<FeatureWithDependenciesView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'change features');
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        () => 1,
        (_state, ids) => ({
          type: 'AddMultivariateOption',
          featureId,
          option: { optionId: ids[0] as number, value: input.value, key: input.key ?? null, defaultAllocation: input.defaultPercentageAllocation ?? 0 },
        }),
      ),
    );
    return this.view(result.state, featureId);
  }

  async changeOption(
    request: RequestContext,
    projectId: number,
    featureId: number,
    optionId: number,
    input: Partial<MultivariateOptionInput>,
  ): Promise<Versioned<FeatureWithDependenciesView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'change features');
    const result = await this.projects.run(request, project, {
      type: 'ChangeMultivariateOption',
      featureId,
      optionId,
      ...(input.value !== undefined ? { value: input.value } : {}),
      ...(input.key !== undefined ? { key: input.key } : {}),
      ...(input.defaultPercentageAllocation !== undefined ? { defaultAllocation: input.defaultPercentageAllocation } : {}),
    });
    return this.view(result.state, featureId);
  }

  async removeOption(request: RequestContext, projectId: number, featureId: number, optionId: number): Promise<void> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'change features');
    await this.projects.run(request, project, { type: 'RemoveMultivariateOption', featureId, optionId });
  }
}
