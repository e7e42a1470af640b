import {
  cloneSize,
  NotFoundError,
  projectDecider,
  type Allocation,
  type Environment,
  type EnvironmentSettings,
  type FeatureValue,
  type Project,
} from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { newClientKey, newKeyId, newServerKey } from './api-key.material';
import { Lookup } from './lookup';
import type { ProjectsService } from './projects.service';
import {
  apiKeyView,
  environmentView,
  featureStateView,
  segmentOverrideView,
  type ApiKeyView,
  type EnvironmentView,
  type FeatureStateView,
  type SegmentOverrideView,
  type Versioned,
} from './views';

export interface EnvironmentInput {
  readonly name: string;
  readonly description?: string;
  readonly hideDisabledFlags?: boolean | null;
  readonly allowClientTraits?: boolean;
  readonly hideSensitiveData?: boolean;
  readonly useIdentityCompositeKeyForHashing?: boolean;
  readonly useIdentityOverridesInLocalEval?: boolean;
}

export interface FeatureStateInput {
  readonly enabled?: boolean;
  readonly value?: FeatureValue;
  readonly multivariateAllocations?: readonly Allocation[];
}

export interface SegmentOverrideInput {
  readonly feature: number;
  readonly segment: number;
  readonly enabled?: boolean;
  readonly value?: FeatureValue;
  readonly multivariateAllocations?: readonly Allocation[];
  readonly priority?: number;
}

const settingsOf = (input: Partial<EnvironmentInput>): Partial<EnvironmentSettings> => {
  const keys = ['hideDisabledFlags', 'allowClientTraits', 'hideSensitiveData', 'useIdentityCompositeKeyForHashing', 'useIdentityOverridesInLocalEval'] as const;
  return Object.fromEntries(keys.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
};

const revisionOption = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});

/** Environments: settings, keys, cloning, feature states and segment overrides. */
export class EnvironmentsService {
  private readonly lookup: Lookup;

  constructor(
    private readonly context: AdminContext,
    private readonly projects: ProjectsService,
  ) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  private environmentView(project: Project, environmentId: number): Versioned<EnvironmentView> {
    const environment = project.environments.get(environmentId);
    if (!environment) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', 'Environment not found');
    return { view: environmentView(project, environment), revision: environment.revision };
  }

