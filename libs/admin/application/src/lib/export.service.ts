import { NotFoundError, ValidationError, toIdentityStreamName, toOrganisationStreamName, toUserStreamName, upcastRecordedAdminEvent, type AdminEvent } from '@flagline/admin-domain';
import { auditEntityKey, auditKeysOf, type AuditEntity } from '@flagline/admin-projections';
import type { CatalogEventAddress, EventMetadata, EventStore, JsonValue, RecordedEvent } from '@flagline/event-sourcing';
import type { AdminContext, RequestContext } from './admin-context';
import { seesUser, type AuditService, type HistoryTarget } from './audit.service';
import type { Principal } from './principal';

/** What an export names as its entity: any entity with a history (an environment by id or client key). */
export type ExportEntity =
  | { readonly kind: 'organisation' | 'project' | 'feature' | 'segment' | 'tag' | 'user'; readonly id: number }
  | { readonly kind: 'environment'; readonly environment: string }
  | { readonly kind: 'identity'; readonly environment: string; readonly identifier: string };

export interface ExportQuery {
  /** Events strictly after this log position (resuming an export after its last line). */
  readonly after?: number;
  /** `recordedAt` at or after this instant (ms since the epoch). */
  readonly from?: number;
  /** `recordedAt` at or before this instant (ms since the epoch). */
  readonly to?: number;
  readonly types?: readonly string[];
  readonly entity?: ExportEntity;
  /** The actor's id (`metadata.actor.id`). */
  readonly actor?: string;
  /** At most this many events. */
  readonly limit?: number;
  /**
   * With `entity` a project: also what replaying its events into an empty instance needs, that
   * the caller may read: its organisation's stream, the user streams, the id sequence.
   */
  readonly replayable?: boolean;
}

/**
 * One exported event: the stored event exactly as the log keeps it (never upcast), with its log
 * position. `redacted` names the fields left out because the caller may not see them (a line
 * that has any no longer hashes to its leaf).
 */
export interface ExportedEvent {
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly streamName: string;
  readonly streamRevision: number;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
  readonly recordedAt: string;
  readonly redacted?: readonly string[];
}

export interface ExportPlan {
  /** Position of the last event the export covers: the log's head when it started. */
  readonly head: number;
  /** The position it starts after. */
  readonly after: number;
  /** The events, in log order, read in pages: only one page is held at a time. */
  events(): AsyncGenerator<ExportedEvent>;
}

/** Events read from the log per page. */
const PAGE = 1000;

/** Streams that no organisation or user owns (the id sequence): the instance administrator's alone. */
const isInstanceStream = (streamName: string): boolean => streamName.startsWith('sequence-');

