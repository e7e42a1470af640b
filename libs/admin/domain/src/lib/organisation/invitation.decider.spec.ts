import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { ConflictError, NotFoundError, ValidationError, type DomainError } from '../shared/domain-error';
import { invitationStatus, normaliseEmail, type Invitation } from './invitation';
import type { OrganisationEvent } from './organisation.events';
import { evolveOrganisation, initialOrganisation, organisationDecider } from './organisation.decider';

const NOW = '2026-02-01T10:00:00.000Z';
const IN_A_DAY = '2026-02-02T10:00:00.000Z';
const IN_SEVEN_DAYS = '2026-02-08T10:00:00.000Z';
const JUST_BEFORE_SEVEN_DAYS = '2026-02-08T09:59:59.999Z';

const created: OrganisationEvent = { type: 'OrganisationCreated', data: { organisationId: 1, name: 'Acme', createdBy: 7, createdAt: NOW } };
const adminAdded: OrganisationEvent = { type: 'MemberAdded', data: { organisationId: 1, userId: 7, role: 'admin' } };
const invited: OrganisationEvent = {
  type: 'InvitationCreated',
  data: { organisationId: 1, invitationId: 'inv-1', email: 'grace@example.com', role: 'member', createdAt: NOW, expiresAt: IN_SEVEN_DAYS },
};
const accepted: OrganisationEvent = { type: 'InvitationAccepted', data: { organisationId: 1, invitationId: 'inv-1', userId: 9, acceptedAt: IN_A_DAY } };
const declined: OrganisationEvent = { type: 'InvitationDeclined', data: { organisationId: 1, invitationId: 'inv-1', userId: 9, declinedAt: IN_A_DAY } };
const revoked: OrganisationEvent = { type: 'InvitationRevoked', data: { organisationId: 1, invitationId: 'inv-1', revokedAt: IN_A_DAY } };

const invite = (overrides: Partial<{ email: string; expiresInDays: number; registeredUserId: number | null; now: string; invitationId: string }> = {}) => ({
  type: 'InviteMember' as const,
  invitationId: 'inv-1',
  email: 'grace@example.com',
  role: 'member' as const,
  registeredUserId: null,
  now: NOW,
  ...overrides,
});
const answer = (type: 'AcceptInvitation' | 'DeclineInvitation', overrides: Partial<{ email: string; userId: number; now: string; invitationId: string }> = {}) => ({
  type,
  invitationId: 'inv-1',
  userId: 9,
  email: 'grace@example.com',
  now: IN_A_DAY,
  ...overrides,
});

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);

