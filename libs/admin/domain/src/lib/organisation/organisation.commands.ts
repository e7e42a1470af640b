import type { IssueKeyFields } from '../shared/api-key';
import type { Role } from './organisation.events';

export type OrganisationCommand =
  | { type: 'CreateOrganisation'; organisationId: number; name: string; createdBy: number | null; now: string }
  | { type: 'RenameOrganisation'; name: string; expectedRevision?: number }
  | { type: 'DeleteOrganisation'; liveProjects: number; expectedRevision?: number }
  | { type: 'AddMember'; userId: number; role: Role }
  | { type: 'ChangeMemberRole'; userId: number; role: Role }
  | { type: 'RemoveMember'; userId: number }
  | ({ type: 'IssueOrganisationApiKey'; role: Role } & IssueKeyFields)
  | { type: 'RevokeOrganisationApiKey'; keyId: string; now: string }
  | {
      type: 'InviteMember';
      invitationId: string;
      email: string;
      role: Role;
      /** Days until it expires (default `INVITATION_DEFAULT_DAYS`). */
      expiresInDays?: number;
      /** The registered user with this email, if any: inviting a current member is a clash. */
      registeredUserId: number | null;
      now: string;
    }
  | { type: 'AcceptInvitation'; invitationId: string; userId: number; email: string; now: string }
  | { type: 'DeclineInvitation'; invitationId: string; userId: number; email: string; now: string }
  | { type: 'RevokeInvitation'; invitationId: string; now: string };
