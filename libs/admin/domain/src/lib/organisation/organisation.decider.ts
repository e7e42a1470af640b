import type { Decider } from '@flagline/event-sourcing';
import type { StoredApiKey } from '../shared/api-key';
import { checkRevision, ConflictError, NotFoundError, ValidationError } from '../shared/domain-error';
import {
  INVITATION_DEFAULT_DAYS,
  INVITATION_MAX_DAYS,
  INVITATION_MIN_DAYS,
  invitationExpiry,
  invitationStatus,
  normaliseEmail,
  type Invitation,
} from './invitation';
import type { OrganisationCommand } from './organisation.commands';
import type { OrganisationEvent, Role } from './organisation.events';

export interface OrganisationApiKey extends StoredApiKey {
  readonly role: Role;
}

export interface Organisation {
  readonly status: 'absent' | 'active' | 'deleted';
  readonly organisationId: number;
  readonly name: string;
  readonly createdAt: string;
  readonly members: ReadonlyMap<number, Role>;
  readonly keys: ReadonlyMap<string, OrganisationApiKey>;
  readonly invitations: ReadonlyMap<string, Invitation>;
  readonly revision: number;
}

export const toOrganisationStreamName = (organisationId: number): string => `organisation-${organisationId}`;

export function initialOrganisation(): Organisation {
  return { status: 'absent', organisationId: 0, name: '', createdAt: '', members: new Map(), keys: new Map(), invitations: new Map(), revision: -1 };
}

function active(state: Organisation): Organisation {
  if (state.status !== 'active') throw new NotFoundError('ORGANISATION.NOT_FOUND', 'Organisation not found');
  return state;
}

function adminCount(members: ReadonlyMap<number, Role>): number {
  return [...members.values()].filter((role) => role === 'admin').length;
}

const invitationNotFound = (): NotFoundError => new NotFoundError('INVITATION.NOT_FOUND', 'Invitation not found');

/**
 * The invitation an invitee answers, open at `now`. One addressed to another email is not found,
 * exactly like one that does not exist, so an invitation id is of no use to anyone else.
 */
function openInvitationFor(org: Organisation, invitationId: string, email: string, now: string): Invitation {
  const invitation = org.invitations.get(invitationId);
  if (!invitation || invitation.email !== normaliseEmail(email)) throw invitationNotFound();
  const status = invitationStatus(invitation, now);
  if (status === 'expired') throw new ConflictError('INVITATION.EXPIRED', `The invitation expired at ${invitation.expiresAt}`);
  if (status === 'revoked') throw new ConflictError('INVITATION.REVOKED', 'The invitation was revoked');
  if (status !== 'pending') throw new ConflictError('INVITATION.ANSWERED', `The invitation was already ${status}`);
  return invitation;
}

function inviteMember(org: Organisation, command: Extract<OrganisationCommand, { type: 'InviteMember' }>): OrganisationEvent {
  const days = command.expiresInDays ?? INVITATION_DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < INVITATION_MIN_DAYS || days > INVITATION_MAX_DAYS)
    throw new ValidationError('INVITATION.INVALID', [
      { field: 'expiresInDays', message: `must be a whole number of days from ${INVITATION_MIN_DAYS} to ${INVITATION_MAX_DAYS}` },
    ]);
  const email = normaliseEmail(command.email);
  if (command.registeredUserId !== null && org.members.has(command.registeredUserId))
    throw new ConflictError('MEMBER.EXISTS', `${email} is already a member`);
  if (org.invitations.has(command.invitationId)) throw new ConflictError('INVITATION.EXISTS', `Invitation id ${command.invitationId} is taken`);
  const pending = [...org.invitations.values()].some((invitation) => invitation.email === email && invitationStatus(invitation, command.now) === 'pending');
  if (pending) throw new ConflictError('INVITATION.PENDING', `${email} already has a pending invitation; revoke it first`);
  return {
    type: 'InvitationCreated',
    data: {
      organisationId: org.organisationId,
      invitationId: command.invitationId,
      email,
      role: command.role,
      createdAt: command.now,
      expiresAt: invitationExpiry(command.now, days),
    },
  };
}

