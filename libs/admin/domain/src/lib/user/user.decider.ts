import type { Decider } from '@flagline/event-sourcing';
import type { StoredApiKey } from '../shared/api-key';
import { checkRevision, ConflictError, NotFoundError } from '../shared/domain-error';
import type { UserCommand } from './user.commands';
import type { UserEvent } from './user.events';

export interface User {
  readonly status: 'absent' | 'active' | 'deleted';
  readonly userId: number;
  readonly email: string;
  readonly name: string;
  readonly isSuperuser: boolean;
  readonly registeredAt: string;
  readonly keys: ReadonlyMap<string, StoredApiKey>;
  /** Stream revision of the last change to the profile. */
  readonly revision: number;
}

export const toUserStreamName = (userId: number): string => `user-${userId}`;

export function initialUser(): User {
  return { status: 'absent', userId: 0, email: '', name: '', isSuperuser: false, registeredAt: '', keys: new Map(), revision: -1 };
}

function activeUser(state: User): User {
  if (state.status !== 'active') throw new NotFoundError('USER.NOT_FOUND', 'User not found');
  return state;
}

export function decideUser(command: UserCommand, state: User): UserEvent | UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      if (state.status === 'active') throw new ConflictError('USER.EXISTS', `User ${command.userId} already exists`);
      return {
        type: 'UserRegistered',
        data: { userId: command.userId, email: command.email, name: command.name, isSuperuser: command.isSuperuser, registeredAt: command.now },
      };
    case 'ChangeUserProfile': {
      const user = activeUser(state);
      checkRevision('user', command.expectedRevision, user.revision);
      return user.name === command.name ? [] : { type: 'UserProfileChanged', data: { userId: user.userId, name: command.name } };
    }
    case 'DeleteUser': {
      const user = activeUser(state);
      checkRevision('user', command.expectedRevision, user.revision);
      return { type: 'UserDeleted', data: { userId: user.userId } };
    }
    case 'IssueUserApiKey': {
      const user = activeUser(state);
      if (user.keys.has(command.keyId)) throw new ConflictError('API_KEY.EXISTS', `Key id ${command.keyId} is taken`);
      const { type: _type, ...key } = command;
      return { type: 'UserApiKeyIssued', data: { userId: user.userId, ...key } };
    }
    case 'RevokeUserApiKey': {
      const user = activeUser(state);
      const key = user.keys.get(command.keyId);
      if (!key || key.revokedAt) throw new NotFoundError('API_KEY.NOT_FOUND', 'API key not found');
      return { type: 'UserApiKeyRevoked', data: { userId: user.userId, keyId: command.keyId, revokedAt: command.now } };
    }
  }
}

export function evolveUser(state: User, event: UserEvent, revision: number): User {
  switch (event.type) {
    case 'UserRegistered':
      return { ...initialUser(), status: 'active', ...event.data, revision };
    case 'UserProfileChanged':
      return { ...state, name: event.data.name, revision };
    case 'UserDeleted':
      return { ...state, status: 'deleted', revision };
    case 'UserApiKeyIssued': {
      const { userId: _userId, ...key } = event.data;
      return { ...state, keys: new Map(state.keys).set(key.keyId, { ...key, revokedAt: null }) };
    }
    case 'UserApiKeyRevoked': {
      const key = state.keys.get(event.data.keyId);
      if (!key) return state;
      return { ...state, keys: new Map(state.keys).set(key.keyId, { ...key, revokedAt: event.data.revokedAt }) };
    }
  }
}

export const userDecider: Decider<User, UserCommand, UserEvent> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUser,
};