describe('Organisation invitations', () => {
  const spec = deciderSpecification(organisationDecider);
  const given = [created, adminAdded];

  describe('when an admin invites an email', () => {
    it('records the invitation, expiring in seven days by default', () => {
      spec(given).when(invite()).then(invited);
    });

    it('records the email normalised', () => {
      spec(given)
        .when(invite({ email: '  Grace@Example.COM ' }))
        .then(invited);
    });

    it('answers the same whether or not the email belongs to a registered user', () => {
      spec(given).when(invite({ registeredUserId: 9 })).then(invited);
    });

    it('takes a validity in days within bounds', () => {
      spec(given)
        .when(invite({ expiresInDays: 30 }))
        .then({ ...invited, data: { ...invited.data, expiresAt: '2026-03-03T10:00:00.000Z' } });
    });

    it.each([0, 31, 1.5, -1])('rejects a validity of %p days naming the field', (days) => {
      spec(given)
        .when(invite({ expiresInDays: days }))
        .thenThrows(ValidationError, (error) => {
          expect((error as ValidationError).fields.map((field) => field.field)).toEqual(['expiresInDays']);
        });
    });

    it('rejects inviting a current member', () => {
      spec(given)
        .when(invite({ registeredUserId: 7 }))
        .thenThrows(ConflictError, withCode('MEMBER.EXISTS'));
    });

    it('rejects a second pending invitation for the same email, however it is spelt', () => {
      spec([...given, invited])
        .when(invite({ invitationId: 'inv-2', email: 'GRACE@example.com' }))
        .thenThrows(ConflictError, withCode('INVITATION.PENDING'));
    });

    it.each([
      ['revoked', revoked],
      ['declined', declined],
    ])('invites again once the earlier invitation was %s', (_what, closed) => {
      spec([...given, invited, closed])
        .when(invite({ invitationId: 'inv-2', now: IN_A_DAY }))
        .then({ ...invited, data: { ...invited.data, invitationId: 'inv-2', createdAt: IN_A_DAY, expiresAt: '2026-02-09T10:00:00.000Z' } });
    });

    it('invites again once the earlier invitation expired', () => {
      spec([...given, invited])
        .when(invite({ invitationId: 'inv-2', now: IN_SEVEN_DAYS }))
        .then({ ...invited, data: { ...invited.data, invitationId: 'inv-2', createdAt: IN_SEVEN_DAYS, expiresAt: '2026-02-15T10:00:00.000Z' } });
    });

    it('rejects inviting into a deleted organisation as not found', () => {
      spec([...given, { type: 'OrganisationDeleted', data: { organisationId: 1 } }])
        .when(invite())
        .thenThrows(NotFoundError, withCode('ORGANISATION.NOT_FOUND'));
    });
  });

  describe('when the invitee accepts', () => {
    it('records the acceptance and adds them as a member with the invited role', () => {
      spec([...given, invited])
        .when(answer('AcceptInvitation'))
        .then([accepted, { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'member' } }]);
    });

    it('matches their email however it is spelt', () => {
      spec([...given, invited])
        .when(answer('AcceptInvitation', { email: 'Grace@EXAMPLE.com' }))
        .then([accepted, { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'member' } }]);
    });

    it('accepts up to the last millisecond before expiry', () => {
      spec([...given, invited])
        .when(answer('AcceptInvitation', { now: JUST_BEFORE_SEVEN_DAYS }))
        .then([{ ...accepted, data: { ...accepted.data, acceptedAt: JUST_BEFORE_SEVEN_DAYS } }, { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'member' } }]);
    });

    it('rejects an expired invitation', () => {
      spec([...given, invited])
        .when(answer('AcceptInvitation', { now: IN_SEVEN_DAYS }))
        .thenThrows(ConflictError, withCode('INVITATION.EXPIRED'));
    });

    it('rejects a revoked invitation', () => {
      spec([...given, invited, revoked]).when(answer('AcceptInvitation')).thenThrows(ConflictError, withCode('INVITATION.REVOKED'));
    });

    it.each([
      ['accepted', accepted],
      ['declined', declined],
    ])('rejects an invitation already %s', (_what, answered) => {
      spec([...given, invited, answered]).when(answer('AcceptInvitation')).thenThrows(ConflictError, withCode('INVITATION.ANSWERED'));
    });

    it('rejects it when they are already a member', () => {
      spec([...given, invited, { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'admin' } }])
        .when(answer('AcceptInvitation'))
        .thenThrows(ConflictError, withCode('MEMBER.EXISTS'));
    });
  });

  describe('when someone else answers', () => {
    it.each(['AcceptInvitation', 'DeclineInvitation'] as const)('%s with another email is not found', (type) => {
      spec([...given, invited])
        .when(answer(type, { email: 'mallory@example.com', userId: 7 }))
        .thenThrows(NotFoundError, withCode('INVITATION.NOT_FOUND'));
    });

    it('is not found even when the invitation is closed, so its state stays hidden', () => {
      spec([...given, invited, revoked])
        .when(answer('AcceptInvitation', { email: 'mallory@example.com', userId: 7 }))
        .thenThrows(NotFoundError, withCode('INVITATION.NOT_FOUND'));
    });

    it('an unknown invitation id is not found', () => {
      spec([...given, invited])
        .when(answer('AcceptInvitation', { invitationId: 'inv-404' }))
        .thenThrows(NotFoundError, withCode('INVITATION.NOT_FOUND'));
    });
  });

  describe('when the invitee declines', () => {
    it('records the refusal and adds nobody', () => {
      spec([...given, invited]).when(answer('DeclineInvitation')).then(declined);
    });

    it('rejects an expired invitation', () => {
      spec([...given, invited])
        .when(answer('DeclineInvitation', { now: IN_SEVEN_DAYS }))
        .thenThrows(ConflictError, withCode('INVITATION.EXPIRED'));
    });

    it('rejects an invitation already accepted', () => {
      spec([...given, invited, accepted]).when(answer('DeclineInvitation')).thenThrows(ConflictError, withCode('INVITATION.ANSWERED'));
    });
  });

  describe('when an admin revokes', () => {
    it('records the revocation of a pending invitation', () => {
      spec([...given, invited])
        .when({ type: 'RevokeInvitation', invitationId: 'inv-1', now: IN_A_DAY })
        .then(revoked);
    });

    it('rejects an unknown invitation as not found', () => {
      spec([...given, invited])
        .when({ type: 'RevokeInvitation', invitationId: 'inv-2', now: IN_A_DAY })
        .thenThrows(NotFoundError, withCode('INVITATION.NOT_FOUND'));
    });

    it.each([
      ['accepted', [accepted], IN_A_DAY],
      ['revoked', [revoked], IN_A_DAY],
      ['expired', [], IN_SEVEN_DAYS],
    ] as const)('rejects revoking an invitation that is %s', (_what, after, now) => {
      spec([...given, invited, ...after])
        .when({ type: 'RevokeInvitation', invitationId: 'inv-1', now })
        .thenThrows(ConflictError, withCode('INVITATION.NOT_PENDING'));
    });
  });

  describe('status', () => {
    const fold = (events: OrganisationEvent[]): Invitation => {
      const state = events.reduce((current, event, revision) => evolveOrganisation(current, event, revision), initialOrganisation());
      const invitation = state.invitations.get('inv-1');
      if (!invitation) throw new Error('invitation missing');
      return invitation;
    };

    it.each([
      ['pending before expiry', [], JUST_BEFORE_SEVEN_DAYS, 'pending'],
      ['expired from its expiry on', [], IN_SEVEN_DAYS, 'expired'],
      ['accepted, even after expiry', [accepted], IN_SEVEN_DAYS, 'accepted'],
      ['declined', [declined], IN_A_DAY, 'declined'],
      ['revoked', [revoked], IN_A_DAY, 'revoked'],
    ] as const)('is %s', (_what, after, now, status) => {
      expect(invitationStatus(fold([...given, invited, ...after]), now)).toBe(status);
    });

    it('does not make the invitee a member until they accept', () => {
      const state = [...given, invited].reduce((current, event, revision) => evolveOrganisation(current, event, revision), initialOrganisation());
      expect(state.members.has(9)).toBe(false);
    });
  });

  it('normalises emails by trimming and lower-casing', () => {
    expect(normaliseEmail(' Ada.Lovelace@Example.ORG ')).toBe('ada.lovelace@example.org');
  });
});
