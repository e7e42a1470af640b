import { readModelKeys, type EnvironmentDocument, type IdentityDocument, type IdentityRef, type ProjectDocument, type ReadModelStore, type ReadModelWrite } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { applyToEnvironments, environmentsTouchedBy, identityTouchedBy, isProjectable, projectIdOf } from './environment.projection';

export type ProjectionOutcome = 'applied' | 'duplicate' | 'ignored';

/** The checkpoint of one project's events: they are applied in log order, each exactly once. */
export const projectCheckpointKey = (projectId: number): string => readModelKeys.checkpoint(`project:${projectId}`);

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
    if (!isProjectable(event)) return 'ignored';
    const projectId = projectIdOf(event);
    const checkpointKey = projectCheckpointKey(projectId);
    const maxAttempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const checkpoint = await this.store.checkpoint(checkpointKey);
      if (event.globalPosition <= checkpoint) return 'duplicate';
      const project = await this.store.get<ProjectDocument>(readModelKeys.project(projectId));
      const environmentIds = environmentsTouchedBy(event, project);
      const identityRef = identityTouchedBy(event);
      const [environmentDocs, identity] = await Promise.all([
        this.store.getMany<EnvironmentDocument>(environmentIds.map(readModelKeys.environment)),
        identityRef ? this.store.get<IdentityDocument>(readModelKeys.identity(identityRef.environmentId, identityRef.identifier)) : null,
      ]);
      const environments = new Map<number, EnvironmentDocument>();
      environmentDocs.forEach((doc, index) => {
        if (doc) environments.set(environmentIds[index] as number, doc);
      });

      const output = applyToEnvironments(event, { project, environments, identity });

      const writes: ReadModelWrite[] = [];
      if (output.project !== undefined) {
        const key = readModelKeys.project(projectId);
        writes.push(output.project ? { key, value: output.project } : { key, delete: true });
      }
      for (const [environmentId, document] of output.environments) {
        const key = readModelKeys.environment(environmentId);
        writes.push(document ? { key, value: document } : { key, delete: true });
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
}
