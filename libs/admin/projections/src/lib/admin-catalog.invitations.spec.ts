import type { OrganisationEvent } from '@flagline/admin-domain';
import { AdminCatalog } from './admin-catalog';

const NOW = '2026-02-01T10:00:00.000Z';
const LATER = '2026-02-08T10:00:00.000Z';

/** Feeds organisation events to a catalog in log order, each its stream's next revision. */
function fed(events: OrganisationEvent[]): AdminCatalog {
  const catalog = new AdminCatalog();
  const revisions = new Map<number, number>();
  events.forEach((event, index) => {
    const organisationId = event.data.organisationId;
    const revision = (revisions.get(organisationId) ?? -1) + 1;
    revisions.set(organisationId, revision);
    catalog.apply({
      ...event,
      id: `e${index}`,
      metadata: { actor: { kind: 'system', id: 'test' }, occurredAt: NOW, correlationId: 'c' },
      streamName: `organisation-${organisationId}`,
      streamRevision: revision,
      globalPosition: index + 1,
      recordedAt: NOW,
    });
  });
  return catalog;
}

const created = (organisationId: number): OrganisationEvent => ({ type: 'OrganisationCreated', data: { organisationId, name: `Org ${organisationId}`, createdBy: null, createdAt: NOW } });
const invited = (organisationId: number, invitationId: string, email: string): OrganisationEvent => ({
  type: 'InvitationCreated',
  data: { organisationId, invitationId, email, role: 'member', createdAt: NOW, expiresAt: LATER },
});

describe('Admin catalog invitations', () => {
  it('finds an invitation by id with its organisation', () => {
    const catalog = fed([created(1), invited(1, 'i1', 'grace@example.com')]);
    expect(catalog.invitation('i1')).toMatchObject({ organisation: { organisationId: 1 }, invitation: { email: 'grace@example.com', closed: null } });
    expect(catalog.invitation('i2')).toBeUndefined();
  });

  it('lists the invitations of an email across organisations, matched however the email is spelt', () => {
    const catalog = fed([created(1), created(2), invited(1, 'i1', 'grace@example.com'), invited(2, 'i2', 'grace@example.com'), invited(2, 'i3', 'ada@example.com')]);
    expect(catalog.invitationsFor(' Grace@EXAMPLE.com').map(({ invitation }) => invitation.invitationId)).toEqual(['i1', 'i2']);
    expect(catalog.invitationsFor('nobody@example.com')).toEqual([]);
  });

  it('forgets the invitations of a deleted organisation', () => {
    const catalog = fed([created(1), invited(1, 'i1', 'grace@example.com'), { type: 'OrganisationDeleted', data: { organisationId: 1 } }]);
    expect(catalog.invitation('i1')).toBeUndefined();
    expect(catalog.invitationsFor('grace@example.com')).toEqual([]);
  });

  it('shows an answered invitation closed, and the member added by the acceptance', () => {
    const catalog = fed([
      created(1),
      invited(1, 'i1', 'grace@example.com'),
      { type: 'InvitationAccepted', data: { organisationId: 1, invitationId: 'i1', userId: 9, acceptedAt: LATER } },
      { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'member' } },
    ]);
    expect(catalog.invitation('i1')?.invitation.closed).toEqual({ status: 'accepted', at: LATER });
    expect(catalog.organisationsOf(9).map(({ organisation, role }) => [organisation.organisationId, role])).toEqual([[1, 'member']]);
  });
});
