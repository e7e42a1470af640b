import {
  checkAllocations,
  ConflictError,
  isErasedIdentityEvent,
  NotFoundError,
  toIdentityStreamName,
  type Allocation,
  type Environment,
  type Identity,
  type FeatureValue,
  type IdentityCommand,
  type Project,
  type TraitValue,
} from '@flagline/admin-domain';
import type { Actor } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';
import type { AdminContext, RequestContext } from './admin-context';
import { Lookup } from './lookup';
import { encodeCursor, identityView, type IdentityView, type Page, type PageRequest, type Versioned } from './views';

export interface IdentityOverrideInput {
  readonly enabled: boolean;
  readonly value?: FeatureValue;
  readonly multivariateAllocations?: readonly Allocation[];
}

/** Identities of an environment: traits and identity overrides. */
export class IdentitiesService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  private identity(project: Project, environment: Environment, identifier: string): Versioned<IdentityView> {
    return this.found(project, this.context.catalog.identity(this.context.identityIdFor(environment.environmentId, identifier)), identifier);
  }

  /** The identity as of the request's point (now when it has none). */
  private async readIdentity(request: RequestContext, project: Project, environment: Environment, identifier: string): Promise<Versioned<IdentityView>> {
    const at = this.lookup.at(request);
    if (!at) return this.identity(project, environment, identifier);
    return this.found(project, await at.identity(this.context.identityIdFor(environment.environmentId, identifier)), identifier);
  }

  private found(project: Project, identity: Identity | undefined, identifier: string): Versioned<IdentityView> {
    if (!identity) throw new NotFoundError('IDENTITY.NOT_FOUND', `Identity "${identifier}" not found in this environment`);
    return { view: identityView(project, identity), revision: identity.revision };
  }

  private run(request: RequestContext, project: Project, environment: Environment, identifier: string, command: IdentityCommand | ((state: Identity, revision: number | null) => IdentityCommand | Promise<IdentityCommand>)) {
    const identityId = this.context.identityIdFor(environment.environmentId, identifier);
    const routing = { organisationId: project.organisationId, projectId: project.projectId };
    return this.context.run(this.context.identities, toIdentityStreamName(identityId), command, request, routing);
  }

  /**
   * Identities of the environment in identifier (code-point) order; `search` keeps those whose
   * identifier contains it (case-insensitive). As of a point, the candidates are the identifiers
   * listed now and those of identities deleted after the point (kept in the index as tombstones),
   * and the identities listed are those of them that existed then, as they were then. An erased
   * identity leaves no identifier, so it is listed at no point. A page is full whenever more
   * follow: identifiers that did not exist then (created and deleted since) are skipped, not counted.
   */
  async list(request: RequestContext, reference: string, options: { search?: string } & PageRequest): Promise<Page<IdentityView>> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read identities');
    const point = this.lookup.at(request)?.position;
    // One more than the page, to know whether another follows; the catalog pages by identifier (keyset).
    const found: { identifier: string; view: IdentityView }[] = [];
    let after = options.after?.[0] === undefined ? undefined : String(options.after[0]);
    for (;;) {
      const identifiers = this.context.catalog.identifiers(environment.environmentId, {
        ...(after !== undefined ? { after } : {}),
        ...(options.search !== undefined ? { search: options.search } : {}),
        ...(point !== undefined ? { deletedAfter: point } : {}),
        limit: options.limit + 1,
      });
      const views = await this.listed(request, project, environment, identifiers);
      identifiers.forEach((identifier, index) => {
        const view = views[index];
        if (view) found.push({ identifier, view });
      });
      after = identifiers[identifiers.length - 1];
      if (found.length > options.limit || identifiers.length <= options.limit || after === undefined) break;
    }
    const results = found.slice(0, options.limit);
    const last = results[results.length - 1];
    return {
      results: results.map(({ view }) => view),
      next: found.length > options.limit && last !== undefined ? encodeCursor([last.identifier]) : null,
    };
  }

  async get(request: RequestContext, reference: string, identifier: string): Promise<Versioned<IdentityView>> {
    const { project, environment } = await this.lookup.readEnvironment(request, reference, 'member', 'read identities');
    return this.readIdentity(request, project, environment, identifier);
  }

  /** The view of each identifier (in the same order), undefined for one whose identity did not exist at the request's point. */
  private async listed(request: RequestContext, project: Project, environment: Environment, identifiers: readonly string[]): Promise<(IdentityView | undefined)[]> {
    const at = this.lookup.at(request);
    if (!at) return identifiers.map((identifier) => this.identity(project, environment, identifier).view);
    const identities = await Promise.all(identifiers.map((identifier) => at.identity(this.context.identityIdFor(environment.environmentId, identifier))));
    return identities.map((identity) => (identity === undefined ? undefined : identityView(project, identity)));
  }

  async create(request: RequestContext, reference: string, input: { identifier: string; traits?: Record<string, TraitValue | null> }): Promise<Versioned<IdentityView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'create identities');
    const identityId = this.context.identityIdFor(environment.environmentId, input.identifier);
    const command: IdentityCommand = {
      type: 'CreateIdentity',
      identityId,
      projectId: project.projectId,
      environmentId: environment.environmentId,
      identifier: input.identifier,
      traits: input.traits ?? {},
      now: this.context.now(),
    };
    await this.run(request, project, environment, input.identifier, this.unlessErasurePending(toIdentityStreamName(identityId), input.identifier, command));
    return this.identity(project, environment, input.identifier);
  }

  /**
   * A command that may create an identity, refused (409 IDENTITY.ERASURE_PENDING) while the
   * stream's erasure is pending: after IdentityErased, until its key is destroyed, a new identity
   * would be sealed with that key and erased with the old one once acknowledged. The erasure is
   * done when the IdentityErased reads as erased (the key that sealed it is gone); the new
   * identity's events then get a new key. Checked on the state each attempt decides on (a
   * conflict with the erasure reads the stream again).
   */
  private unlessErasurePending(streamName: string, identifier: string, command: IdentityCommand): (state: Identity, revision: number | null) => IdentityCommand | Promise<IdentityCommand> {
    return (state, revision) => {
      if (state.status !== 'erased' || !this.context.deps.erasure || revision === null) return command;
      return this.context.deps.store.readStream(streamName, { fromRevision: revision, maxCount: 1 }).then(({ events }) => {
        const erasure = events[0];
        if (erasure && !isErasedIdentityEvent(erasure)) {
          throw new ConflictError('IDENTITY.ERASURE_PENDING', `Identity "${identifier}" is being erased (its key is not destroyed yet): repeat the erasure to finish it, then write it again`);
        }
        return command;
      });
    };
  }

  /** Merges traits: each given trait is set, a null value removes it. */
  async updateTraits(
    request: RequestContext,
    reference: string,
    identifier: string,
    traits: Record<string, TraitValue | null>,
    expectedRevision?: number,
  ): Promise<Versioned<IdentityView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'change identities');
    this.identity(project, environment, identifier);
    await this.run(request, project, environment, identifier, { type: 'UpdateTraits', traits, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
    return this.identity(project, environment, identifier);
  }

  /** Replaces all traits with the given ones. */
  async replaceTraits(
    request: RequestContext,
    reference: string,
    identifier: string,
    traits: Record<string, TraitValue>,
    expectedRevision?: number,
  ): Promise<Versioned<IdentityView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'change identities');
    this.identity(project, environment, identifier);
    await this.run(request, project, environment, identifier, { type: 'ReplaceTraits', traits, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
    return this.identity(project, environment, identifier);
  }

  async delete(request: RequestContext, reference: string, identifier: string, expectedRevision?: number): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'delete identities');
    this.identity(project, environment, identifier);
    await this.run(request, project, environment, identifier, { type: 'DeleteIdentity', ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  }

  /**
   * Erases the identity's personal data (GDPR, organisation admins only): records IdentityErased
   * in its stream, waits until the catalog and the evaluation read models have dropped it, then
   * destroys the key that sealed its events, which read as erased from then on. A deleted
   * identity can be erased too; erasing one already erased destroys its key again if a crash came
   * between the event and the key (so a repeated request finishes the job).
   */
  async erase(request: RequestContext, reference: string, identifier: string): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'admin', 'erase identities');
    const erasure = this.context.deps.erasure;
    if (!erasure) throw new ConflictError('IDENTITY.ERASURE_UNAVAILABLE', 'This instance keeps no sealing keys, so it cannot erase personal data');
    const identityId = this.context.identityIdFor(environment.environmentId, identifier);
    const result = await this.run(request, project, environment, identifier, {
      type: 'EraseIdentity',
      identityId,
      projectId: project.projectId,
      environmentId: environment.environmentId,
      identifier,
    });
    const streamName = toIdentityStreamName(identityId);
    // Erased before (a repeat): the key waits for the projection of the IdentityErased already stored.
    const position = result.position ?? (await this.context.deps.store.readStream(streamName)).events.at(-1)?.globalPosition ?? null;
    if (result.position === null && position !== null) {
      // A repeat answers before anything is applied: the catalog and the read models must have
      // dropped the identity (which they read by its key) before the key goes.
      await this.context.catalog.waitFor(position);
      await this.context.deps.projectionBarrier?.(position);
    }
    await erasure.destroyKey(streamName, { projectId: project.projectId, position });
    // As-of reads keep snapshots of long streams in memory: the erased identity's go with its key.
    this.context.history.snapshots.forget(streamName);
    await erasure.scrub?.();
  }

  /** Sets (creates or replaces) the identity's override of one feature of the environment's project. */
  async setOverride(request: RequestContext, reference: string, identifier: string, featureId: number, input: IdentityOverrideInput): Promise<Versioned<IdentityView>> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'set identity overrides');
    this.identity(project, environment, identifier);
    const feature = project.features.get(featureId);
    if (!feature) throw new ConflictError('FEATURE.NOT_IN_PROJECT', `Feature ${featureId} does not belong to project ${project.projectId}`);
    const allocations = checkAllocations(feature, input.multivariateAllocations ?? []);
    const current = environment.featureStates.get(featureId);
    await this.run(request, project, environment, identifier, {
      type: 'SetIdentityOverride',
      featureId,
      featureStateUuid: randomUUID(),
      enabled: input.enabled,
      value: input.value !== undefined ? input.value : (current?.value ?? null),
      allocations,
    });
    return this.identity(project, environment, identifier);
  }

  async removeOverride(request: RequestContext, reference: string, identifier: string, featureId: number): Promise<void> {
    const { project, environment } = this.lookup.environment(request.principal, reference, 'member', 'remove identity overrides');
    this.identity(project, environment, identifier);
    await this.run(request, project, environment, identifier, { type: 'RemoveIdentityOverride', featureId });
  }

  /**
   * Records an identity seen by an SDK (get or create, then apply its traits). Nothing is
   * written when the identity exists and its traits are unchanged.
   */
  async recordFromSdk(input: {
    environmentId: number;
    identifier: string;
    traits: Record<string, TraitValue | null>;
    actor: Actor;
    correlationId: string;
    /** The caller found no such identity: it is taken as new without a lookup (the append still checks it). */
    absent?: boolean;
  }): Promise<number | null> {
    const project = this.context.catalog.projectHolding('environmentId', input.environmentId);
    const environment = project?.environments.get(input.environmentId);
    if (!project || !environment) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', 'Environment not found');
    // The hot write of SDK identify: the id (a SHA-256) and the time are taken once for the command and its events.
    const identityId = this.context.identityIdFor(environment.environmentId, input.identifier);
    const now = this.context.clock();
    const streamName = toIdentityStreamName(identityId);
    const result = await this.context.identities.handle(
      streamName,
      this.unlessErasurePending(streamName, input.identifier, {
        type: 'RecordIdentity',
        identityId,
        projectId: project.projectId,
        environmentId: environment.environmentId,
        identifier: input.identifier,
        traits: input.traits,
        now: now.toISOString(),
      }),
      {
        commandId: randomUUID(),
        actor: input.actor,
        now,
        correlationId: input.correlationId,
        organisationId: String(project.organisationId),
        projectId: String(project.projectId),
      },
      // The command id is made here, never sent by a client: its event ids cannot be stored yet.
      input.absent ? { expectNoStream: true, freshCommandId: true } : { freshCommandId: true },
    );
    if (result.position !== null) {
      await this.context.catalog.waitFor(result.position);
      await this.context.deps.projectionBarrier?.(result.position);
    }
    return result.position;
  }
}
