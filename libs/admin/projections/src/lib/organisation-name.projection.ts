import type { OrganisationCreated, OrganisationDeleted, OrganisationRenamed } from '@flagline/admin-domain';
import type { EnvironmentDocument, OrganisationDocument } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';

/** The organisation events the environment documents depend on: those that set or drop its name. */
export type OrganisationNameEvent = RecordedEvent<OrganisationCreated | OrganisationRenamed | OrganisationDeleted>;

const ORGANISATION_NAME_EVENT_TYPES: Record<OrganisationNameEvent['type'], true> = {
  OrganisationCreated: true,
  OrganisationRenamed: true,
  OrganisationDeleted: true,
};

export function isOrganisationNameEvent(event: RecordedEvent): event is OrganisationNameEvent {
  return Object.hasOwn(ORGANISATION_NAME_EVENT_TYPES, event.type);
}

/** The organisation document after the event; null when the organisation is gone. */
export function organisationDocumentAfter(event: OrganisationNameEvent, current: OrganisationDocument | null): OrganisationDocument | null {
  switch (event.type) {
    case 'OrganisationCreated':
    case 'OrganisationRenamed':
      return { organisationId: event.data.organisationId, name: event.data.name, revision: (current?.revision ?? 0) + 1, updatedAt: event.metadata.occurredAt };
    case 'OrganisationDeleted':
      return null;
  }
}

const later = (a: string, b: string): string => (a > b ? a : b);

/**
 * An environment document carrying the organisation's name. Every name event counts once in
 * the document's revision and its time in `updatedAt` (the later of the two), whether the
 * organisation's events are projected before or after the project's (they travel in different
 * streams, and so in different partitions): the result does not depend on that order.
 * `before` is the document as it was before the project event that produced `document`, whose
 * organisation fields a rebuilt project part may have left out.
 */
export function withOrganisation(document: EnvironmentDocument, organisation: OrganisationDocument | null, before?: EnvironmentDocument): EnvironmentDocument {
  const carried = document.project.organisationRevision ?? before?.project.organisationRevision ?? 0;
  const carriedName = document.project.organisationName ?? before?.project.organisationName;
  if (!organisation || organisation.revision < carried) {
    if (carried === 0 || carriedName === undefined) return document;
    return { ...document, project: { ...document.project, organisationName: carriedName, organisationRevision: carried } };
  }
  return {
    ...document,
    project: { ...document.project, organisationName: organisation.name, organisationRevision: organisation.revision },
    revision: document.revision + (organisation.revision - carried),
    updatedAt: later(document.updatedAt, organisation.updatedAt),
  };
}
