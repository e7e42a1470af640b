import {
  invitationStatus,
  NotFoundError,
  toOrganisationStreamName,
  type Invitation,
  type InvitationStatus,
  type OrganisationCommand,
  type Role,
  type User,
} from '@flagline/admin-domain';
import { randomUUID } from 'node:crypto';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { Lookup } from './lookup';
import { invitationView, type InvitationView } from './views';

export interface InviteInput {
  readonly email: string;
  readonly role: Role;
  readonly expiresInDays?: number;
}

const invitationNotFound = (): NotFoundError => new NotFoundError('INVITATION.NOT_FOUND', 'Invitation not found');

/**
 * Invitations: an organisation admin invites an email with a role; the user with that email
 * (registered before or after) lists, accepts or declines it with their own key. Nobody joins an
 * organisation without answering, and the answer to an invitation is the same whether or not the
 * email belongs to a registered user.
 */
export class InvitationsService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog);
  }

  private run(request: RequestContext, organisationId: number, command: OrganisationCommand) {
    return this.context.run(this.context.organisations, toOrganisationStreamName(organisationId), command, request, { organisationId });
  }

  async invite(request: RequestContext, organisationId: number, input: InviteInput): Promise<InvitationView> {
    this.lookup.organisation(request.principal, organisationId, 'admin', 'invite members');
    // One map lookup whether or not the email is registered: it only tells the decider whether the
    // invitee is already a member, which the inviting admin can see in the member list anyway.
    const registered = this.context.catalog.userByEmail(input.email);
    const result = await this.run(request, organisationId, {
      type: 'InviteMember',
      invitationId: randomUUID(),
      email: input.email,
      role: input.role,
      ...(input.expiresInDays !== undefined ? { expiresInDays: input.expiresInDays } : {}),
      registeredUserId: registered?.userId ?? null,
      now: this.context.now(),
    });
    // A replayed request names the invitation created the first time.
    return this.viewOf(result.state.invitations.get(eventOf(result.events, 'InvitationCreated').data.invitationId), result.state);
  }

  list(request: RequestContext, organisationId: number, status?: InvitationStatus): InvitationView[] {
    const organisation = this.lookup.organisation(request.principal, organisationId, 'admin', 'manage invitations');
    const now = this.context.now();
    return [...organisation.invitations.values()]
      .map((invitation) => invitationView(organisation, invitation, invitationStatus(invitation, now)))
      .filter((view) => status === undefined || view.status === status)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async revoke(request: RequestContext, organisationId: number, invitationId: string): Promise<void> {
    this.lookup.organisation(request.principal, organisationId, 'admin', 'manage invitations');
    await this.run(request, organisationId, { type: 'RevokeInvitation', invitationId, now: this.context.now() });
  }

  /** The caller's pending invitations, matched on their email. */
  mine(request: RequestContext): InvitationView[] {
    const user = this.invitee(request, () => new NotFoundError('USER.NOT_FOUND', 'This key belongs to an organisation, not to a user'));
    const now = this.context.now();
    return this.context.catalog
      .invitationsFor(user.email)
      .filter(({ invitation }) => invitationStatus(invitation, now) === 'pending')
      .map(({ organisation, invitation }) => invitationView(organisation, invitation, 'pending'))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  accept(request: RequestContext, invitationId: string): Promise<InvitationView> {
    return this.answer(request, invitationId, 'AcceptInvitation');
  }

  decline(request: RequestContext, invitationId: string): Promise<InvitationView> {
    return this.answer(request, invitationId, 'DeclineInvitation');
  }

  /**
   * Only the addressee answers. Anyone else, an organisation key included, is told the invitation
   * does not exist (the decider checks the email), so an invitation id is of no use to them.
   */
  private async answer(request: RequestContext, invitationId: string, type: 'AcceptInvitation' | 'DeclineInvitation'): Promise<InvitationView> {
    const user = this.invitee(request, invitationNotFound);
    const found = this.context.catalog.invitation(invitationId);
    if (!found) throw invitationNotFound();
    const organisationId = found.organisation.organisationId;
    const result = await this.run(request, organisationId, { type, invitationId, userId: user.userId, email: user.email, now: this.context.now() });
    return this.viewOf(result.state.invitations.get(invitationId), result.state);
  }

  private invitee(request: RequestContext, notFound: () => NotFoundError): User {
    const { principal } = request;
    const user = principal.kind === 'user' ? this.context.catalog.user(principal.userId) : undefined;
    if (!user) throw notFound();
    return user;
  }

  private viewOf(invitation: Invitation | undefined, organisation: Parameters<typeof invitationView>[0]): InvitationView {
    if (!invitation) throw new Error('invitation missing from the organisation after the command');
    return invitationView(organisation, invitation, invitationStatus(invitation, this.context.now()));
  }
}