/** The numeric suffix of `<prefix><n>`, or undefined. */
function idOfStream(streamName: string, prefix: string): number | undefined {
  if (!streamName.startsWith(prefix)) return undefined;
  const id = Number(streamName.slice(prefix.length));
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Who owns an event for reading: the organisation it belongs to, a user (their own stream), or the instance. */
function ownerOf(event: RecordedEvent): { readonly organisationId: number } | { readonly userId: number } | null {
  const organisationStream = idOfStream(event.streamName, toOrganisationStreamName(0).slice(0, -1));
  if (organisationStream !== undefined) return { organisationId: organisationStream };
  const userStream = idOfStream(event.streamName, toUserStreamName(0).slice(0, -1));
  if (userStream !== undefined) return { userId: userStream };
  const routed = Number(event.metadata.organisationId);
  return event.metadata.organisationId !== undefined && Number.isSafeInteger(routed) ? { organisationId: routed } : null;
}

/**
 * Streaming exports of the event log, as stored, scoped to what the caller may read: the instance
 * administrator reads everything; a user the events of the organisations they belong to (theirs,
 * their projects', environments' and identities') and their own user stream; an organisation key
 * its organisation's. Filters: after a position, a `recordedAt` range, types, an entity (as its
 * history route names it, through the catalog's audit keys) and an actor.
 */
export class ExportService {
  constructor(
    private readonly context: AdminContext,
    private readonly audit: AuditService,
  ) {}

  private get log(): EventStore {
    return this.context.deps.storedLog ?? this.context.deps.store;
  }

  /** Checks the query against what the caller may read (a named entity they may not is not found) and fixes the head. */
  async plan(request: RequestContext, query: ExportQuery): Promise<ExportPlan> {
    const { principal } = request;
    const entity = query.entity ? this.audit.entity(request, this.targetOf(query.entity)) : undefined;
    const head = await this.log.headPosition();
    const after = query.after ?? 0;
    const visible = this.visibility(principal);
    const matches = this.matcher(principal, query, entity, visible);
    const redact = (event: RecordedEvent): ExportedEvent => this.exported(principal, event);
    const pages = this.pages(entity, query.replayable === true, await this.seek(after, query.from, head), head);
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    const { to } = query;
    return {
      head,
      after,
      async *events() {
        let count = 0;
        for await (const page of pages()) {
          for (const event of page) {
            if (count >= limit) return;
            // recordedAt never goes back along the log: past `to`, every later event is too.
            if (to !== undefined && Date.parse(event.recordedAt) > to) return;
            if (!visible(event) || !matches(event)) continue;
            count++;
            yield redact(event);
          }
        }
      },
    };
  }

  /**
   * Where an export with `from` starts: after the last event recorded before it (found by the
   * catalog history's search of the log by time), rather than reading the log from `after` only
   * to drop what is older. Never before `after`; the head when `from` is in the future.
   */
  private async seek(after: number, from: number | undefined, head: number): Promise<number> {
    if (from === undefined) return after;
    const before = new Date(from - 1);
    // Beyond the times a Date holds: before or after every event.
    if (Number.isNaN(before.getTime())) return from > 0 ? head : after;
    try {
      const { position } = await this.context.history.pointOf({ time: before.toISOString() }, 'from');
      return Math.max(after, position);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      if (error.code === 'ASOF.IN_FUTURE') return head;
      if (error.code === 'ASOF.BEFORE_LOG') return after;
      throw error;
    }
  }

  /**
   * Where the events come from: an identity's stream (exactly its history); an entity's entries in
   * the catalog's audit index, read back from the log as stored; the whole log otherwise (or for a
   * replayable project, whose organisation, users and sequence are no entity of the index).
   */
  private pages(entity: AuditEntity | undefined, replayable: boolean, after: number, head: number): () => AsyncGenerator<readonly RecordedEvent[]> {
    const log = this.log;
    if (entity?.kind === 'identity') return () => streamPages(log, toIdentityStreamName(this.context.identityIdFor(entity.environmentId, entity.identifier)), after, head);
    if (entity === undefined || replayable) return () => logPages(log, after, head);
    const catalog = this.context.catalog;
    return async function* indexed() {
      // The index is kept by following the log: wait until it holds everything up to the head.
      await catalog.waitFor(head);
      for (let cursor = after; ; ) {
        const page = catalog.history(entity, { after: cursor, limit: PAGE });
        const entries = page.entries.filter((entry) => entry.position <= head);
        if (entries.length > 0) yield await Promise.all(entries.map((entry) => storedEventAt(log, entry)));
        if (page.next === null || entries.length < page.entries.length) return;
        cursor = page.next;
      }
    };
  }

  private targetOf(entity: ExportEntity): HistoryTarget {
    const projectOf = (kind: 'featureId' | 'segmentId' | 'tagId', id: number, code: string, name: string): number => {
      const project = this.context.catalog.projectHolding(kind, id);
      if (!project) throw new NotFoundError(code, `${name} ${id} not found`);
      return project.projectId;
    };
    switch (entity.kind) {
      case 'user':
        return { kind: 'user', userId: entity.id };
      case 'organisation':
        return { kind: 'organisation', organisationId: entity.id };
      case 'project':
        return { kind: 'project', projectId: entity.id };
      case 'feature':
        return { kind: 'feature', featureId: entity.id, projectId: projectOf('featureId', entity.id, 'FEATURE.NOT_FOUND', 'Feature') };
      case 'segment':
        return { kind: 'segment', segmentId: entity.id, projectId: projectOf('segmentId', entity.id, 'SEGMENT.NOT_FOUND', 'Segment') };
      case 'tag':
        return { kind: 'tag', tagId: entity.id, projectId: projectOf('tagId', entity.id, 'TAG.NOT_FOUND', 'Tag') };
      case 'environment':
        return { kind: 'environment', environment: entity.environment };
      case 'identity':
        return { kind: 'identity', environment: entity.environment, identifier: entity.identifier };
    }
  }

  /** Whether the caller may read an event at all (before any filter); inclusion proofs are given on the same terms. */
  visibility(principal: Principal): (event: RecordedEvent) => boolean {
    if (principal.kind === 'user' && principal.isSuperuser) return () => true;
    const catalog = this.context.catalog;
    const organisations = new Set(
      principal.kind === 'organisation-key'
        ? catalog.organisation(principal.organisationId)
          ? [principal.organisationId]
          : []
        : catalog.organisationsOf(principal.userId).map(({ organisation }) => organisation.organisationId),
    );
    const ownUser = principal.kind === 'user' ? principal.userId : undefined;
    return (event) => {
      const owner = ownerOf(event);
      if (owner === null) return false;
      return 'userId' in owner ? owner.userId === ownUser : organisations.has(owner.organisationId);
    };
  }

  /** The filters of the query, over events the caller may read. */
  private matcher(principal: Principal, query: ExportQuery, entity: AuditEntity | undefined, visible: (event: RecordedEvent) => boolean): (event: RecordedEvent) => boolean {
    const types = query.types && query.types.length > 0 ? new Set(query.types) : undefined;
    const { from, to, actor } = query;
    const ofEntity = entity ? this.entityMatcher(principal, entity, query.replayable === true, visible) : undefined;
    return (event) => {
      if (types && !types.has(event.type)) return false;
      if (actor !== undefined && event.metadata.actor.id !== actor) return false;
      if (from !== undefined || to !== undefined) {
        const recordedAt = Date.parse(event.recordedAt);
        if ((from !== undefined && recordedAt < from) || (to !== undefined && recordedAt > to)) return false;
      }
      return ofEntity === undefined || ofEntity(event);
    };
  }

  /**
   * The entity's events as its history lists them (the catalog's audit keys of the event as the
   * code reads it today); an identity's are its stream. Replayable, a project's also take its
   * organisation's stream, the user streams and the id sequence (where the caller may read them).
   */
  private entityMatcher(principal: Principal, entity: AuditEntity, replayable: boolean, visible: (event: RecordedEvent) => boolean): (event: RecordedEvent) => boolean {
    if (entity.kind === 'identity') {
      const stream = toIdentityStreamName(this.context.identityIdFor(entity.environmentId, entity.identifier));
      return (event) => event.streamName === stream;
    }
    const key = auditEntityKey(entity);
    const keyed = (event: RecordedEvent): boolean => auditKeysOf(upcastRecordedAdminEvent(event) as RecordedEvent<AdminEvent>).includes(key);
    if (!replayable || entity.kind !== 'project') return keyed;
    const organisationId = this.context.catalog.project(entity.id)?.organisationId;
    const organisationStream = organisationId === undefined ? undefined : toOrganisationStreamName(organisationId);
    const administrator = principal.kind === 'user' && principal.isSuperuser;
    return (event) =>
      keyed(event) ||
      event.streamName === organisationStream ||
      (idOfStream(event.streamName, toUserStreamName(0).slice(0, -1)) !== undefined && visible(event)) ||
      (administrator && isInstanceStream(event.streamName));
  }

  /**
   * The stored event as exported. A declined invitation names the user who declined it: to a
   * caller who shares no organisation with that user, the user's id is left out (of the data and
   * the actor) and the line says so, as the organisation's history does.
   */
  private exported(principal: Principal, event: RecordedEvent): ExportedEvent {
    const line: ExportedEvent = {
      position: event.globalPosition,
      id: event.id,
      type: event.type,
      streamName: event.streamName,
      streamRevision: event.streamRevision,
      data: event.data as JsonValue,
      metadata: event.metadata,
      recordedAt: event.recordedAt,
    };
    if (event.type !== 'InvitationDeclined' || typeof event.data !== 'object' || event.data === null || !('userId' in event.data)) return line;
    const { userId, ...data } = event.data as { userId: unknown } & Record<string, JsonValue>;
    if (typeof userId !== 'number' || seesUser(this.context.catalog, principal, userId)) return line;
    const actor = event.metadata.actor;
    const actorIsUser = actor.kind === 'user' && actor.id === String(userId);
    return {
      ...line,
      data,
      metadata: actorIsUser ? { ...event.metadata, actor: { ...actor, id: '' } } : event.metadata,
      redacted: actorIsUser ? ['data.userId', 'metadata.actor.id'] : ['data.userId'],
    };
  }
}

/** The stored event at an address of the catalog. */
async function storedEventAt(log: EventStore, address: CatalogEventAddress): Promise<RecordedEvent> {
  const [event] = (await log.readStream(address.stream, { fromRevision: address.revision, maxCount: 1 })).events;
  if (!event || event.globalPosition !== address.position) throw new Error(`Event ${address.stream}@${address.revision} (position ${address.position}) missing from the event store`);
  return event;
}

/** The log after a position up to the head, a page at a time. */
async function* logPages(log: EventStore, after: number, head: number): AsyncGenerator<readonly RecordedEvent[]> {
  for (let position = after; position < head; ) {
    const page = await log.readAll({ after: position, maxCount: PAGE });
    const within = page.filter((event) => event.globalPosition <= head);
    if (within.length > 0) yield within;
    const last = page[page.length - 1];
    if (!last || within.length < page.length || page.length < PAGE) return;
    position = last.globalPosition;
  }
}

/** One stream's events after a log position up to the head, a page at a time. */
async function* streamPages(log: EventStore, streamName: string, after: number, head: number): AsyncGenerator<readonly RecordedEvent[]> {
  for (let fromRevision = 0; ; ) {
    const { events } = await log.readStream(streamName, { fromRevision, maxCount: PAGE });
    const within = events.filter((event) => event.globalPosition > after && event.globalPosition <= head);
    if (within.length > 0) yield within;
    const last = events[events.length - 1];
    if (!last || events.length < PAGE || last.globalPosition > head) return;
    fromRevision = last.streamRevision + 1;
  }
}
