import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { OrganisationEvent } from './organisation.events';
import { organisationDecider, toOrganisationStreamName } from './organisation.decider';

const NOW = '2026-02-01T10:00:00.000Z';
const LATER = '2026-02-02T10:00:00.000Z';

const created: OrganisationEvent = {
  type: 'OrganisationCreated',
  data: { organisationId: 1, name: 'Acme', createdBy: 7, createdAt: NOW },
};
const adminAdded: OrganisationEvent = { type: 'MemberAdded', data: { organisationId: 1, userId: 7, role: 'admin' } };
const memberAdded: OrganisationEvent = { type: 'MemberAdded', data: { organisationId: 1, userId: 8, role: 'member' } };
const keyIssued: OrganisationEvent = {
  type: 'OrganisationApiKeyIssued',
  data: { organisationId: 1, keyId: 'k1', name: 'terraform', keyHash: 'b'.repeat(64), prefix: 'fl_o_abc', createdAt: NOW, role: 'admin' },
};

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);

describe('Organisation', () => {
  const spec = deciderSpecification(organisationDecider);

  it('is stored in the stream organisation-<id>', () => {
    expect(toOrganisationStreamName(1)).toBe('organisation-1');
  });

  describe('when absent', () => {
    it('is created with its creator as an admin', () => {
      spec([])
        .when({ type: 'CreateOrganisation', organisationId: 1, name: 'Acme', createdBy: 7, now: NOW })
        .then([created, adminAdded]);
    });

    it('is created without members when nobody created it', () => {
      spec([])
        .when({ type: 'CreateOrganisation', organisationId: 1, name: 'Acme', createdBy: null, now: NOW })
        .then({ type: 'OrganisationCreated', data: { organisationId: 1, name: 'Acme', createdBy: null, createdAt: NOW } });
    });

    it('rejects a rename as not found', () => {
      spec([]).when({ type: 'RenameOrganisation', name: 'Acme Ltd' }).thenThrows(NotFoundError, withCode('ORGANISATION.NOT_FOUND'));
    });

    it('rejects adding a member as not found', () => {
      spec([]).when({ type: 'AddMember', userId: 8, role: 'member' }).thenThrows(NotFoundError, withCode('ORGANISATION.NOT_FOUND'));
    });
  });

  describe('when created', () => {
    const given = [created, adminAdded];

    it('rejects creating it again as a conflict', () => {
      spec(given)
        .when({ type: 'CreateOrganisation', organisationId: 1, name: 'Acme', createdBy: 7, now: LATER })
        .thenThrows(ConflictError, withCode('ORGANISATION.EXISTS'));
    });

    it('is renamed', () => {
      spec(given)
        .when({ type: 'RenameOrganisation', name: 'Acme Ltd' })
        .then({ type: 'OrganisationRenamed', data: { organisationId: 1, name: 'Acme Ltd' } });
    });

    it('does nothing when renamed to its own name', () => {
      spec(given).when({ type: 'RenameOrganisation', name: 'Acme' }).thenNothingHappened();
    });

    it('is renamed when the expected revision is current', () => {
      spec(given)
        .when({ type: 'RenameOrganisation', name: 'Acme Ltd', expectedRevision: 0 })
        .then({ type: 'OrganisationRenamed', data: { organisationId: 1, name: 'Acme Ltd' } });
    });

    it('rejects a rename at a stale revision', () => {
      spec([...given, { type: 'OrganisationRenamed', data: { organisationId: 1, name: 'Acme Ltd' } }])
        .when({ type: 'RenameOrganisation', name: 'Acme Group', expectedRevision: 0 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('ORGANISATION.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 0, actual: 2 });
        });
    });

    it('is deleted when it has no live project', () => {
      spec(given).when({ type: 'DeleteOrganisation', liveProjects: 0 }).then({ type: 'OrganisationDeleted', data: { organisationId: 1 } });
    });

    it('is deleted when the expected revision is current', () => {
      spec(given)
        .when({ type: 'DeleteOrganisation', liveProjects: 0, expectedRevision: 0 })
        .then({ type: 'OrganisationDeleted', data: { organisationId: 1 } });
    });

    it('rejects a deletion at a stale revision', () => {
      spec(given)
        .when({ type: 'DeleteOrganisation', liveProjects: 0, expectedRevision: 1 })
        .thenThrows(PreconditionFailedError, withCode('ORGANISATION.STALE_REVISION'));
    });

    it('rejects a deletion while projects are live', () => {
      spec(given).when({ type: 'DeleteOrganisation', liveProjects: 2 }).thenThrows(ConflictError, withCode('ORGANISATION.NOT_EMPTY'));
    });

    it('adds a member', () => {
      spec(given).when({ type: 'AddMember', userId: 8, role: 'member' }).then(memberAdded);
    });

    it('rejects adding a member twice as a conflict', () => {
      spec([...given, memberAdded]).when({ type: 'AddMember', userId: 8, role: 'admin' }).thenThrows(ConflictError, withCode('MEMBER.EXISTS'));
    });

    it('promotes a member to admin', () => {
      spec([...given, memberAdded])
        .when({ type: 'ChangeMemberRole', userId: 8, role: 'admin' })
        .then({ type: 'MemberRoleChanged', data: { organisationId: 1, userId: 8, role: 'admin' } });
    });

    it('does nothing when the role is unchanged', () => {
      spec([...given, memberAdded]).when({ type: 'ChangeMemberRole', userId: 8, role: 'member' }).thenNothingHappened();
    });

    it('rejects changing the role of a non-member as not found', () => {
      spec(given).when({ type: 'ChangeMemberRole', userId: 9, role: 'admin' }).thenThrows(NotFoundError, withCode('MEMBER.NOT_FOUND'));
    });

    it('rejects demoting the last admin', () => {
      spec([...given, memberAdded])
        .when({ type: 'ChangeMemberRole', userId: 7, role: 'member' })
        .thenThrows(ConflictError, withCode('MEMBER.LAST_ADMIN'));
    });

    it('demotes an admin when another admin remains', () => {
      spec([...given, memberAdded, { type: 'MemberRoleChanged', data: { organisationId: 1, userId: 8, role: 'admin' } }])
        .when({ type: 'ChangeMemberRole', userId: 7, role: 'member' })
        .then({ type: 'MemberRoleChanged', data: { organisationId: 1, userId: 7, role: 'member' } });
    });

    it('removes a member', () => {
      spec([...given, memberAdded])
        .when({ type: 'RemoveMember', userId: 8 })
        .then({ type: 'MemberRemoved', data: { organisationId: 1, userId: 8 } });
    });

    it('rejects removing a non-member as not found', () => {
      spec(given).when({ type: 'RemoveMember', userId: 9 }).thenThrows(NotFoundError, withCode('MEMBER.NOT_FOUND'));
    });

    it('rejects removing a member twice as not found', () => {
      spec([...given, memberAdded, { type: 'MemberRemoved', data: { organisationId: 1, userId: 8 } }])
        .when({ type: 'RemoveMember', userId: 8 })
        .thenThrows(NotFoundError, withCode('MEMBER.NOT_FOUND'));
    });

    it('rejects removing the last admin', () => {
      spec([...given, memberAdded]).when({ type: 'RemoveMember', userId: 7 }).thenThrows(ConflictError, withCode('MEMBER.LAST_ADMIN'));
    });

    it('removes an admin when another admin remains', () => {
      spec([...given, { type: 'MemberAdded', data: { organisationId: 1, userId: 8, role: 'admin' } }])
        .when({ type: 'RemoveMember', userId: 7 })
        .then({ type: 'MemberRemoved', data: { organisationId: 1, userId: 7 } });
    });

    it('issues an organisation key with its role', () => {
      spec(given)
        .when({ type: 'IssueOrganisationApiKey', keyId: 'k1', name: 'terraform', keyHash: 'b'.repeat(64), prefix: 'fl_o_abc', createdAt: NOW, role: 'admin' })
        .then(keyIssued);
    });

    it('revokes an organisation key', () => {
      spec([...given, keyIssued])
        .when({ type: 'RevokeOrganisationApiKey', keyId: 'k1', now: LATER })
        .then({ type: 'OrganisationApiKeyRevoked', data: { organisationId: 1, keyId: 'k1', revokedAt: LATER } });
    });

    it('rejects revoking an unknown key as not found', () => {
      spec([...given, keyIssued])
        .when({ type: 'RevokeOrganisationApiKey', keyId: 'k2', now: LATER })
        .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
    });

    it('rejects revoking a revoked key as not found', () => {
      spec([...given, keyIssued, { type: 'OrganisationApiKeyRevoked', data: { organisationId: 1, keyId: 'k1', revokedAt: NOW } }])
        .when({ type: 'RevokeOrganisationApiKey', keyId: 'k1', now: LATER })
        .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
    });
  });

  describe('when deleted', () => {
    const given = [created, adminAdded, { type: 'OrganisationDeleted', data: { organisationId: 1 } } satisfies OrganisationEvent];

    it('rejects a rename as not found', () => {
      spec(given).when({ type: 'RenameOrganisation', name: 'Acme Ltd' }).thenThrows(NotFoundError, withCode('ORGANISATION.NOT_FOUND'));
    });

    it('rejects creating it again as a conflict', () => {
      spec(given)
        .when({ type: 'CreateOrganisation', organisationId: 1, name: 'Acme', createdBy: null, now: LATER })
        .thenThrows(ConflictError, withCode('ORGANISATION.EXISTS'));
    });

    it('rejects issuing a key as not found', () => {
      spec(given)
        .when({ type: 'IssueOrganisationApiKey', keyId: 'k1', name: 'terraform', keyHash: 'b'.repeat(64), prefix: 'fl_o_abc', createdAt: NOW, role: 'member' })
        .thenThrows(NotFoundError, withCode('ORGANISATION.NOT_FOUND'));
    });
  });

  describe('evolve', () => {
    it('keeps members, keys and the revision of the last change to the organisation itself', () => {
      const events: OrganisationEvent[] = [
        created,
        adminAdded,
        { type: 'OrganisationRenamed', data: { organisationId: 1, name: 'Acme Ltd' } },
        memberAdded,
        { type: 'MemberRoleChanged', data: { organisationId: 1, userId: 8, role: 'admin' } },
        { type: 'MemberAdded', data: { organisationId: 1, userId: 9, role: 'member' } },
        { type: 'MemberRemoved', data: { organisationId: 1, userId: 7 } },
        keyIssued,
      ];
      const state = events.reduce((current, event, revision) => organisationDecider.evolve(current, event, revision), organisationDecider.initialState());
      expect(state).toEqual({
        status: 'active',
        organisationId: 1,
        name: 'Acme Ltd',
        createdAt: NOW,
        members: new Map([
          [8, 'admin'],
          [9, 'member'],
        ]),
        keys: new Map([
          ['k1', { keyId: 'k1', name: 'terraform', keyHash: 'b'.repeat(64), prefix: 'fl_o_abc', createdAt: NOW, role: 'admin', revokedAt: null }],
        ]),
        invitations: new Map(),
        revision: 2,
      });
    });
  });
});