export function decideOrganisation(command: OrganisationCommand, state: Organisation): OrganisationEvent | OrganisationEvent[] {
  switch (command.type) {
    case 'CreateOrganisation': {
      if (state.status !== 'absent') throw new ConflictError('ORGANISATION.EXISTS', 'Organisation already exists');
      const { organisationId, name, createdBy, now } = command;
      const created: OrganisationEvent = { type: 'OrganisationCreated', data: { organisationId, name, createdBy, createdAt: now } };
      return createdBy === null ? created : [created, { type: 'MemberAdded', data: { organisationId, userId: createdBy, role: 'admin' } }];
    }
    case 'RenameOrganisation': {
      const org = active(state);
      checkRevision('organisation', command.expectedRevision, org.revision);
      return org.name === command.name ? [] : { type: 'OrganisationRenamed', data: { organisationId: org.organisationId, name: command.name } };
    }
    case 'DeleteOrganisation': {
      const org = active(state);
      checkRevision('organisation', command.expectedRevision, org.revision);
      if (command.liveProjects > 0)
        throw new ConflictError('ORGANISATION.NOT_EMPTY', `Organisation still has ${command.liveProjects} project(s); delete them first`);
      return { type: 'OrganisationDeleted', data: { organisationId: org.organisationId } };
    }
    case 'AddMember': {
      const org = active(state);
      if (org.members.has(command.userId)) throw new ConflictError('MEMBER.EXISTS', `User ${command.userId} is already a member`);
      return { type: 'MemberAdded', data: { organisationId: org.organisationId, userId: command.userId, role: command.role } };
    }
    case 'ChangeMemberRole': {
      const org = active(state);
      const current = org.members.get(command.userId);
      if (!current) throw new NotFoundError('MEMBER.NOT_FOUND', `User ${command.userId} is not a member`);
      if (current === command.role) return [];
      if (current === 'admin' && adminCount(org.members) === 1)
        throw new ConflictError('MEMBER.LAST_ADMIN', 'An organisation keeps at least one admin');
      return { type: 'MemberRoleChanged', data: { organisationId: org.organisationId, userId: command.userId, role: command.role } };
    }
    case 'RemoveMember': {
      const org = active(state);
      const current = org.members.get(command.userId);
      if (!current) throw new NotFoundError('MEMBER.NOT_FOUND', `User ${command.userId} is not a member`);
      if (current === 'admin' && adminCount(org.members) === 1)
        throw new ConflictError('MEMBER.LAST_ADMIN', 'An organisation keeps at least one admin');
      return { type: 'MemberRemoved', data: { organisationId: org.organisationId, userId: command.userId } };
    }
    case 'IssueOrganisationApiKey': {
      const org = active(state);
      if (org.keys.has(command.keyId)) throw new ConflictError('API_KEY.EXISTS', `Key id ${command.keyId} is taken`);
      const { type: _type, ...key } = command;
      return { type: 'OrganisationApiKeyIssued', data: { organisationId: org.organisationId, ...key } };
    }
    case 'RevokeOrganisationApiKey': {
      const org = active(state);
      const key = org.keys.get(command.keyId);
      if (!key || key.revokedAt) throw new NotFoundError('API_KEY.NOT_FOUND', 'API key not found');
      return { type: 'OrganisationApiKeyRevoked', data: { organisationId: org.organisationId, keyId: command.keyId, revokedAt: command.now } };
    }
    case 'InviteMember':
      return inviteMember(active(state), command);
    case 'AcceptInvitation': {
      const org = active(state);
      const { role } = openInvitationFor(org, command.invitationId, command.email, command.now);
      const { invitationId, userId, now } = command;
      if (org.members.has(userId)) throw new ConflictError('MEMBER.EXISTS', 'You are already a member of this organisation');
      return [
        { type: 'InvitationAccepted', data: { organisationId: org.organisationId, invitationId, userId, acceptedAt: now } },
        { type: 'MemberAdded', data: { organisationId: org.organisationId, userId, role } },
      ];
    }
    case 'DeclineInvitation': {
      const org = active(state);
      openInvitationFor(org, command.invitationId, command.email, command.now);
      return { type: 'InvitationDeclined', data: { organisationId: org.organisationId, invitationId: command.invitationId, userId: command.userId, declinedAt: command.now } };
    }
    case 'RevokeInvitation': {
      const org = active(state);
      const invitation = org.invitations.get(command.invitationId);
      if (!invitation) throw invitationNotFound();
      const status = invitationStatus(invitation, command.now);
      if (status !== 'pending') throw new ConflictError('INVITATION.NOT_PENDING', `The invitation is ${status}; only a pending invitation can be revoked`);
      return { type: 'InvitationRevoked', data: { organisationId: org.organisationId, invitationId: command.invitationId, revokedAt: command.now } };
    }
  }
}

function closeInvitation(state: Organisation, invitationId: string, status: 'accepted' | 'declined' | 'revoked', at: string): Organisation {
  const invitation = state.invitations.get(invitationId);
  if (!invitation) return state;
  return { ...state, invitations: new Map(state.invitations).set(invitationId, { ...invitation, closed: { status, at } }) };
}

export function evolveOrganisation(state: Organisation, event: OrganisationEvent, revision: number): Organisation {
  switch (event.type) {
    case 'OrganisationCreated':
      return { ...initialOrganisation(), status: 'active', organisationId: event.data.organisationId, name: event.data.name, createdAt: event.data.createdAt, revision };
    case 'OrganisationRenamed':
      return { ...state, name: event.data.name, revision };
    case 'OrganisationDeleted':
      return { ...state, status: 'deleted', revision };
    case 'MemberAdded':
    case 'MemberRoleChanged':
      return { ...state, members: new Map(state.members).set(event.data.userId, event.data.role) };
    case 'MemberRemoved': {
      const members = new Map(state.members);
      members.delete(event.data.userId);
      return { ...state, members };
    }
    case 'OrganisationApiKeyIssued': {
      const { organisationId: _id, ...key } = event.data;
      return { ...state, keys: new Map(state.keys).set(key.keyId, { ...key, revokedAt: null }) };
    }
    case 'OrganisationApiKeyRevoked': {
      const key = state.keys.get(event.data.keyId);
      if (!key) return state;
      return { ...state, keys: new Map(state.keys).set(key.keyId, { ...key, revokedAt: event.data.revokedAt }) };
    }
    case 'InvitationCreated': {
      const { organisationId: _id, ...invitation } = event.data;
      return { ...state, invitations: new Map(state.invitations).set(invitation.invitationId, { ...invitation, closed: null }) };
    }
    case 'InvitationAccepted':
      return closeInvitation(state, event.data.invitationId, 'accepted', event.data.acceptedAt);
    case 'InvitationDeclined':
      return closeInvitation(state, event.data.invitationId, 'declined', event.data.declinedAt);
    case 'InvitationRevoked':
      return closeInvitation(state, event.data.invitationId, 'revoked', event.data.revokedAt);
  }
}

export const organisationDecider: Decider<Organisation, OrganisationCommand, OrganisationEvent> = {
  decide: decideOrganisation,
  evolve: evolveOrganisation,
  initialState: initialOrganisation,
};
