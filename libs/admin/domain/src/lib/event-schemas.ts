import type { DomainEvent, RecordedEvent } from '@flagline/event-sourcing';
import type { IdentityEvent } from './identity/identity.events';
import { upcastIdentityEvent, type StoredIdentityEvent } from './identity/identity.events.v1';
import type { OrganisationEvent } from './organisation/organisation.events';
import type { ProjectEvent } from './project/project.events';
import type { SequenceEvent } from './sequence/sequence.decider';
import type { UserEvent } from './user/user.events';

type CurrentAdminEvent = UserEvent | OrganisationEvent | ProjectEvent | IdentityEvent | SequenceEvent;

/**
 * The schema version the code writes, for every event type the log may hold. The log lives
 * forever, so a change to an event's shape gets the next version here, the old shape kept as a
 * frozen type, and an upcaster below; a new event type must be named here (the record is typed
 * over every event type, so the compiler insists).
 */
export const EVENT_SCHEMA_VERSIONS: Readonly<Record<CurrentAdminEvent['type'], number>> = {
  UserRegistered: 1,
  UserProfileChanged: 1,
  UserDeleted: 1,
  UserApiKeyIssued: 1,
  UserApiKeyRevoked: 1,
  OrganisationCreated: 1,
  OrganisationRenamed: 1,
  OrganisationDeleted: 1,
  MemberAdded: 1,
  MemberRoleChanged: 1,
  MemberRemoved: 1,
  OrganisationApiKeyIssued: 1,
  OrganisationApiKeyRevoked: 1,
  InvitationCreated: 1,
  InvitationAccepted: 1,
  InvitationDeclined: 1,
  InvitationRevoked: 1,
  ProjectCreated: 1,
  ProjectSettingsChanged: 1,
  ProjectDeleted: 1,
  TagCreated: 1,
  TagChanged: 1,
  TagDeleted: 1,
  FeatureCreated: 1,
  FeatureRenamed: 1,
  FeatureDescriptionChanged: 1,
  FeatureTagsChanged: 1,
  FeatureDefaultsChanged: 1,
  FeatureVisibilityChanged: 1,
  FeatureArchived: 1,
  FeatureUnarchived: 1,
  FeatureDeleted: 1,
  MultivariateOptionAdded: 1,
  MultivariateOptionChanged: 1,
  MultivariateOptionRemoved: 1,
  SegmentCreated: 1,
  SegmentRenamed: 1,
  SegmentDescriptionChanged: 1,
  SegmentRuleChanged: 1,
  SegmentDeleted: 1,
  EnvironmentCreated: 1,
  EnvironmentCloned: 1,
  EnvironmentRenamed: 1,
  EnvironmentSettingsChanged: 1,
  EnvironmentDeleted: 1,
  ServerKeyIssued: 1,
  ServerKeyRevoked: 1,
  FeatureStateChanged: 1,
  SegmentOverrideCreated: 1,
  SegmentOverrideChanged: 1,
  SegmentOverrideRemoved: 1,
  SegmentOverridesReordered: 1,
  IdentityCreated: 2,
  IdentityTraitsChanged: 2,
  IdentityOverrideSet: 1,
  IdentityOverrideRemoved: 1,
  IdentityDeleted: 1,
  IdentityErased: 1,
  IdsReserved: 1,
};

/**
 * The names of a union of events, from a record naming every one of them: the record is typed over
 * the whole union, so a new event type fails to compile until it is named here, and no reader of
 * the set (the projection's gate, the upcaster) can skip it without saying so.
 */
function eventTypeSet<T extends string>(members: Readonly<Record<T, true>>): ReadonlySet<string> {
  return new Set(Object.keys(members));
}

/** Every project event type (a project stream's events). */
export const PROJECT_EVENT_TYPES = eventTypeSet<ProjectEvent['type']>({
  ProjectCreated: true,
  ProjectSettingsChanged: true,
  ProjectDeleted: true,
  TagCreated: true,
  TagChanged: true,
  TagDeleted: true,
  FeatureCreated: true,
  FeatureRenamed: true,
  FeatureDescriptionChanged: true,
  FeatureTagsChanged: true,
  FeatureDefaultsChanged: true,
  FeatureVisibilityChanged: true,
  FeatureArchived: true,
  FeatureUnarchived: true,
  FeatureDeleted: true,
  MultivariateOptionAdded: true,
  MultivariateOptionChanged: true,
  MultivariateOptionRemoved: true,
  SegmentCreated: true,
  SegmentRenamed: true,
  SegmentDescriptionChanged: true,
  SegmentRuleChanged: true,
  SegmentDeleted: true,
  EnvironmentCreated: true,
  EnvironmentCloned: true,
  EnvironmentRenamed: true,
  EnvironmentSettingsChanged: true,
  EnvironmentDeleted: true,
  ServerKeyIssued: true,
  ServerKeyRevoked: true,
  FeatureStateChanged: true,
  SegmentOverrideCreated: true,
  SegmentOverrideChanged: true,
  SegmentOverrideRemoved: true,
  SegmentOverridesReordered: true,
});

/** Every identity event type (an identity stream's events). */
export const IDENTITY_EVENT_TYPES = eventTypeSet<IdentityEvent['type']>({
  IdentityCreated: true,
  IdentityTraitsChanged: true,
  IdentityOverrideSet: true,
  IdentityOverrideRemoved: true,
  IdentityDeleted: true,
  IdentityErased: true,
});
/**
 * Brings a stored admin event to the shape the code reads; a current event comes back as the
 * same object, and so does an event of a type this code does not know (a projection ignores it).
 */
export function upcastAdminEvent(event: DomainEvent): DomainEvent {
  if (IDENTITY_EVENT_TYPES.has(event.type)) return upcastIdentityEvent(event as StoredIdentityEvent);
  return event;
}

/** `upcastAdminEvent` for a recorded event, keeping its position, stream and metadata; the same object when nothing changes. */
export function upcastRecordedAdminEvent(event: RecordedEvent): RecordedEvent {
  const upcast = upcastAdminEvent(event);
  return upcast === event ? event : { ...event, data: upcast.data };
}

