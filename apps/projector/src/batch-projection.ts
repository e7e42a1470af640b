import { EnvironmentProjector, identityTouchedBy, isProjectable, organisationCheckpointKey, projectCheckpointKey, projectIdOf, type ProjectionOutcome } from '@flagline/admin-projections';
import { readModelKeys, type BatchReadModelStore, type ProjectDocument } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { BatchingReadModelStore, type ReadModelPrefetch } from '@flagline/read-model';

/** The organisation events the projection reads: those that set or drop its name. */
const ORGANISATION_NAME_EVENTS: ReadonlySet<string> = new Set(['OrganisationCreated', 'OrganisationRenamed', 'OrganisationDeleted']);

/** The organisation of a name event (guarded by the organisation's checkpoint), or null. */
function organisationIdOf(event: RecordedEvent): number | null {
  if (!ORGANISATION_NAME_EVENTS.has(event.type)) return null;
  const id = (event.data as { organisationId?: unknown } | null)?.organisationId;
  return typeof id === 'number' ? id : null;
}

/**
 * What the events of a batch will read, so that it is fetched in two round trips rather than
 * several per event: each project's checkpoint and document, each identity's document, each
 * organisation's checkpoint. Environment documents are read on first use (a handful per batch).
 */
export function prefetchFor(events: readonly RecordedEvent[]): ReadModelPrefetch {
  const documents = new Set<string>();
  const checkpoints = new Set<string>();
  for (const event of events) {
    if (isProjectable(event)) {
      const projectId = projectIdOf(event);
      checkpoints.add(projectCheckpointKey(projectId));
      documents.add(readModelKeys.project(projectId));
      const identity = identityTouchedBy(event);
      if (identity) documents.add(readModelKeys.identity(identity.environmentId, identity.identifier));
      continue;
    }
    const organisationId = organisationIdOf(event);
    if (organisationId !== null) checkpoints.add(organisationCheckpointKey(organisationId));
  }
  return { documents: [...documents], checkpoints: [...checkpoints] };
}

/**
 * The environment projection a batch of events at a time: `EnvironmentProjector.handle` runs for
 * each event, in order, on a BatchingReadModelStore over the real store, and the batch is written
 * as one atomic commit guarded by every project and organisation checkpoint it moved, and by the
 * organisation checkpoints of its projects (an organisation's rename rewrites their environment
 * documents: applied meanwhile, it makes the batch run again). Events at
 * or below their checkpoint are duplicates, as one by one, so a redelivered batch, or one that
 * overlaps a batch already applied, writes nothing twice. A lost race runs the batch again on
 * fresh reads.
 */
export class BatchProjection {
  constructor(private readonly store: BatchReadModelStore) {}

  apply(events: readonly RecordedEvent[]): Promise<ProjectionOutcome[]> {
    return BatchingReadModelStore.run(this.store, async (overlay) => {
      const needs = prefetchFor(events);
      await overlay.prefetch(needs);
      // Environment documents carry their organisation's name, which organisation events rewrite
      // under the organisation's checkpoint: guard it too, before any environment document is read.
      const projects = await overlay.getMany<ProjectDocument>((needs.documents ?? []).filter((key) => key.startsWith(readModelKeys.projectPrefix)));
      const organisations = new Set(projects.flatMap((project) => (project ? [project.organisationId] : [])));
      await overlay.guard([...organisations].map(organisationCheckpointKey));
      // The other way round: an organisation's rename rewrites the environment documents of its
      // projects, which their own events change under their checkpoints: guard those.
      await overlay.guard(await this.projectCheckpointsOf(events));
      const projector = new EnvironmentProjector(overlay);
      const outcomes: ProjectionOutcome[] = [];
      for (const event of events) outcomes.push(await projector.handle(event));
      return outcomes;
    });
  }

  /**
   * The checkpoints of the projects of the organisations whose name events are in the batch,
   * found in the project documents as they are now. Read from the store itself, not the batch:
   * the batch reads them again after their guards, so none it uses can be older than its guard.
   */
  private async projectCheckpointsOf(events: readonly RecordedEvent[]): Promise<string[]> {
    const organisations = new Set(events.flatMap((event) => {
      const organisationId = organisationIdOf(event);
      return organisationId === null ? [] : [organisationId];
    }));
    if (organisations.size === 0) return [];
    const projects = await this.store.getMany<ProjectDocument>(await this.store.keysWithPrefix(readModelKeys.projectPrefix));
    return projects.flatMap((project) => (project && organisations.has(project.organisationId) ? [projectCheckpointKey(project.projectId)] : []));
  }
}
