import type { AdminEvent } from '@flagline/admin-domain';
import type { RecordedEvent } from '@flagline/event-sourcing';

/** Entities whose history can be asked for. */
export type AuditEntity =
  | { readonly kind: 'organisation'; readonly id: number }
  | { readonly kind: 'user'; readonly id: number }
  | { readonly kind: 'project'; readonly id: number }
  | { readonly kind: 'environment'; readonly id: number }
  | { readonly kind: 'feature'; readonly id: number }
  | { readonly kind: 'segment'; readonly id: number }
  | { readonly kind: 'tag'; readonly id: number }
  | { readonly kind: 'identity'; readonly environmentId: number; readonly identifier: string };

export interface AuditPage {
  readonly events: readonly RecordedEvent<AdminEvent>[];
  /** Position to pass as `after` for the next page; null on the last page. */
  readonly next: number | null;
}

const entityKey = (entity: AuditEntity): string =>
  entity.kind === 'identity' ? `identity:${entity.environmentId}:${entity.identifier}` : `${entity.kind}:${entity.id}`;

/** Which entities an event belongs to, read from the ids its data carries. */
function entitiesOf(event: RecordedEvent<AdminEvent>): AuditEntity[] {
  const data = event.data as Record<string, unknown>;
  const out: AuditEntity[] = [];
  const num = (name: string): number | undefined => (typeof data[name] === 'number' ? (data[name]) : undefined);
  const organisationId = num('organisationId');
  const projectId = num('projectId');
  const environmentId = num('environmentId');
  const featureId = num('featureId');
  const segmentId = num('segmentId');
  const tagId = num('tagId');
  const userId = num('userId');
  const isIdentityEvent = typeof data['identityId'] === 'string';
  if (organisationId !== undefined && (projectId === undefined || event.type === 'ProjectCreated')) out.push({ kind: 'organisation', id: organisationId });
  if (userId !== undefined && organisationId === undefined) out.push({ kind: 'user', id: userId });
  if (projectId !== undefined) out.push({ kind: 'project', id: projectId });
  if (environmentId !== undefined && !isIdentityEvent) out.push({ kind: 'environment', id: environmentId });
  if (event.type === 'EnvironmentCloned') out.push({ kind: 'environment', id: event.data.sourceEnvironmentId });
  if (featureId !== undefined) out.push({ kind: 'feature', id: featureId });
  if (segmentId !== undefined) out.push({ kind: 'segment', id: segmentId });
  if (tagId !== undefined) out.push({ kind: 'tag', id: tagId });
  if (isIdentityEvent && environmentId !== undefined && typeof data['identifier'] === 'string')
    out.push({ kind: 'identity', environmentId, identifier: data['identifier'] });
  if (event.type === 'FeatureCreated' || event.type === 'FeatureTagsChanged')
    for (const id of event.data.tagIds) out.push({ kind: 'tag', id });
  if (event.type === 'SegmentOverridesReordered') for (const id of event.data.segmentIds) out.push({ kind: 'segment', id });
  return out;
}

/** History of every entity, in log order, paged by global position. */
export class AuditIndex {
  private readonly byEntity = new Map<string, RecordedEvent<AdminEvent>[]>();

  record(event: RecordedEvent<AdminEvent>): void {
    const seen = new Set<string>();
    for (const entity of entitiesOf(event)) {
      const key = entityKey(entity);
      if (seen.has(key)) continue;
      seen.add(key);
      const list = this.byEntity.get(key) ?? [];
      list.push(event);
      this.byEntity.set(key, list);
    }
  }

  page(entity: AuditEntity, options: { after?: number; limit: number; types?: ReadonlySet<string> }): AuditPage {
    const list = this.byEntity.get(entityKey(entity)) ?? [];
    const after = options.after ?? 0;
    let start = lowerBound(list, after);
    const events: RecordedEvent<AdminEvent>[] = [];
    while (start < list.length && events.length < options.limit) {
      const event = list[start++] as RecordedEvent<AdminEvent>;
      if (!options.types || options.types.has(event.type)) events.push(event);
    }
    // With a type filter, more events may follow that none would match: no next page then.
    const hasMore = list.slice(start).some((event) => !options.types || options.types.has(event.type));
    return { events, next: hasMore && events.length > 0 ? (events[events.length - 1] as RecordedEvent<AdminEvent>).globalPosition : null };
  }
}

/** Index of the first event after `position` (lists are in ascending position order). */
function lowerBound(list: readonly RecordedEvent[], position: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid] as RecordedEvent).globalPosition <= position) low = mid + 1;
    else high = mid;
  }
  return low;
}
