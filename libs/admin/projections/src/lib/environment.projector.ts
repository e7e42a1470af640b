import {
  readModelKeys,
  type EnvironmentDocument,
  type IdentityDocument,
  type IdentityRef,
  type OrganisationDocument,
  type ProjectDocument,
  type ReadModelStore,
  type ReadModelWrite,
} from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { applyToEnvironments, environmentsAnIdentityEventReads, environmentsTouchedBy, identityTouchedBy, isProjectable, projectIdOf } from './environment.projection';
import { isOrganisationNameEvent, organisationDocumentAfter, withOrganisation, type OrganisationNameEvent } from './organisation-name.projection';

export type ProjectionOutcome = 'applied' | 'duplicate' | 'ignored';

/** The checkpoint of one project's events: they are applied in log order, each exactly once. */
export const projectCheckpointKey = (projectId: number): string => readModelKeys.checkpoint(`project:${projectId}`);

/** The checkpoint of one organisation's name events. */
export const organisationCheckpointKey = (organisationId: number): string => readModelKeys.checkpoint(`organisation:${organisationId}`);

/**
 * Applies events to the read-model store. Each event is one atomic commit guarded by its
 * project's checkpoint: an event at or below the checkpoint is a duplicate and writes nothing;
 * a commit that lost a race to another projector instance is retried on fresh documents.
 */
export class EnvironmentProjector {
  constructor(
    private readonly store: ReadModelStore,
    private readonly options: { readonly maxAttempts?: number } = {},
  ) {}

  async handle(event: RecordedEvent): Promise<ProjectionOutcome> {
    if (isOrganisationNameEvent(event)) return this.handleOrganisation(event);
    if (!isProjectable(event)) return 'ignored';
    const projectId = projectIdOf(event);
    const checkpointKey = projectCheckpointKey(projectId);
    const maxAttempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const checkpoint = await this.store.checkpoint(checkpointKey);
      if (event.globalPosition <= checkpoint) return 'duplicate';
      // Identity events never read the project's document, and read the environment's only when
      // they may change it (or must know it exists): a new identity costs the same in any project.
      const identityRef = identityTouchedBy(event);
      // An identity stream's first event starts from nothing (the document is keyed as the stream
      // is): no read for a new identity, whose key the store would look up in vain.
      const project = identityRef ? null : await this.store.get<ProjectDocument>(readModelKeys.project(projectId));
      const identity =
        identityRef && event.streamRevision > 0 ? await this.store.get<IdentityDocument>(readModelKeys.identity(identityRef.environmentId, identityRef.identifier)) : null;
      const environmentIds = identityRef ? environmentsAnIdentityEventReads(event, identity) : environmentsTouchedBy(event, project);
      const environmentDocs = environmentIds.length > 0 ? await this.store.getMany<EnvironmentDocument>(environmentIds.map(readModelKeys.environment)) : [];
      const environments = new Map<number, EnvironmentDocument>();
      environmentDocs.forEach((doc, index) => {
        if (doc) environments.set(environmentIds[index] as number, doc);
      });

      const output = applyToEnvironments(event, { project, environments, identity });
      // The organisation's name comes from its own stream: read as it is now (see withOrganisation).
      const organisationId = output.project?.organisationId ?? project?.organisationId ?? environments.values().next().value?.project.organisationId;
      const organisation =
        organisationId !== undefined && output.environments.size > 0 ? await this.store.get<OrganisationDocument>(readModelKeys.organisation(organisationId)) : null;

      const writes: ReadModelWrite[] = [];
      if (output.project !== undefined) {
        const key = readModelKeys.project(projectId);
        writes.push(output.project ? { key, value: output.project } : { key, delete: true });
      }
      for (const [environmentId, document] of output.environments) {
        const key = readModelKeys.environment(environmentId);
        writes.push(document ? { key, value: withOrganisation(document, organisation, environments.get(environmentId)) } : { key, delete: true });
      }
      const changedIdentities: IdentityRef[] = [];
      if (output.identity) {
        const { environmentId, identifier, document } = output.identity;
        const key = readModelKeys.identity(environmentId, identifier);
        writes.push(document ? { key, value: document } : { key, delete: true });
        changedIdentities.push({ environmentId, identifier });
      }
      for (const environmentId of output.dropIdentitiesOf) {
        for (const key of await this.store.keysWithPrefix(readModelKeys.identityPrefix(environmentId))) writes.push({ key, delete: true });
      }

      const applied = await this.store.commit({
        checkpoint: { key: checkpointKey, expected: checkpoint, next: event.globalPosition },
        writes,
        changedEnvironments: [...output.environments.keys()],
        changedIdentities,
      });
      if (applied) return 'applied';
      if (attempt >= maxAttempts) throw new Error(`Projection of event ${event.id} kept losing races on project ${projectId}`);
    }
  }

  /**
   * An organisation's name, kept in its own document and copied into the environment documents
   * of its projects (found through the project documents), each copy a new revision. Guarded by
   * the organisation's checkpoint, as project events are by theirs.
   */
  private async handleOrganisation(event: OrganisationNameEvent): Promise<ProjectionOutcome> {
    const organisationId = event.data.organisationId;
    const checkpointKey = organisationCheckpointKey(organisationId);
    const maxAttempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const checkpoint = await this.store.checkpoint(checkpointKey);
      if (event.globalPosition <= checkpoint) return 'duplicate';
      const key = readModelKeys.organisation(organisationId);
      const organisation = organisationDocumentAfter(event, await this.store.get<OrganisationDocument>(key));
      const writes: ReadModelWrite[] = [organisation ? { key, value: organisation } : { key, delete: true }];
      const changedEnvironments: number[] = [];
      if (organisation) {
        const projects = await this.store.getMany<ProjectDocument>(await this.store.keysWithPrefix(readModelKeys.projectPrefix));
        const environmentIds = projects.flatMap((project) => (project?.organisationId === organisationId ? project.environmentIds : []));
        const documents = await this.store.getMany<EnvironmentDocument>(environmentIds.map(readModelKeys.environment));
        for (const document of documents) {
          if (!document || (document.project.organisationRevision ?? 0) >= organisation.revision) continue;
          const named = withOrganisation(document, organisation);
          writes.push({ key: readModelKeys.environment(document.environmentId), value: named });
          changedEnvironments.push(document.environmentId);
        }
      }
      const applied = await this.store.commit({ checkpoint: { key: checkpointKey, expected: checkpoint, next: event.globalPosition }, writes, changedEnvironments, changedIdentities: [] });
      if (applied) return 'applied';
      if (attempt >= maxAttempts) throw new Error(`Projection of event ${event.id} kept losing races on organisation ${organisationId}`);
    }
  }
}