  async list(request: RequestContext, projectId: number): Promise<EnvironmentView[]> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read environments');
    return [...project.environments.values()].map((environment) => environmentView(project, environment));
  }

  async get(request: RequestContext, reference: string): Promise<Versioned<EnvironmentView>> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read environments');
    return { view: environmentView(project, environment), revision: environment.revision };
  }

  /** Creates an environment holding a state for every feature of the project. */
  async create(request: RequestContext, projectId: number, input: EnvironmentInput): Promise<Versioned<EnvironmentView>> {
    const project = this.lookup.project(request.principal, projectId, 'admin', 'create environments');
    const apiKey = newClientKey();
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        (state) => 1 + state.features.size,
        (_state, ids) => {
          return {
            type: 'CreateEnvironment',
            environmentId: ids[0] as number,
            name: input.name,
            description: input.description ?? '',
            apiKey,
            settings: settingsOf(input),
            featureStateIds: ids.slice(1),
            now: this.context.now(),
          };
        },
      ),
    );
    return this.environmentView(result.state, eventOf(result.events, 'EnvironmentCreated').data.environmentId);
  }

  /** A new environment with the source's feature states and segment overrides, and new keys. */
  async clone(request: RequestContext, reference: string, input: { name: string; description?: string }): Promise<Versioned<EnvironmentView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'clone environments');
    const apiKey = newClientKey();
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        (state) => 1 + cloneSize(state, environment.environmentId),
        (_state, ids) => {
          return {
            type: 'CloneEnvironment',
            sourceEnvironmentId: environment.environmentId,
            environmentId: ids[0] as number,
            name: input.name,
            ...(input.description !== undefined ? { description: input.description } : {}),
            apiKey,
            featureStateIds: ids.slice(1),
            now: this.context.now(),
          };
        },
      ),
    );
    return this.environmentView(result.state, eventOf(result.events, 'EnvironmentCloned').data.environmentId);
  }

  async change(request: RequestContext, reference: string, input: Partial<EnvironmentInput>, expectedRevision?: number): Promise<Versioned<EnvironmentView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'change environments');
    const result = await this.projects.run(request, project, {
      type: 'ChangeEnvironment',
      environmentId: environment.environmentId,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      settings: settingsOf(input),
      ...revisionOption(expectedRevision),
    });
    return this.environmentView(result.state, environment.environmentId);
  }

  async delete(request: RequestContext, reference: string, expectedRevision?: number): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'delete environments');
    await this.projects.run(request, project, { type: 'DeleteEnvironment', environmentId: environment.environmentId, ...revisionOption(expectedRevision) });
  }

  async listServerKeys(request: RequestContext, reference: string): Promise<ApiKeyView[]> {
    const { environment } = await this.lookup.readEnvironment(request, reference, 'admin', 'manage server-side keys');
    return [...environment.serverKeys.values()].filter((key) => !key.revokedAt).map(apiKeyView);
  }

  async issueServerKey(request: RequestContext, reference: string, input: { name: string }): Promise<ApiKeyView> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'manage server-side keys');
    const material = newServerKey();
    const keyId = newKeyId();
    const result = await this.projects.run(request, project, {
      type: 'IssueServerKey',
      environmentId: environment.environmentId,
      keyId,
      name: input.name,
      keyHash: material.keyHash,
      prefix: material.prefix,
      createdAt: this.context.now(),
    });
    // A replayed request names the key issued the first time; its secret cannot be shown again.
    const issued = eventOf(result.events, 'ServerKeyIssued').data.keyId;
    const key = result.state.environments.get(environment.environmentId)?.serverKeys.get(issued);
    if (!key) throw new Error('issued key missing from state');
    return { ...apiKeyView(key), ...(issued === keyId ? { key: material.key } : {}) };
  }

  async revokeServerKey(request: RequestContext, reference: string, keyId: string): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'manage server-side keys');
    await this.projects.run(request, project, { type: 'RevokeServerKey', environmentId: environment.environmentId, keyId, now: this.context.now() });
  }

  private stateView(project: Project, environment: Environment, featureId: number): Versioned<FeatureStateView> {
    const feature = project.features.get(featureId);
    const state = environment.featureStates.get(featureId);
    if (!feature || !state) throw new NotFoundError('FEATURE.NOT_FOUND', `Feature ${featureId} not found in this project`);
    return { view: featureStateView(environment, feature, state), revision: state.revision };
  }

  async listFeatureStates(request: RequestContext, reference: string): Promise<FeatureStateView[]> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read feature states');
    return [...environment.featureStates.keys()].map((featureId) => this.stateView(project, environment, featureId).view);
  }

  async getFeatureState(request: RequestContext, reference: string, featureId: number): Promise<Versioned<FeatureStateView>> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read feature states');
    return this.stateView(project, environment, featureId);
  }

  async changeFeatureState(
    request: RequestContext,
    reference: string,
    featureId: number,
    input: FeatureStateInput,
    expectedRevision?: number,
  ): Promise<Versioned<FeatureStateView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'change feature states');
    const result = await this.projects.run(request, project, {
      type: 'ChangeFeatureState',
      environmentId: environment.environmentId,
      featureId,
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.value !== undefined ? { value: input.value } : {}),
      ...(input.multivariateAllocations !== undefined ? { allocations: input.multivariateAllocations } : {}),
      ...revisionOption(expectedRevision),
    });
    const updated = result.state.environments.get(environment.environmentId);
    if (!updated) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', 'Environment not found');
    return this.stateView(result.state, updated, featureId);
  }

  private overrideViews(project: Project, environment: Environment, featureId?: number): Versioned<SegmentOverrideView>[] {
    return [...environment.segmentOverrides.entries()]
      .filter(([id]) => featureId === undefined || id === featureId)
      .flatMap(([id, overrides]) => {
        const feature = project.features.get(id);
        return feature
          ? overrides.map((override, priority) => ({ view: segmentOverrideView(project, environment, feature, override, priority), revision: override.revision }))
          : [];
      });
  }

  private overrideView(project: Project, environmentId: number, featureId: number, segmentId: number): Versioned<SegmentOverrideView> {
    const environment = project.environments.get(environmentId);
    const found = environment && this.overrideViews(project, environment, featureId).find(({ view }) => view.segmentId === segmentId);
    if (!found) throw new NotFoundError('SEGMENT_OVERRIDE.NOT_FOUND', `No override of feature ${featureId} for segment ${segmentId} here`);
    return found;
  }

  async listSegmentOverrides(request: RequestContext, reference: string, featureId?: number): Promise<SegmentOverrideView[]> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read segment overrides');
    return this.overrideViews(project, environment, featureId).map(({ view }) => view);
  }

  async getSegmentOverride(request: RequestContext, reference: string, featureId: number, segmentId: number): Promise<Versioned<SegmentOverrideView>> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read segment overrides');
    return this.overrideView(project, environment.environmentId, featureId, segmentId);
  }

  async createSegmentOverride(request: RequestContext, reference: string, input: SegmentOverrideInput): Promise<Versioned<SegmentOverrideView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'create segment overrides');
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        () => 1,
        (state, ids) => ({
          type: 'CreateSegmentOverride',
          environmentId: environment.environmentId,
          featureId: input.feature,
          segmentId: input.segment,
          featureStateId: ids[0] as number,
          // An override starts from the environment's state unless told otherwise.
          enabled: input.enabled ?? environment.featureStates.get(input.feature)?.enabled ?? false,
          value: input.value !== undefined ? input.value : (state.environments.get(environment.environmentId)?.featureStates.get(input.feature)?.value ?? null),
          ...(input.multivariateAllocations !== undefined ? { allocations: input.multivariateAllocations } : {}),
          ...(input.priority !== undefined ? { priority: input.priority } : {}),
        }),
      ),
    );
    return this.overrideView(result.state, environment.environmentId, input.feature, input.segment);
  }

  async changeSegmentOverride(
    request: RequestContext,
    reference: string,
    featureId: number,
    segmentId: number,
    input: Omit<FeatureStateInput, 'priority'>,
    expectedRevision?: number,
  ): Promise<Versioned<SegmentOverrideView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'change segment overrides');
    const result = await this.projects.run(request, project, {
      type: 'ChangeSegmentOverride',
      environmentId: environment.environmentId,
      featureId,
      segmentId,
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.value !== undefined ? { value: input.value } : {}),
      ...(input.multivariateAllocations !== undefined ? { allocations: input.multivariateAllocations } : {}),
      ...revisionOption(expectedRevision),
    });
    return this.overrideView(result.state, environment.environmentId, featureId, segmentId);
  }

  async removeSegmentOverride(request: RequestContext, reference: string, featureId: number, segmentId: number): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'remove segment overrides');
    await this.projects.run(request, project, { type: 'RemoveSegmentOverride', environmentId: environment.environmentId, featureId, segmentId });
  }

  /** Sets the override order of one feature: `segmentIds[0]` becomes the strongest. */
  async reorderSegmentOverrides(request: RequestContext, reference: string, featureId: number, segmentIds: readonly number[]): Promise<SegmentOverrideView[]> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'reorder segment overrides');
    const result = await this.projects.run(request, project, { type: 'ReorderSegmentOverrides', environmentId: environment.environmentId, featureId, segmentIds });
    const updated = result.state.environments.get(environment.environmentId);
    return updated ? this.overrideViews(result.state, updated, featureId).map(({ view }) => view) : [];
  }
}
