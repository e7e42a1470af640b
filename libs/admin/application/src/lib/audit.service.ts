import { NotFoundError, toIdentityStreamName, toUserStreamName, type AdminEvent } from '@flagline/admin-domain';
import type { RecordedEvent } from '@flagline/event-sourcing';
import type { AuditEntity } from '@flagline/admin-projections';
import type { AdminContext, RequestContext } from './admin-context';
import { Lookup } from './lookup';
import { requireRole } from './principal';
import { auditEntryView, type AuditEntryView, type Page } from './views';

export type HistoryTarget =
  | { readonly kind: 'user'; readonly userId: number }
  | { readonly kind: 'organisation'; readonly organisationId: number }
  | { readonly kind: 'project'; readonly projectId: number }
  | { readonly kind: 'feature'; readonly projectId: number; readonly featureId: number }
  | { readonly kind: 'segment'; readonly projectId: number; readonly segmentId: number }
  | { readonly kind: 'tag'; readonly projectId: number; readonly tagId: number }
  | { readonly kind: 'environment'; readonly environment: string }
  | { readonly kind: 'identity'; readonly environment: string; readonly identifier: string };

interface HistoryQuery {
  readonly after?: number;
  readonly limit: number;
  readonly types?: ReadonlySet<string>;
}

/** Events read per stream read when paging an identity's history. */
const STREAM_CHUNK = 500;

