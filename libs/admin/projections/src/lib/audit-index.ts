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

/**
 * Keys of the entities whose history the index keeps for the event (each once, in this order:
 * organisation, user, project, environment, the source of a clone, feature, segment, tag, the
 * tags of a feature, the segments of a reordering), read from the ids its data carries. An
 * identity's history is not indexed: it is exactly its own stream (every event of
 * `identity-<id>` and no other), which the event store reads in order; indexing it would add a
 * row at a random place of the index for every identity written. Built as keys directly: it runs
 * for every event the catalog applies (two million in a rebuild of a million identities).
 */
export function auditKeysOf(event: RecordedEvent<AdminEvent>): string[] {
  const data = event.data as Record<string, unknown>;
  const keys: string[] = [];
  const add = (kind: AuditEntity['kind'], id: unknown): void => {
    if (typeof id !== 'number') return;
    const key = `${kind}:${id}`;
    if (!keys.includes(key)) keys.push(key);
  };
  const { organisationId, projectId, environmentId, userId } = data;
  if (typeof projectId !== 'number' || event.type === 'ProjectCreated') add('organisation', organisationId);
  if (typeof organisationId !== 'number') add('user', userId);
  add('project', projectId);
  if (typeof data['identityId'] !== 'string') add('environment', environmentId);
  if (event.type === 'EnvironmentCloned') add('environment', event.data.sourceEnvironmentId);
  add('feature', data['featureId']);
  add('segment', data['segmentId']);
  add('tag', data['tagId']);
  if (event.type === 'FeatureCreated' || event.type === 'FeatureTagsChanged') for (const id of event.data.tagIds) add('tag', id);
  if (event.type === 'SegmentOverridesReordered') for (const id of event.data.segmentIds) add('segment', id);
  return keys;
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
