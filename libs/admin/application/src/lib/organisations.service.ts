import { checkRevision, ConflictError, ForbiddenError, toOrganisationStreamName, type Organisation, type Role } from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { newAdminKey, newKeyId } from './api-key.material';
import { Lookup, organisationNotFound } from './lookup';
import { requireRole, requireUserPrincipal, roleIn } from './principal';
import { apiKeyView, organisationView, type ApiKeyView, type MemberView, type OrganisationView, type Versioned } from './views';

export class OrganisationsService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  private organisation(request: RequestContext, organisationId: number, needed: Role, what: string): Organisation {
    return this.lookup.organisation(request.principal, organisationId, needed, what);
  }

  private run(request: RequestContext, organisationId: number, command: Parameters<AdminContext['organisations']['handle']>[1]) {
    return this.context.run(this.context.organisations, toOrganisationStreamName(organisationId), command, request, { organisationId });
  }

  async create(request: RequestContext, input: { name: string }): Promise<Versioned<OrganisationView>> {
    const user = requireUserPrincipal(request.principal, 'create organisations');
    const [organisationId] = await this.context.takeIds(request, 1);
    const id = organisationId as number;
    const result = await this.run(request, id, { type: 'CreateOrganisation', organisationId: id, name: input.name, createdBy: user.userId, now: this.context.now() });
    return { view: organisationView(result.state), revision: result.state.revision };
  }

  /** The caller's organisations now (with their role now), each as it was at the request's point. */
  async list(request: RequestContext): Promise<(OrganisationView & { role: Role })[]> {
    const { principal } = request;
    const catalog = this.context.catalog;
    const at = this.lookup.at(request);
    const mine =
      principal.kind === 'organisation-key'
        ? [{ organisationId: principal.organisationId, role: principal.role }]
        : catalog.organisationsOf(principal.userId).map(({ organisation, role }) => ({ organisationId: organisation.organisationId, role }));
    const found = await Promise.all(
      mine.map(async ({ organisationId, role }) => {
        const organisation = at ? await at.organisation(organisationId) : catalog.organisation(organisationId);
        return organisation ? [{ ...organisationView(organisation), role }] : [];
      }),
    );
    return found.flat();
  }

  async get(request: RequestContext, organisationId: number): Promise<Versioned<OrganisationView>> {
    const organisation = await this.lookup.readOrganisation(request, organisationId, 'member', 'read this organisation');
    return { view: organisationView(organisation), revision: organisation.revision };
  }

  async rename(request: RequestContext, organisationId: number, input: { name?: string }, expectedRevision?: number): Promise<Versioned<OrganisationView>> {
    const organisation = this.organisation(request, organisationId, 'admin', 'change the organisation');
    if (input.name === undefined) {
      checkRevision('organisation', expectedRevision, organisation.revision);
      return this.get(request, organisationId);
    }
    const result = await this.run(request, organisationId, { type: 'RenameOrganisation', name: input.name, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
    return { view: organisationView(result.state), revision: result.state.revision };
  }

  async delete(request: RequestContext, organisationId: number, expectedRevision?: number): Promise<void> {
    this.organisation(request, organisationId, 'admin', 'delete the organisation');
    const liveProjects = this.context.catalog.projectsOf(organisationId).length;
    await this.run(request, organisationId, { type: 'DeleteOrganisation', liveProjects, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  }

  async members(request: RequestContext, organisationId: number): Promise<MemberView[]> {
    const organisation = await this.lookup.readOrganisation(request, organisationId, 'member', 'list members');
    // As of a point, each member's profile as it was then (a user deleted since is still listed;
    // a profile changed since reads as it was), never today's profile of someone who has left.
    const at = this.lookup.at(request);
    const found = await Promise.all(
      [...organisation.members].map(async ([userId, role]) => {
        const user = at ? await at.user(userId) : this.context.catalog.user(userId);
        return user ? [{ userId, email: user.email, name: user.name, role }] : [];
      }),
    );
    return found.flat();
  }

  /**
   * Adds a user by id or email, without asking them: only the instance administrator may. Anyone
   * else is refused before the user is looked up, so the answer says nothing about who is
   * registered; organisation admins invite instead.
   */
  async addMember(request: RequestContext, organisationId: number, input: { userId?: number; email?: string; role: Role }): Promise<MemberView> {
    const { principal } = request;
    const catalog = this.context.catalog;
    if (!catalog.organisation(organisationId)) throw organisationNotFound();
    if (principal.kind !== 'user' || !principal.isSuperuser) {
      requireRole(catalog, principal, organisationId, 'member', 'manage members', organisationNotFound);
      throw new ForbiddenError('PERMISSION.SUPERUSER_REQUIRED', 'Only the instance administrator adds users directly; invite them with POST …/invitations');
    }
    const user = input.userId !== undefined ? catalog.user(input.userId) : input.email !== undefined ? catalog.userByEmail(input.email) : undefined;
    if (!user) throw new ConflictError('USER.UNKNOWN', 'No such user: register the user first');
    await this.run(request, organisationId, { type: 'AddMember', userId: user.userId, role: input.role });
    return { userId: user.userId, email: user.email, name: user.name, role: input.role };
  }

  async changeMemberRole(request: RequestContext, organisationId: number, userId: number, role: Role): Promise<MemberView> {
    this.organisation(request, organisationId, 'admin', 'manage members');
    await this.run(request, organisationId, { type: 'ChangeMemberRole', userId, role });
    const user = this.context.catalog.user(userId);
    return { userId, email: user?.email ?? '', name: user?.name ?? '', role };
  }

  async removeMember(request: RequestContext, organisationId: number, userId: number): Promise<void> {
    this.organisation(request, organisationId, 'admin', 'manage members');
    await this.run(request, organisationId, { type: 'RemoveMember', userId });
  }

  async listKeys(request: RequestContext, organisationId: number): Promise<ApiKeyView[]> {
    const organisation = await this.lookup.readOrganisation(request, organisationId, 'admin', 'manage API keys');
    return [...organisation.keys.values()].filter((key) => !key.revokedAt).map(apiKeyView);
  }

  async issueKey(request: RequestContext, organisationId: number, input: { name: string; role: Role }): Promise<ApiKeyView> {
    this.organisation(request, organisationId, 'admin', 'manage API keys');
    const material = newAdminKey();
    const keyId = newKeyId();
    const result = await this.run(request, organisationId, {
      type: 'IssueOrganisationApiKey',
      keyId,
      name: input.name,
      role: input.role,
      keyHash: material.keyHash,
      prefix: material.prefix,
      createdAt: this.context.now(),
    });
    // A replayed request names the key issued the first time; its secret cannot be shown again.
    const issued = eventOf(result.events, 'OrganisationApiKeyIssued').data.keyId;
    const key = result.state.keys.get(issued);
    if (!key) throw new Error('issued key missing from state');
    return { ...apiKeyView(key), ...(issued === keyId ? { key: material.key } : {}) };
  }

  async revokeKey(request: RequestContext, organisationId: number, keyId: string): Promise<void> {
    this.organisation(request, organisationId, 'admin', 'manage API keys');
    await this.run(request, organisationId, { type: 'RevokeOrganisationApiKey', keyId, now: this.context.now() });
  }

  roleOf(request: RequestContext, organisationId: number): Role | null {
    return roleIn(this.context.catalog, request.principal, organisationId);
  }
}
