import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { UserEvent } from './user.events';
import { toUserStreamName, userDecider } from './user.decider';

const NOW = '2026-02-01T10:00:00.000Z';
const LATER = '2026-02-02T10:00:00.000Z';

const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId: 7, email: 'ada@example.com', name: 'Ada', isSuperuser: false, registeredAt: NOW },
};
const keyIssued: UserEvent = {
  type: 'UserApiKeyIssued',
  data: { userId: 7, keyId: 'k1', name: 'ci', keyHash: 'a'.repeat(64), prefix: 'fl_u_abc', createdAt: NOW },
};
const keyRevoked: UserEvent = { type: 'UserApiKeyRevoked', data: { userId: 7, keyId: 'k1', revokedAt: NOW } };

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);

describe('User', () => {
  const spec = deciderSpecification(userDecider);

  it('is stored in the stream user-<id>', () => {
    expect(toUserStreamName(7)).toBe('user-7');
  });

  describe('when absent', () => {
    it('registers', () => {
      spec([])
        .when({ type: 'RegisterUser', userId: 7, email: 'ada@example.com', name: 'Ada', isSuperuser: true, now: NOW })
        .then({ type: 'UserRegistered', data: { userId: 7, email: 'ada@example.com', name: 'Ada', isSuperuser: true, registeredAt: NOW } });
    });

    it('rejects a profile change as not found', () => {
      spec([]).when({ type: 'ChangeUserProfile', name: 'Ada L.' }).thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });

    it('rejects a deletion as not found', () => {
      spec([]).when({ type: 'DeleteUser' }).thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });

    it('rejects issuing a key as not found', () => {
      spec([])
        .when({ type: 'IssueUserApiKey', keyId: 'k1', name: 'ci', keyHash: 'a'.repeat(64), prefix: 'fl_u_abc', createdAt: NOW })
        .thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });
  });

  describe('when registered', () => {
    it('rejects registering again as a conflict', () => {
      spec([registered])
        .when({ type: 'RegisterUser', userId: 7, email: 'other@example.com', name: 'Other', isSuperuser: false, now: LATER })
        .thenThrows(ConflictError, withCode('USER.EXISTS'));
    });

    it('changes the profile name', () => {
      spec([registered])
        .when({ type: 'ChangeUserProfile', name: 'Ada L.' })
        .then({ type: 'UserProfileChanged', data: { userId: 7, name: 'Ada L.' } });
    });

    it('does nothing when the name is unchanged', () => {
      spec([registered]).when({ type: 'ChangeUserProfile', name: 'Ada' }).thenNothingHappened();
    });

    it('changes the profile when the expected revision is current', () => {
      spec([registered, { type: 'UserProfileChanged', data: { userId: 7, name: 'Ada L.' } }])
        .when({ type: 'ChangeUserProfile', name: 'Ada Lovelace', expectedRevision: 1 })
        .then({ type: 'UserProfileChanged', data: { userId: 7, name: 'Ada Lovelace' } });
    });

    it('rejects a profile change at a stale revision', () => {
      spec([registered, { type: 'UserProfileChanged', data: { userId: 7, name: 'Ada L.' } }])
        .when({ type: 'ChangeUserProfile', name: 'Ada Lovelace', expectedRevision: 0 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('USER.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 0, actual: 1 });
        });
    });

    it('does not count key changes as profile revisions', () => {
      spec([registered, keyIssued]).when({ type: 'ChangeUserProfile', name: 'Ada L.', expectedRevision: 0 }).then({
        type: 'UserProfileChanged',
        data: { userId: 7, name: 'Ada L.' },
      });
    });

    it('deletes', () => {
      spec([registered]).when({ type: 'DeleteUser' }).then({ type: 'UserDeleted', data: { userId: 7 } });
    });

    it('deletes when the expected revision is current', () => {
      spec([registered]).when({ type: 'DeleteUser', expectedRevision: 0 }).then({ type: 'UserDeleted', data: { userId: 7 } });
    });

    it('rejects a deletion at a stale revision', () => {
      spec([registered]).when({ type: 'DeleteUser', expectedRevision: 3 }).thenThrows(PreconditionFailedError, withCode('USER.STALE_REVISION'));
    });

    it('issues an API key', () => {
      spec([registered])
        .when({ type: 'IssueUserApiKey', keyId: 'k1', name: 'ci', keyHash: 'a'.repeat(64), prefix: 'fl_u_abc', createdAt: NOW })
        .then(keyIssued);
    });

    it('revokes an issued key', () => {
      spec([registered, keyIssued])
        .when({ type: 'RevokeUserApiKey', keyId: 'k1', now: LATER })
        .then({ type: 'UserApiKeyRevoked', data: { userId: 7, keyId: 'k1', revokedAt: LATER } });
    });

    it('rejects revoking an unknown key as not found', () => {
      spec([registered, keyIssued])
        .when({ type: 'RevokeUserApiKey', keyId: 'k2', now: LATER })
        .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
    });

    it('rejects revoking a key twice as not found', () => {
      spec([registered, keyIssued, keyRevoked])
        .when({ type: 'RevokeUserApiKey', keyId: 'k1', now: LATER })
        .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
    });
  });

  describe('when deleted', () => {
    const deleted: UserEvent = { type: 'UserDeleted', data: { userId: 7 } };

    it('rejects a profile change as not found', () => {
      spec([registered, deleted]).when({ type: 'ChangeUserProfile', name: 'Ada L.' }).thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });

    it('rejects deleting again as not found', () => {
      spec([registered, deleted]).when({ type: 'DeleteUser' }).thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });

    it('rejects revoking a key as not found', () => {
      spec([registered, keyIssued, deleted])
        .when({ type: 'RevokeUserApiKey', keyId: 'k1', now: LATER })
        .thenThrows(NotFoundError, withCode('USER.NOT_FOUND'));
    });

    it('registers again', () => {
      spec([registered, deleted])
        .when({ type: 'RegisterUser', userId: 7, email: 'ada@example.com', name: 'Ada', isSuperuser: false, now: LATER })
        .then({ type: 'UserRegistered', data: { userId: 7, email: 'ada@example.com', name: 'Ada', isSuperuser: false, registeredAt: LATER } });
    });
  });

  describe('evolve', () => {
    it('keeps the profile, the keys and the revision of the last profile change', () => {
      const events: UserEvent[] = [registered, keyIssued, { type: 'UserProfileChanged', data: { userId: 7, name: 'Ada L.' } }, keyRevoked];
      const state = events.reduce((current, event, revision) => userDecider.evolve(current, event, revision), userDecider.initialState());
      expect(state).toEqual({
        status: 'active',
        userId: 7,
        email: 'ada@example.com',
        name: 'Ada L.',
        isSuperuser: false,
        registeredAt: NOW,
        keys: new Map([['k1', { keyId: 'k1', name: 'ci', keyHash: 'a'.repeat(64), prefix: 'fl_u_abc', createdAt: NOW, revokedAt: NOW }]]),
        revision: 2,
      });
    });
  });
});
