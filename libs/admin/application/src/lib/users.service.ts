import { checkRevision, ConflictError, NotFoundError, toOrganisationStreamName, toUserStreamName, type User } from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { newAdminKey, newKeyId } from './api-key.material';
import { requireSuperuser, type Principal } from './principal';
import { apiKeyView, userView, type ApiKeyView, type UserView, type Versioned } from './views';

export interface RegisterUserInput {
  readonly email: string;
  readonly name: string;
}

const userNotFound = (): NotFoundError => new NotFoundError('USER.NOT_FOUND', 'User not found');

/** The user themselves and the instance administrator see a user whole; others only through shared organisations. */
const seesAllOf = (principal: Principal, userId: number): boolean => principal.kind === 'user' && (principal.isSuperuser || principal.userId === userId);

export class UsersService {
  constructor(private readonly context: AdminContext) {}

  /** The user with the organisations the caller may know of: all of them for themselves and the administrator, else the shared ones. */
  private view(principal: Principal, user: User): Versioned<UserView> {
    const theirs = this.context.catalog.organisationsOf(user.userId);
    const mine = seesAllOf(principal, user.userId) ? null : this.organisationIdsOf(principal);
    return { view: userView(user, mine ? theirs.filter(({ organisation }) => mine.has(organisation.organisationId)) : theirs), revision: user.revision };
  }

  private organisationIdsOf(principal: Principal): Set<number> {
    if (principal.kind === 'organisation-key') return new Set([principal.organisationId]);
    return new Set(this.context.catalog.organisationsOf(principal.userId).map(({ organisation }) => organisation.organisationId));
  }

  /** A user the caller may see: themselves, any user for the administrator, or a fellow member of one of their organisations. */
  private visibleUser(principal: Principal, userId: number): User {
    const catalog = this.context.catalog;
    const user = catalog.user(userId);
    if (!user) throw userNotFound();
    if (seesAllOf(principal, userId)) return user;
    const mine = this.organisationIdsOf(principal);
    if (!catalog.organisationsOf(userId).some(({ organisation }) => mine.has(organisation.organisationId))) throw userNotFound();
    return user;
  }

  /** A user the caller may manage: themselves, or anyone for the administrator. */
  private manageableUser(principal: Principal, userId: number): User {
    const user = this.visibleUser(principal, userId);
    if (principal.kind !== 'user' || (!principal.isSuperuser && principal.userId !== userId)) throw userNotFound();
    return user;
  }

  async register(request: RequestContext, input: RegisterUserInput): Promise<Versioned<UserView>> {
    requireSuperuser(request.principal, 'register users');
    if (this.context.catalog.userByEmail(input.email) && !this.context.isRetry(request)) throw new ConflictError('USER.EMAIL_TAKEN', `A user with email ${input.email} already exists`);
    const [userId] = await this.context.takeIds(request, 1);
    const id = userId as number;
    const result = await this.context.run(
      this.context.users,
      toUserStreamName(id),
      { type: 'RegisterUser', userId: id, email: input.email, name: input.name, isSuperuser: false, now: this.context.now() },
      request,
      {},
    );
    return this.view(request.principal, result.state);
  }

  me(request: RequestContext): Versioned<UserView> {
    if (request.principal.kind !== 'user') throw new NotFoundError('USER.NOT_FOUND', 'This key belongs to an organisation, not to a user');
    return this.get(request, request.principal.userId);
  }

  get(request: RequestContext, userId: number): Versioned<UserView> {
    return this.view(request.principal, this.visibleUser(request.principal, userId));
  }

  async changeProfile(request: RequestContext, userId: number, input: { name?: string }, expectedRevision?: number): Promise<Versioned<UserView>> {
    const user = this.manageableUser(request.principal, userId);
    if (input.name === undefined) {
      checkRevision('user', expectedRevision, user.revision);
      return this.get(request, userId);
    }
    const result = await this.context.run(
      this.context.users,
      toUserStreamName(userId),
      { type: 'ChangeUserProfile', name: input.name, ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
      request,
      {},
    );
    return this.view(request.principal, result.state);
  }

  async delete(request: RequestContext, userId: number, expectedRevision?: number): Promise<void> {
    // A user the caller cannot see is not found, before the administrator-only rule says anything.
    const user = this.visibleUser(request.principal, userId);
    requireSuperuser(request.principal, 'delete users');
    if (user.isSuperuser) throw new ConflictError('USER.ADMINISTRATOR', 'The instance administrator cannot be deleted');
    checkRevision('user', expectedRevision, user.revision);
    // A deleted user leaves their organisations first: kept as a member, they would still count
    // as an admin, and an organisation could lose its last live admin.
    const memberships = this.context.catalog.organisationsOf(userId);
    const lastAdminOf = memberships.filter(
      ({ organisation, role }) => role === 'admin' && [...organisation.members.values()].filter((other) => other === 'admin').length === 1,
    );
    if (lastAdminOf.length > 0)
      throw new ConflictError(
        'MEMBER.LAST_ADMIN',
        `User ${userId} is the last admin of organisation(s) ${lastAdminOf.map(({ organisation }) => organisation.organisationId).join(', ')}; make another member admin first`,
      );
    // Each step appends to another stream, so each gets its own command id (a retry finds each).
    const step = (name: string): RequestContext => (request.commandId !== undefined ? { ...request, commandId: `${request.commandId}/${name}` } : request);
    for (const { organisation } of memberships) {
      const organisationId = organisation.organisationId;
      await this.context.run(this.context.organisations, toOrganisationStreamName(organisationId), { type: 'RemoveMember', userId }, step(`leave-${organisationId}`), { organisationId });
    }
    await this.context.run(this.context.users, toUserStreamName(userId), { type: 'DeleteUser', ...(expectedRevision !== undefined ? { expectedRevision } : {}) }, request, {});
  }

  listKeys(request: RequestContext, userId: number): ApiKeyView[] {
    const user = this.manageableUser(request.principal, userId);
    return [...user.keys.values()].filter((key) => !key.revokedAt).map(apiKeyView);
  }

  async issueKey(request: RequestContext, userId: number, input: { name: string }): Promise<ApiKeyView> {
    this.manageableUser(request.principal, userId);
    const material = newAdminKey();
    const keyId = newKeyId();
    const command = { type: 'IssueUserApiKey' as const, keyId, name: input.name, keyHash: material.keyHash, prefix: material.prefix, createdAt: this.context.now() };
    const result = await this.context.run(this.context.users, toUserStreamName(userId), command, request, {});
    // A replayed request names the key issued the first time; its secret cannot be shown again.
    const issued = eventOf(result.events, 'UserApiKeyIssued').data.keyId;
    const key = result.state.keys.get(issued);
    if (!key) throw new Error('issued key missing from state');
    return { ...apiKeyView(key), ...(issued === keyId ? { key: material.key } : {}) };
  }

  async revokeKey(request: RequestContext, userId: number, keyId: string): Promise<void> {
    this.manageableUser(request.principal, userId);
    await this.context.run(this.context.users, toUserStreamName(userId), { type: 'RevokeUserApiKey', keyId, now: this.context.now() }, request, {});
  }
}
