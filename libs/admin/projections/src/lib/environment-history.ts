import { identityIdFor, toIdentityStreamName, toProjectStreamName } from '@flagline/admin-domain';
import type { EnvironmentDocument, IdentityDocument, ProjectDocument } from '@flagline/contracts';
import type { EventStore, RecordedEvent } from '@flagline/event-sourcing';
import { keepsSnapshotAfter, StreamSnapshots } from './catalog-history';
import { applyToEnvironments, isProjectable } from './environment.projection';

/** The environment projection's state for one project: the project and its environments' documents. */
export interface ProjectDocuments {
  readonly project: ProjectDocument | null;
  readonly environments: ReadonlyMap<number, EnvironmentDocument>;
}

const NO_DOCUMENTS: ProjectDocuments = { project: null, environments: new Map() };

/**
 * `documents` after one more event of the project's stream: the environment projection applied as
 * the projector applies it (the same pure fold). Events of other kinds leave them as they are.
 */
export function projectDocumentsAfter(documents: ProjectDocuments, event: RecordedEvent): ProjectDocuments {
  if (!isProjectable(event)) return documents;
  const output = applyToEnvironments(event, { project: documents.project, environments: documents.environments, identity: null });
  if (output.project === undefined && output.environments.size === 0) return documents;
  const environments = new Map(documents.environments);
  for (const [environmentId, document] of output.environments) {
    if (document === null) environments.delete(environmentId);
    else environments.set(environmentId, document);
  }
  return { project: output.project === undefined ? documents.project : output.project, environments };
}

/**
 * An identity's document after its stream's events, folded with the same projection: `environment`
 * is the document of the identity's environment (overrides are checked against it).
 */
export function identityDocumentAfter(events: readonly RecordedEvent[], environment: EnvironmentDocument): IdentityDocument | null {
  let identity: IdentityDocument | null = null;
  const environments = new Map([[environment.environmentId, environment]]);
  for (const event of events) {
    if (!isProjectable(event)) continue;
    const output = applyToEnvironments(event, { project: null, environments, identity });
    if (output.identity !== undefined) identity = output.identity.document;
  }
  return identity;
}

export interface EnvironmentHistoryOptions {
  /** A project's documents are kept after every this many events of its stream, as folds pass them (default 128). */
  readonly snapshotEvery?: number;
  /**
   * About this many are kept over all projects; the projects read least recently lose theirs first
   * (default 1,000). A project folded past that many snapshots keeps them further apart (twice as
   * far each time), and one project alone over it keeps every second of its own.
   */
  readonly maxSnapshots?: number;
  /** The instance's identity ids (`identityIdsWith`); the unkeyed digest by default. */
  readonly identityIds?: (environmentId: number, identifier: string) => string;
}

/**
 * Environment documents and identity documents as they were at a point of the log: what the SDK
 * API served then. The project's stream is folded with the environment projection up to the
 * position, from the latest kept snapshot at or before it (taken every `snapshotEvery` events of
 * the stream while folding, in a bounded cache), so a project of many thousands of events is
 * folded once and any point of it later costs at most `snapshotEvery` events. An identity's stream
 * (short: one event per change of that identity) is folded from its start.
 *
 * Reads the store as the projector does (upcast to today's shapes).
 */
export class EnvironmentHistory {
  readonly snapshots: StreamSnapshots;
  private readonly every: number;
  private readonly max: number;
  private readonly identityIds: (environmentId: number, identifier: string) => string;

  constructor(
    private readonly store: Pick<EventStore, 'readStream'>,
    options: EnvironmentHistoryOptions = {},
  ) {
    this.identityIds = options.identityIds ?? identityIdFor;
    this.every = options.snapshotEvery ?? 128;
    this.max = options.maxSnapshots ?? 1_000;
    this.snapshots = new StreamSnapshots(this.max);
  }

  /** The project's documents after its last event at or before `position`. */
  async projectDocumentsAt(projectId: number, position: number): Promise<ProjectDocuments> {
    const streamName = toProjectStreamName(projectId);
    let current = this.snapshots.latestAt<ProjectDocuments>(streamName, position);
    let documents = current?.state ?? NO_DOCUMENTS;
    for (;;) {
      const fromRevision = current ? current.revision + 1 : 0;
      const { events } = await this.store.readStream(streamName, { fromRevision, maxCount: this.every });
      for (const event of events) {
        if (event.globalPosition > position) return documents;
        documents = projectDocumentsAfter(documents, event);
        current = { state: documents, revision: event.streamRevision, position: event.globalPosition };
        if (keepsSnapshotAfter(event.streamRevision, this.every, this.max)) this.snapshots.add(streamName, current);
      }
      if (events.length < this.every) return documents;
    }
  }

  /** An environment's document at `position`; null when it did not exist then. */
  async environmentDocumentAt(projectId: number, environmentId: number, position: number): Promise<EnvironmentDocument | null> {
    return (await this.projectDocumentsAt(projectId, position)).environments.get(environmentId) ?? null;
  }

  /** The identity's document at `position` in `environment` (its document at that position); null when it was not stored then. */
  async identityDocumentAt(environment: EnvironmentDocument, identifier: string, position: number): Promise<IdentityDocument | null> {
    const streamName = toIdentityStreamName(this.identityIds(environment.environmentId, identifier));
    const events: RecordedEvent[] = [];
    for (let fromRevision = 0; ; ) {
      const page = await this.store.readStream(streamName, { fromRevision, maxCount: 256 });
      for (const event of page.events) if (event.globalPosition <= position) events.push(event);
      const last = page.events[page.events.length - 1];
      if (page.events.length < 256 || last === undefined || last.globalPosition > position) break;
      fromRevision = last.streamRevision + 1;
    }
    return identityDocumentAfter(events, environment);
  }
}
