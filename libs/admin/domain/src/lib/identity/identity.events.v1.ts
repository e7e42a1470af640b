import type { DomainEvent } from '@flagline/event-sourcing';
import type { IdentityCreated, IdentityEvent, IdentityTraitsChanged } from './identity.events';

/** `IdentityCreated` as stored before schema version 2 (frozen: stored logs hold it): no traits. */
export type IdentityCreatedV1 = DomainEvent<
  'IdentityCreated',
  { identityId: string; projectId: number; environmentId: number; identifier: string; createdAt: string }
>;

/**
 * `IdentityTraitsChanged` as stored before schema version 2 (frozen: stored logs hold it). Its
 * numbers carry no float marker: an integral one was read, and evaluated, as an int.
 */
export type IdentityTraitsChangedV1 = DomainEvent<
  'IdentityTraitsChanged',
  { identityId: string; projectId: number; environmentId: number; identifier: string; set: Record<string, string | number | boolean>; removed: string[] }
>;

/** An identity event as the log may hold it: any schema version. */
export type StoredIdentityEvent = IdentityEvent | IdentityTraitsChangedV1 | IdentityCreatedV1;

/**
 * Brings a stored identity event to the current schema; events already current come back as
 * they are (the same object). Applied at the read boundary (`upcastAdminEvent`, through the
 * upcasting event store and the projector service), and by the decider's evolve, which folds
 * events from any store it is given.
 */
export function upcastIdentityEvent(event: StoredIdentityEvent): IdentityEvent {
  if ((event.type !== 'IdentityTraitsChanged' && event.type !== 'IdentityCreated') || 'schemaVersion' in event.data) return event as IdentityEvent;
  if (event.type === 'IdentityCreated') {
    const created: IdentityCreated['data'] = { ...event.data, schemaVersion: 2, traits: {}, floats: [] };
    return { type: event.type, data: created };
  }
  const data: IdentityTraitsChanged['data'] = { ...event.data, schemaVersion: 2, floats: [] };
  return { type: event.type, data };
}
