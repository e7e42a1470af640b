import type { DomainEvent } from '@flagline/event-sourcing';
import type { IssueKeyFields } from '../shared/api-key';

export const ROLES = ['admin', 'member'] as const;
/** An organisation role: admins manage members, keys, projects and environments; members manage flags. */
export type Role = (typeof ROLES)[number];

export type OrganisationCreated = DomainEvent<
  'OrganisationCreated',
  { organisationId: number; name: string; createdBy: number | null; createdAt: string }
>;
export type OrganisationRenamed = DomainEvent<'OrganisationRenamed', { organisationId: number; name: string }>;
export type OrganisationDeleted = DomainEvent<'OrganisationDeleted', { organisationId: number }>;
export type MemberAdded = DomainEvent<'MemberAdded', { organisationId: number; userId: number; role: Role }>;
export type MemberRoleChanged = DomainEvent<'MemberRoleChanged', { organisationId: number; userId: number; role: Role }>;
export type MemberRemoved = DomainEvent<'MemberRemoved', { organisationId: number; userId: number }>;
export type OrganisationApiKeyIssued = DomainEvent<'OrganisationApiKeyIssued', IssueKeyFields & { organisationId: number; role: Role }>;
export type OrganisationApiKeyRevoked = DomainEvent<'OrganisationApiKeyRevoked', { organisationId: number; keyId: string; revokedAt: string }>;
/** An admin invited an email address (normalised) to join with a role; it can be answered until `expiresAt`. */
export type InvitationCreated = DomainEvent<
  'InvitationCreated',
  { organisationId: number; invitationId: string; email: string; role: Role; createdAt: string; expiresAt: string }
>;
/** The invitee accepted; a `MemberAdded` for them follows in the same append. */
export type InvitationAccepted = DomainEvent<'InvitationAccepted', { organisationId: number; invitationId: string; userId: number; acceptedAt: string }>;
export type InvitationDeclined = DomainEvent<'InvitationDeclined', { organisationId: number; invitationId: string; userId: number; declinedAt: string }>;
export type InvitationRevoked = DomainEvent<'InvitationRevoked', { organisationId: number; invitationId: string; revokedAt: string }>;

export type OrganisationEvent =
  | OrganisationCreated
  | OrganisationRenamed
  | OrganisationDeleted
  | MemberAdded
  | MemberRoleChanged
  | MemberRemoved
  | OrganisationApiKeyIssued
  | OrganisationApiKeyRevoked
  | InvitationCreated
  | InvitationAccepted
  | InvitationDeclined
  | InvitationRevoked;
