import type { AdminEvent } from '@flagline/admin-domain';
import type { CatalogAuditEntry, CatalogStore, RecordedEvent } from '@flagline/event-sourcing';

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
  /** Positions (with event types) of the page's events, in log order. */
  readonly entries: readonly CatalogAuditEntry[];
  /** Position to pass as `after` for the next page; null on the last page. */
  readonly next: number | null;
}

export const auditEntityKey = (entity: AuditEntity): string =>
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

/**
 * Keys of the entities whose history the index keeps for the event (each once). An identity's
 * history is not indexed: it is exactly its own stream (every event of `identity-<id>` and no
 * other), which the event store reads in order; indexing it would add a row at a random place of
 * the index for every identity written.
 */
export function auditKeysOf(event: RecordedEvent<AdminEvent>): string[] {
  return [...new Set(entitiesOf(event).flatMap((entity) => (entity.kind === 'identity' ? [] : [auditEntityKey(entity)])))];
}

/** One page of an entity's history from the audit index: `limit` entries and whether more follow. */
export function auditPage(store: Pick<CatalogStore, 'audit'>, entity: AuditEntity, options: { after?: number; limit: number; types?: ReadonlySet<string> }): AuditPage {
  const found = store.audit(auditEntityKey(entity), {
    ...(options.after !== undefined ? { after: options.after } : {}),
    ...(options.types ? { types: [...options.types] } : {}),
    limit: options.limit + 1,
  });
  const entries = found.slice(0, options.limit);
  const last = entries[entries.length - 1];
  return { entries, next: found.length > options.limit && last ? last.position : null };
}