/** The event history of any entity, with who, when and what changed, in log order. */
export class AuditService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog);
  }

  /** The entity a history (or an export filtered on it) names, when the caller may read it; not found otherwise. */
  entity(request: RequestContext, target: HistoryTarget): AuditEntity {
    const { principal } = request;
    const what = 'read history';
    switch (target.kind) {
      case 'user': {
        // A user's own history (profile and keys); the instance administrator reads anyone's, deleted users' too.
        const own = principal.kind === 'user' && principal.userId === target.userId && this.context.catalog.user(target.userId) !== undefined;
        const administrator = principal.kind === 'user' && principal.isSuperuser && this.context.catalog.snapshot(toUserStreamName(target.userId)) !== undefined;
        if (!own && !administrator) throw new NotFoundError('USER.NOT_FOUND', 'User not found');
        return { kind: 'user', id: target.userId };
      }
      case 'organisation': {
        const notFound = () => new NotFoundError('ORGANISATION.NOT_FOUND', 'Organisation not found');
        if (!this.context.catalog.organisation(target.organisationId)) throw notFound();
        requireRole(this.context.catalog, principal, target.organisationId, 'member', what, notFound);
        return { kind: 'organisation', id: target.organisationId };
      }
      case 'project':
        this.lookup.project(principal, target.projectId, 'member', what);
        return { kind: 'project', id: target.projectId };
      case 'feature': {
        // History outlives the entity: a deleted feature's history stays readable in its project.
        this.lookup.project(principal, target.projectId, 'member', what);
        if (this.context.catalog.projectHolding('featureId', target.featureId)?.projectId !== target.projectId)
          throw new NotFoundError('FEATURE.NOT_FOUND', `Feature ${target.featureId} not found in this project`);
        return { kind: 'feature', id: target.featureId };
      }
      case 'segment':
        this.lookup.project(principal, target.projectId, 'member', what);
        if (this.context.catalog.projectHolding('segmentId', target.segmentId)?.projectId !== target.projectId)
          throw new NotFoundError('SEGMENT.NOT_FOUND', `Segment ${target.segmentId} not found in this project`);
        return { kind: 'segment', id: target.segmentId };
      case 'tag':
        this.lookup.project(principal, target.projectId, 'member', what);
        if (this.context.catalog.projectHolding('tagId', target.tagId)?.projectId !== target.projectId)
          throw new NotFoundError('TAG.NOT_FOUND', `Tag ${target.tagId} not found in this project`);
        return { kind: 'tag', id: target.tagId };
      case 'environment':
        return { kind: 'environment', id: this.environmentId(principal, target.environment) };
      case 'identity':
        return { kind: 'identity', environmentId: this.environmentId(principal, target.environment), identifier: target.identifier };
    }
  }

  /**
   * The environment a history route names. History outlives the entity: a deleted environment's
   * history (and its identities') stays readable by id while its project is.
   */
  private environmentId(principal: RequestContext['principal'], reference: string): number {
    try {
      return this.lookup.environment(principal, reference, 'member', 'read history').environment.environmentId;
    } catch (error) {
      const project = /^\d+$/.test(reference) ? this.context.catalog.projectHolding('environmentId', Number(reference)) : undefined;
      if (!(error instanceof NotFoundError) || !project) throw error;
      requireRole(this.context.catalog, principal, project.organisationId, 'member', 'read history', () => error);
      return Number(reference);
    }
  }

  /**
   * The catalog's audit index gives where the entity's events are; the events themselves are read
   * back from the event store (the log already keeps them: the catalog holds no copy, so its
   * memory and files do not grow with what events carry). An identity's history is its stream.
   */
  async history(request: RequestContext, target: HistoryTarget, options: { after?: number; limit: number; types?: readonly string[] }): Promise<Page<AuditEntryView>> {
    const entity = this.entity(request, target);
    const query = {
      ...(options.after !== undefined ? { after: options.after } : {}),
      limit: options.limit,
      ...(options.types && options.types.length > 0 ? { types: new Set(options.types) } : {}),
    };
    const page =
      entity.kind === 'identity'
        ? await this.streamPage(toIdentityStreamName(this.context.identityIdFor(entity.environmentId, entity.identifier)), query)
        : await this.indexedPage(entity, query);
    return { results: page.events.map((event) => this.withoutUnsharedUser(request.principal, auditEntryView(event))), next: page.next === null ? null : String(page.next) };
  }

  private async indexedPage(entity: AuditEntity, query: HistoryQuery): Promise<{ events: RecordedEvent<AdminEvent>[]; next: number | null }> {
    const page = this.context.catalog.history(entity, query);
    return { events: await this.context.eventsAt(page.entries), next: page.next };
  }

  /** A page of one stream's events after a position, of some types, read in chunks. */
  private async streamPage(streamName: string, query: HistoryQuery): Promise<{ events: RecordedEvent<AdminEvent>[]; next: number | null }> {
    const after = query.after ?? 0;
    const events: RecordedEvent<AdminEvent>[] = [];
    let more = false;
    for (let fromRevision = 0; !more; ) {
      const chunk = (await this.context.deps.store.readStream(streamName, { fromRevision, maxCount: STREAM_CHUNK })).events;
      for (const event of chunk) {
        if (event.globalPosition <= after || (query.types && !query.types.has(event.type))) continue;
        if (events.length === query.limit) {
          more = true;
          break;
        }
        events.push(event as RecordedEvent<AdminEvent>);
      }
      const last = chunk[chunk.length - 1];
      if (!last || chunk.length < STREAM_CHUNK) break;
      fromRevision = last.streamRevision + 1;
    }
    const last = events[events.length - 1];
    return { events, next: more && last ? last.globalPosition : null };
  }

  /**
   * A declined invitation names the user who declined it, who has not joined: to anyone who shares
   * no organisation with that user, the entry keeps the invited email (which its organisation chose)
   * but not the user's id, in the data or the actor, so that inviting an email never tells which
   * user holds it.
   */
  private withoutUnsharedUser(principal: RequestContext['principal'], entry: AuditEntryView): AuditEntryView {
    if (entry.type !== 'InvitationDeclined' || typeof entry.data !== 'object' || entry.data === null || !('userId' in entry.data)) return entry;
    const { userId, ...data } = entry.data;
    if (typeof userId !== 'number' || seesUser(this.context.catalog, principal, userId)) return entry;
    return { ...entry, data, actor: entry.actor.kind === 'user' && entry.actor.id === String(userId) ? { ...entry.actor, id: '' } : entry.actor };
  }
}

/** Whether a user is visible to the caller: themselves, or sharing an organisation with them (the administrator sees everyone). */
export function seesUser(catalog: AdminContext['catalog'], principal: RequestContext['principal'], userId: number): boolean {
  if (principal.kind === 'user' && (principal.isSuperuser || principal.userId === userId)) return true;
  const mine = new Set(principal.kind === 'organisation-key' ? [principal.organisationId] : catalog.organisationsOf(principal.userId).map(({ organisation }) => organisation.organisationId));
  return catalog.organisationsOf(userId).some(({ organisation }) => mine.has(organisation.organisationId));
}
